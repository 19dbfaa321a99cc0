"""Randomised series against promtool: hypothesis draws counters with resets, gaps and stale
markers and gauges with arbitrary floats (derandomised, bounded count); every range function
and a few instant operations are compared at times spread over and past each series; alert
annotations render drawn values of every magnitude through every formatting function.

Hypothesis also draws constants it finds in the loaded modules, so the examples of a whole-suite
run differ from those of this file alone; a failure prints its series and times to replay it."""

from __future__ import annotations

import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tabletop.signals.promtool_series import GAP, Value, decode, encode
from tabletop.signals.store import STALE

from .harness import ExprCase, RuleCase, run_cases

EXPRESSIONS = [
    "rate(counter[5m])", "irate(counter[5m])", "increase(counter[3m])", "delta(gauge[5m])", "idelta(gauge[4m])",
    "rate(counter[2m] offset 1m)", "resets(counter[10m])", "changes(gauge[10m])", "deriv(gauge[5m])",
    "predict_linear(gauge[5m], 600)", "avg_over_time(gauge[5m])", "min_over_time(gauge[5m])",
    "max_over_time(counter[5m])", "sum_over_time(gauge[5m])", "count_over_time(counter[5m])",
    "last_over_time(gauge[2m])", "quantile_over_time(0.3, gauge[5m])", "stddev_over_time(gauge[5m])",
    "stdvar_over_time(counter[5m])", "present_over_time(gauge[1m])", "absent_over_time(counter[1m])",
    "timestamp(gauge)", "gauge offset 2m", "counter > bool 100", "clamp(gauge, -5, 5)", "round(gauge, 0.25)",
    "ln(abs(gauge))", "exp(gauge / 1000)", "counter / ignoring(kind) gauge", "gauge atan2 counter",
    "histogram_quantile(0.9, rate(h_bucket[5m]))", "histogram_quantile(0.5, h_bucket)",
    "histogram_quantile(0.99, increase(h_bucket[3m]))",
]  # fmt: skip
BOUNDS = ("0.5", "1", "+Inf")

numbers = st.one_of(
    st.integers(-1000, 1000).map(float),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.1, 0.25, 1e-9, 123456.789, -0.0]),
)
events = st.sampled_from(["step"] * 8 + ["reset", "gap", "stale", "same"])


@st.composite
def counter_values(draw: st.DrawFn, length: int) -> list[Value]:
    """A counter: increases, resets to a smaller value, missed scrapes, stale markers."""
    values: list[Value] = []
    current = draw(st.integers(0, 100).map(float))
    for _ in range(length):
        event = draw(events)
        if event == "gap":
            values.append(GAP)
            continue
        if event == "stale":
            values.append(STALE)
            continue
        if event == "reset":
            current = draw(st.floats(0, max(current, 1.0) / 2))
        elif event == "step":
            current += abs(draw(numbers))
        values.append(current)
    return values


@st.composite
def gauge_values(draw: st.DrawFn, length: int) -> list[Value]:
    values: list[Value] = []
    current = 0.0
    for _ in range(length):
        event = draw(events)
        if event in ("gap", "stale"):
            values.append(GAP if event == "gap" else STALE)
            continue
        if event != "same":
            current = draw(numbers)
        values.append(current)
    return values


@st.composite
def histogram_values(draw: st.DrawFn, length: int) -> list[list[Value]]:
    """Cumulative buckets of one histogram (``BOUNDS``): they reset, miss scrapes and go stale together."""
    buckets: list[list[Value]] = [[] for _ in BOUNDS]
    counts = [0.0 for _ in BOUNDS]
    for _ in range(length):
        event = draw(events)
        if event in ("gap", "stale"):
            for bucket in buckets:
                bucket.append(GAP if event == "gap" else STALE)
            continue
        if event == "reset":
            counts = [0.0 for _ in BOUNDS]
        elif event == "step":
            below = 0.0
            for k in range(len(BOUNDS)):
                below += draw(st.integers(0, 50))
                counts[k] += below
        for bucket, count in zip(buckets, counts):
            bucket.append(count)
    return buckets


@st.composite
def cases(draw: st.DrawFn) -> tuple[float, list[tuple[str, list[Value]]], list[float]]:
    interval = draw(st.sampled_from([15.0, 30.0, 60.0]))
    length = draw(st.integers(3, 40))
    span = length * interval + 360
    times = sorted(set(draw(st.lists(st.integers(0, int(span)), min_size=4, max_size=10))))
    series = [('counter{kind="c"}', draw(counter_values(length))), ('gauge{kind="g"}', draw(gauge_values(length)))]
    series += [(f'h_bucket{{le="{le}"}}', values) for le, values in zip(BOUNDS, draw(histogram_values(length)))]
    return interval, series, [float(t) for t in times]


@functools.cache
def examples(count: int = 40) -> list[ExprCase]:
    """``count`` drawn cases (derandomised: see the module's note)."""
    collected: list[ExprCase] = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(cases())
    def collect(case: tuple[float, list[tuple[str, list[Value]]], list[float]]) -> None:
        interval, series, times = case
        if all(v in (GAP, STALE) for _, values in series for v in values):
            return
        encoded = [(text, encode(values)) for text, values in series]
        collected.append(ExprCase(f"random-{len(collected):02d}", encoded, EXPRESSIONS, times, interval))

    collect()
    return collected


def test_random_series_agree_with_promtool(promtool: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    drawn = examples()
    assert len(drawn) >= 30
    outcomes = run_cases(drawn, tmp_path_factory.mktemp("random"))
    failed = [case for case in drawn if outcomes[case.id].failures()]
    assert not failed, "\n\n".join(
        f"{case.id}: interval {case.interval:g}s, series {case.series}, times {case.times}:\n\n"
        + "\n\n".join(outcomes[case.id].failures()[:5])
        for case in failed[:3]
    )


def test_the_draws_hold_resets_gaps_and_stale_markers() -> None:
    """The strategy draws what the suite claims to cover."""
    texts = [values for case in examples() for _, values in case.series]
    assert any("stale" in text for text in texts) and any("_" in text.split() for text in texts)
    counters = [decode(case.series[0][1]) for case in examples()]
    numeric = [[v for v in values if isinstance(v, float)] for values in counters]
    assert any(b < a for values in numeric for a, b in zip(values, values[1:]))


ANNOTATIONS = {
    "humanize": "{{ $value | humanize }}", "humanize1024": "{{ $value | humanize1024 }}",
    "duration": "{{ $value | humanizeDuration }}", "percentage": "{{ $value | humanizePercentage }}",
    "printf": '{{ printf "%.3f|%v|%g|%e|%.2g|%10.4f" $value $value $value $value $value $value }}',
    "value": "{{ $value }}",
}


@functools.cache
def template_cases(count: int = 6) -> list[RuleCase]:
    """Alerts whose values hypothesis draws from every magnitude, rendered by every function."""
    collected: list[RuleCase] = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(st.one_of(st.floats(width=64), numbers, st.floats(-1e30, 1e30)), min_size=30, max_size=30))
    def collect(values: list[float]) -> None:
        series = [(f'tmpl{{i="{i:02d}"}}', encode([v, v])) for i, v in enumerate(values)]
        rules = [{"alert": "Rendered", "expr": "tmpl", "annotations": ANNOTATIONS}]
        collected.append(RuleCase(f"templates-{len(collected)}", series, [{"name": "t", "rules": rules}], end=60))

    collect()
    return collected


def test_random_values_render_as_prometheus_renders_them(promtool: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    outcomes = run_cases(template_cases(), tmp_path_factory.mktemp("templates"))
    problems = [problem for outcome in outcomes.values() for problem in outcome.failures()]
    assert not problems, "\n\n".join(problems[:5])
