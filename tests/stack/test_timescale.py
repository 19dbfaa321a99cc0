"""Rules rewritten for Prometheus on wall time (stack/timescale.py).

The oracle: real ``promtool test rules`` evaluates the original rules over series spaced at the
drill's virtual interval, and the rewritten rules over the same values spaced S times closer
with every evaluation S times sooner; the same alerts must fire at corresponding evaluations
and every checked expression must have the same values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import promql_parser as pp
import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tabletop.scenario.loader import load_scenario
from tabletop.scenario.rules import RuleGroup
from tabletop.signals.promtool import check_rule_files, run_promtool, run_unit_tests
from tabletop.signals.promtool_rules import dump_yaml, prom_duration, rule_file_text
from tabletop.stack.timescale import (
    Clock,
    TimescaleError,
    prometheus_durations,
    scale_expr,
    scale_rule_groups,
    scaled_rule_file,
)
from tests.parity.harness import seconds
from tests.prometheus_binaries import prometheus_binary

SCENARIOS = sorted(Path(__file__).parents[2].joinpath("scenarios").glob("*.yaml"))
AT_60 = Clock(speed=60, wall_origin=0, virtual_origin=0)
LIVE = Clock(speed=60, wall_origin=1_780_000_123.25, virtual_origin=1_767_254_400)
"""A drill started at 2026-01-01T08:00Z whose wall clock started at an arbitrary moment."""
V = "(1767254400 + (time() - 1780000123.25) * 60)"
"""Virtual ``time()`` on LIVE's clock."""
ALIGNED = Clock(speed=60, wall_origin=29_453_330, virtual_origin=1_767_254_400)
"""V0 - W0 * S = 54600 s = 91 * 10m: Prometheus's subquery grids fall on the drill's."""

# -- scale_expr on a table ---------------------------------------------------------------------------

TABLE = [
    # ranges, offsets, @
    ("x[5m]", AT_60, "x[5s]"),
    ("rate(x[5m])", AT_60, "(rate(x[5s]) / 60)"),
    ("irate(x[1m]) * deriv(y[2m])", AT_60, "(irate(x[1s]) / 60) * (deriv(y[2s]) / 60)"),
    ("increase(x[1h]) + delta(g[10m]) - idelta(g[1m])", AT_60, "increase(x[1m]) + delta(g[10s]) - idelta(g[1s])"),
    ("changes(x[10m]) + resets(x[10m])", AT_60, "changes(x[10s]) + resets(x[10s])"),
    ("avg_over_time(x[5m]) / quantile_over_time(0.9, x[5m])", AT_60,
     "avg_over_time(x[5s]) / quantile_over_time(0.9, x[5s])"),
    ("absent_over_time(x{job=\"a\"}[30m])", AT_60, 'absent_over_time(x{job="a"}[30s])'),
    ("x offset 5m", AT_60, "x offset 5s"),
    ("x offset -90s", AT_60, "x offset -1s500ms"),
    ("rate(x[5m] offset 1h)", AT_60, "(rate(x[5s] offset 1m) / 60)"),
    ("x @ 1767258000", LIVE, "x @ 1780000183.25"),
    ("x @ 1767258000 offset 1m", LIVE, "x @ 1780000183.25 offset 1s"),
    ("rate(x[5m] @ start())", LIVE, "(rate(x[5s] @ start()) / 60)"),
    ("x @ end() offset 10m", LIVE, "x @ end() offset 10s"),
    ("x[7m]", Clock(7, 0, 0), "x[1m]"),
    ("x[5m]", Clock(7, 0, 0), "x[42s857ms]"),
    # subqueries
    ("max_over_time(rate(x[5m])[10m:1m])", AT_60, "max_over_time((rate(x[5s]) / 60)[10s:1s])"),
    ("max_over_time(rate(x[5m])[1h:])", LIVE, "max_over_time((rate(x[5s]) / 60)[1m:])"),
    ("min_over_time(x[1h:5m] offset 1h)", AT_60, "min_over_time(x[1m:5s] offset 1m)"),
    ("max_over_time(deriv(x[10m])[1h:10m] @ 1767258000)", ALIGNED,
     "max_over_time((deriv(x[10s]) / 60)[1m:10s] @ 29453390)"),
    # time
    ("time()", LIVE, V),
    ("time() - job_last_success_timestamp_seconds > 1800", LIVE,
     f"{V} - job_last_success_timestamp_seconds > 1800"),
    ("timestamp(x)", LIVE, "(1767254400 + (timestamp(x) - 1780000123.25) * 60)"),
    ("time() - timestamp(up == 1)", AT_60,
     "(0 + (time() - 0) * 60) - (0 + (timestamp(up == 1) - 0) * 60)"),
    ("hour()", LIVE, f"hour(vector({V}))"),
    ("minute() + day_of_week() + day_of_month() + days_in_month() + month() + year() + day_of_year()", LIVE,
     " + ".join(f"{name}(vector({V}))" for name in
                ("minute", "day_of_week", "day_of_month", "days_in_month", "month", "year", "day_of_year"))),
    ("hour(job_last_success_timestamp_seconds)", LIVE, "hour(job_last_success_timestamp_seconds)"),
    ("vector(time())", LIVE, f"vector({V})"),
    ("predict_linear(disk_free[1h], 4 * 3600) < 0", AT_60, "predict_linear(disk_free[1m], (4 * 3600) / 60) < 0"),
    ("predict_linear(disk_free[6h], 86400)", AT_60, "predict_linear(disk_free[6m], 1440)"),
    ("predict_linear(disk_free[6h], 100)", Clock(7, 0, 0), "predict_linear(disk_free[51m25s714ms], 14.285714285714286)"),
    ("histogram_quantile(0.99, sum by (le) (rate(b_bucket{job=\"api\"}[5m]))) > 20", AT_60,
     'histogram_quantile(0.99, sum by (le) ((rate(b_bucket{job="api"}[5s]) / 60))) > 20'),
    # operators, modifiers, literals: printed as they were
    ("sum by (job, le) (x) / ignoring (le) group_left (team) y", AT_60,
     "sum by (job, le) (x) / ignoring (le) group_left (team) y"),
    ("sum without (instance) (x)", AT_60, "sum without (instance) (x)"),
    ("x > bool on (job) y", AT_60, "x > bool on (job) y"),
    ("a + on (x) group_right (y, z) b", AT_60, "a + on (x) group_right (y, z) b"),
    ("x and on () y or z unless ignoring (a) w", AT_60, "x and on () y or z unless ignoring (a) w"),
    ("topk(3, rate(x[5m]))", AT_60, "topk(3, (rate(x[5s]) / 60))"),
    ("count_values(\"le\", x)", AT_60, 'count_values("le", x)'),
    ("label_replace(x, \"range\", \"[5m]\", \"le\", \"(.*)\")", AT_60, 'label_replace(x, "range", "[5m]", "le", "(.*)")'),
    ("x{path=\"/a[5m]/b\", q=~\"offset 5m|rate\\\\(x\\\\[1m\\\\]\\\\)\"}", AT_60,
     'x{path="/a[5m]/b", q=~"offset 5m|rate\\\\(x\\\\[1m\\\\]\\\\)"}'),
    ("x{a=\"\\\"quoted\\\"\\n\"}", AT_60, 'x{a="\\"quoted\\"\\n"}'),
    ("-rate(x[5m]) ^ 2", AT_60, "-(rate(x[5s]) / 60) ^ 2"),
    ("2 ^ 3 ^ 2", AT_60, "2 ^ 3 ^ 2"),
    ("(2 ^ 3) ^ 2", AT_60, "(2 ^ 3) ^ 2"),
    ("(-2) ^ 2", AT_60, "(-2) ^ 2"),
    ("-2 ^ 2", AT_60, "-2 ^ 2"),
    ("1 - (2 - 3)", AT_60, "1 - (2 - 3)"),
    ("- -x", AT_60, "- -x"),
    ("1e-09 * x + Inf", AT_60, "1e-09 * x + Inf"),
    ("{__name__=~\"job:.*\"}", AT_60, '{__name__=~"job:.*"}'),
    ("vllm:e2e_request_latency_seconds_bucket", AT_60, "vllm:e2e_request_latency_seconds_bucket"),
    ("floor(x / 64) % 2 == 1", AT_60, "floor(x / 64) % 2 == 1"),
    ("absent(up{job=\"api\"})", AT_60, 'absent(up{job="api"})'),
]


@pytest.mark.parametrize(("expr", "clock", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_scale_expr(expr: str, clock: Clock, expected: str) -> None:
    scaled = scale_expr(expr, clock)
    assert scaled == expected
    pp.parse(scaled)
    assert repr(pp.parse(scaled)) == repr(pp.parse(expected))


@pytest.mark.parametrize("expr", [row[0] for row in TABLE if "rate" not in row[0] and "time" not in row[0]
                                  and "predict" not in row[0] and "deriv" not in row[0] and "()" not in row[0]
                                  and "@" not in row[0] and "stamp" not in row[0]])
def test_at_speed_one_nothing_but_the_per_second_and_time_functions_changes(expr: str) -> None:
    assert repr(pp.parse(scale_expr(expr, Clock(1, 0, 0)))) == repr(pp.parse(expr))


REFUSED = [
    ("rate(x[1ms])", AT_60, "range 1ms at speed 60x would last 0.0167 ms of wall time, below Prometheus's 1 ms"),
    ("x offset 10ms", AT_60, "offset 10ms at speed 60x"),
    ("max_over_time(x[1h:1m])", Clock(7, 0, 0), "subquery step 1m at speed 7x is 8571.43 ms of wall time"),
    ("max_over_time(x[1h:1m])", LIVE, "subquery step 1m: with this clock Prometheus evaluates it 45s of virtual"),
    ("ALERTS_FOR_STATE{alertname=\"A\"} > 0", AT_60, "ALERTS_FOR_STATE holds wall-clock activation times"),
    ("{__name__=\"ALERTS_FOR_STATE\"}", AT_60, "ALERTS_FOR_STATE holds wall-clock activation times"),
    ("x @ 10", Clock(60, 0, 1000), "@ 10 is wall time -16.5 with this clock, before 1970"),
    ("x @ -100", AT_60, "an @ timestamp before 1970"),
    ("rate(x[5m]", AT_60, "not a PromQL expression"),
]


@pytest.mark.parametrize(("expr", "clock", "message"), REFUSED, ids=[row[0] for row in REFUSED])
def test_what_cannot_be_exact_is_refused_by_name(expr: str, clock: Clock, message: str) -> None:
    with pytest.raises(TimescaleError) as error:
        scale_expr(expr, clock)
    assert message in str(error.value)
    assert expr.strip() in str(error.value)


def test_an_unknown_function_is_refused_rather_than_guessed() -> None:
    pp.register_extra_functions([pp.Function("tabletop_test_fn", [pp.ValueType.Vector], pp.ValueType.Vector)])
    try:
        with pytest.raises(TimescaleError, match=r"function tabletop_test_fn\(\) has no known behaviour"):
            scale_expr("tabletop_test_fn(x)", AT_60)
    finally:
        pp.clear_extra_functions()


def test_an_aligned_clock_allows_subqueries() -> None:
    assert ALIGNED.grid_offset(600) == 0 and LIVE.grid_offset(60) == 45
    assert scale_expr("max_over_time(x[1h:10m])", ALIGNED) == "max_over_time(x[1m:10s])"


@pytest.mark.parametrize("speed", [0, -1, math.inf, math.nan, "60"])
def test_a_clock_needs_a_positive_speed(speed: Any) -> None:
    with pytest.raises(TimescaleError, match="speed must be a positive number"):
        Clock(speed, 0, 0)


def test_clock_maps_both_ways() -> None:
    assert LIVE.virtual(LIVE.wall(1_767_258_000)) == 1_767_258_000
    assert LIVE.wall(1_767_254_400 + 3600) == 1_780_000_123.25 + 60


# -- rule groups and files ----------------------------------------------------------------------------

GROUPS = [RuleGroup.model_validate(g) for g in [
    {"name": "slo", "interval": "30s", "rules": [
        {"record": "job:errors:rate5m", "expr": "sum by (job) (rate(errors_total[5m]))", "labels": {"source": "r"}},
        {"alert": "Burn", "expr": "job:errors:rate5m > 1", "for": "5m", "keep_firing_for": "10m",
         "labels": {"severity": "page", "team": "{{ $labels.job }}"},
         "annotations": {"summary": "{{ $value | humanize }} errors/s for [5m]"}},
    ]},
    {"name": "default-interval", "rules": [{"alert": "Stale", "expr": "time() - last_success_timestamp_seconds > 1800"}]},
]]


def test_rule_groups_scale_their_durations_and_leave_templates() -> None:
    slo, default = scale_rule_groups(GROUPS, AT_60)
    assert slo.interval == 0.5 and default.interval is None
    record, alert = slo.rules
    assert record.expr == "sum by (job) ((rate(errors_total[5s]) / 60))" and record.labels == {"source": "r"}
    assert (alert.for_, alert.keep_firing_for) == (5.0, 10.0)
    assert alert.labels == GROUPS[0].rules[1].labels and alert.annotations == GROUPS[0].rules[1].annotations
    assert default.rules[0].expr == "(0 + (time() - 0) * 60) - last_success_timestamp_seconds > 1800"
    text = scaled_rule_file(GROUPS, AT_60)
    assert yaml.safe_load(text)["groups"][0]["interval"] == "500ms"
    assert yaml.safe_load(text)["groups"][0]["rules"][1]["for"] == "5s"


def test_every_rule_that_cannot_be_scaled_is_named_with_its_group() -> None:
    groups = [RuleGroup.model_validate({"name": "fast", "interval": "10ms", "rules": [
        {"alert": "Tiny", "expr": "rate(x[5m]) > 0", "for": "10ms"},
        {"record": "r:offset", "expr": "x offset 30ms"},
        {"alert": "Fine", "expr": "x > 0"},
    ]})]
    with pytest.raises(TimescaleError) as error:
        scale_rule_groups(groups, AT_60)
    lines = str(error.value).splitlines()
    assert lines == [
        "group 'fast': interval 10ms at speed 60x would last 0.167 ms of wall time, below Prometheus's 1 ms "
        "resolution: use a speed of at most 10x",
        "group 'fast', alert 'Tiny': for 10ms at speed 60x would last 0.167 ms of wall time, below Prometheus's "
        "1 ms resolution: use a speed of at most 10x",
        "group 'fast', record 'r:offset': offset 30ms at speed 60x would last 0.5 ms of wall time, below "
        "Prometheus's 1 ms resolution: use a speed of at most 30x (in 'x offset 30ms')",
    ]


def test_prometheus_durations() -> None:
    assert prometheus_durations(15, 30, clock=AT_60) == {
        "scrape_interval": "250ms", "scrape_timeout": "250ms", "evaluation_interval": "500ms",
        "query.lookback-delta": "5s"}
    assert prometheus_durations(15, 15, 600, clock=Clock(7, 0, 0))["query.lookback-delta"] == "1m25s714ms"
    with pytest.raises(TimescaleError, match="scrape_interval 15s at speed 100000x would last 0.15 ms"):
        prometheus_durations(15, 15, clock=Clock(100_000, 0, 0))
    with pytest.raises(TimescaleError, match="evaluation_interval must be a positive number"):
        prometheus_durations(15, 0, clock=AT_60)


# -- every bundled scenario ---------------------------------------------------------------------------

def _scenario_clock(path: Path) -> tuple[list[RuleGroup], Clock]:
    loaded = load_scenario(path)
    start = loaded.scenario.metadata.start.timestamp()
    return list(loaded.rule_groups), Clock(60, wall_origin=1_780_000_123.25, virtual_origin=start)


def _per_second_calls(expr: str) -> int:
    calls: list[str] = []
    pp.walk(pp.parse(expr), lambda node: calls.append(node.func.name) if isinstance(node, pp.Call) else None)
    return sum(name in ("rate", "irate", "deriv") for name in calls)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_bundled_rule_scales(path: Path) -> None:
    groups, clock = _scenario_clock(path)
    for group, scaled in zip(groups, scale_rule_groups(groups, clock)):
        for rule, out in zip(group.rules, scaled.rules):
            pp.parse(out.expr)
            assert out.expr.count(" / 60)") >= _per_second_calls(rule.expr), out.expr
            assert "[5m]" not in out.expr and ("time()" not in rule.expr or "* 60)" in out.expr)
            assert out.for_ == round(rule.for_ / 60, 3) and out.labels == rule.labels


def test_promtool_accepts_every_bundled_scenario_scaled(tmp_path: Path) -> None:
    prometheus_binary("promtool")
    files = []
    for path in SCENARIOS:
        file = tmp_path / f"{path.stem}.rules.yaml"
        file.write_text(scaled_rule_file(*_scenario_clock(path)), encoding="utf-8")
        files.append(file)
    ok, output = check_rule_files(*files)
    assert ok, output


def test_promtool_accepts_a_config_with_the_scaled_durations(tmp_path: Path) -> None:
    prometheus_binary("promtool")
    groups, clock = _scenario_clock(SCENARIOS[0])
    (tmp_path / "rules.yaml").write_text(scaled_rule_file(groups, clock), encoding="utf-8")
    durations = prometheus_durations(15, 30, clock=clock)
    config = {"global": {key: durations[key] for key in ("scrape_interval", "scrape_timeout", "evaluation_interval")},
              "rule_files": ["rules.yaml"],
              "scrape_configs": [{"job_name": "drill", "static_configs": [{"targets": ["127.0.0.1:9464"]}]}]}
    (tmp_path / "prometheus.yml").write_text(dump_yaml(config), encoding="utf-8")
    ok, output = run_promtool("check", "config", tmp_path / "prometheus.yml")
    assert ok, output


# -- the oracle: promtool on virtual time vs promtool on wall time ------------------------------------

STEP = 105.0
"""Virtual seconds between samples and between evaluations: 1.75 s of wall time at 60x, 15 s
at 7x. The rules' durations are multiples of 7m and 105 s so that every scaled one is a whole
number of milliseconds at both speeds, and the two runs see exactly the same samples."""
STEPS = 70
SPEEDS = [60, 7]


@dataclass(frozen=True)
class Case:
    id: str
    series: Sequence[tuple[str, str]]
    rules: Sequence[dict[str, Any]]
    exprs: Sequence[str] = field(default_factory=tuple)
    """Checked at every evaluation besides the alerts (recorded series, ALERTS, ...)."""

    def groups(self) -> list[RuleGroup]:
        return [RuleGroup.model_validate({"name": self.id, "rules": list(self.rules)})]


CASES = [
    Case("rate-threshold-for", [
        ('http_requests_total{job="api", code="200"}', "0+2100x70"),
        ('http_requests_total{job="api", code="500"}', "0+21x20 420+630x15 9870+21x35"),
    ], [
        {"record": "job:errors:rate7m", "expr": 'sum by (job) (rate(http_requests_total{code="500"}[7m]))'},
        {"alert": "HighErrorRatio", "for": "14m",
         "expr": 'sum by (job) (rate(http_requests_total{code="500"}[7m])) / sum by (job) (rate(http_requests_total[7m])) > 0.05',
         "labels": {"severity": "page"}, "annotations": {"ratio": "{{ $value | humanizePercentage }}"}},
    ], ["job:errors:rate7m", "ALERTS", 'irate(http_requests_total{code="500"}[7m])']),
    Case("increase-keep-firing", [("jobs_failed_total", "0x20 1 2 3 4 5 6 6x45")], [
        {"alert": "JobsFailing", "expr": "increase(jobs_failed_total[14m]) > 2", "keep_firing_for": "7m",
         "annotations": {"n": "{{ $value | humanize }}"}},
    ], ["increase(jobs_failed_total[14m])", "changes(jobs_failed_total[7m])"]),
    Case("histogram-quantile-of-rates", [
        ('latency_seconds_bucket{le="0.1"}', "0+90x30 2700+10x40"),
        ('latency_seconds_bucket{le="0.5"}', "0+99x30 2970+50x40"),
        ('latency_seconds_bucket{le="1"}', "0+100x30 3000+95x40"),
        ('latency_seconds_bucket{le="+Inf"}', "0+100x70"),
    ], [
        {"record": "p90", "expr": "histogram_quantile(0.9, sum by (le) (rate(latency_seconds_bucket[7m])))"},
        {"alert": "SlowRequests", "expr": "p90 > 0.5", "for": "7m"},
    ], ["p90"]),
    Case("time-and-timestamps", [
        ('job_last_success_timestamp_seconds{job="etl"}', "0x10 1050x30 4200x30"),
        ('heartbeat{job="etl"}', "1 _ 1 _ _ 1 1 _ _ 1x61"),
    ], [
        {"alert": "EtlStale", "expr": "time() - job_last_success_timestamp_seconds > 1800", "for": "210s",
         "annotations": {"age": "{{ $value | humanizeDuration }}"}},
        {"record": "heartbeat:age", "expr": "time() - timestamp(heartbeat)"},
        {"record": "clock:hour_minute", "expr": "hour() * 100 + minute()"},
    ], ["heartbeat:age", "clock:hour_minute", "time()", "day_of_week()",
        "minute(job_last_success_timestamp_seconds)"]),
    Case("predict-linear-and-deriv", [("disk_free_bytes", "100000000-100000x30 97000000-1000000x40")], [
        {"alert": "DiskFullIn4h", "expr": "predict_linear(disk_free_bytes[14m], 4 * 3600) < 0", "for": "7m"},
        {"record": "disk:deriv", "expr": "deriv(disk_free_bytes[14m])"},
        {"record": "disk:in1h", "expr": "predict_linear(disk_free_bytes[14m], 3600)"},
    ], ["disk:deriv", "disk:in1h"]),
    Case("avg-over-time", [("queue_depth", "0x20 5 10 15 20 25x20 3x27")], [
        {"alert": "QueueBuilding", "expr": "avg_over_time(queue_depth[7m]) > 10", "for": "210s"},
    ], ["avg_over_time(queue_depth[7m])", "max_over_time(queue_depth[14m])"]),
    Case("subquery", [("requests_total", "0+210x20 4200+1050x10 14700+105x40")], [
        {"alert": "RateSpiked", "expr": "max_over_time(rate(requests_total[7m])[28m:7m]) > 5"},
        {"record": "rate:max28m", "expr": "max_over_time(rate(requests_total[7m])[28m:])"},
    ], ["rate:max28m", "min_over_time(requests_total[14m:7m] offset 7m)"]),
    Case("offset-and-at", [("requests_total", "0+210x20 4200+1050x10 14700+105x40")], [
        {"alert": "Surge", "expr": "rate(requests_total[7m]) > 2 * rate(requests_total[7m] offset 14m)", "for": "210s"},
    ], ["requests_total offset 7m", "sum(requests_total @ 2100)", "rate(requests_total[7m] @ 2100)"]),
]

_BLOCK = re.compile(r"^ {4}(alertname|expr): (.*?), time: ([0-9a-zµ.]+),(.*?)(?=^ {4}\S|\Z)", re.M | re.S)
_ALERT = re.compile(r"Labels:(\{.*\})\s*\n\s*Annotations:(\{.*\})")
_SAMPLE = re.compile(r'(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\}) (\S+?)(?:,|$)', re.M)


@dataclass
class Run:
    """What promtool computed: at each evaluation step, each alert's firing alerts (labels and
    annotations, as promtool prints them) and each expression's samples."""

    alerts: dict[tuple[str, int], list[tuple[str, str]]]
    values: dict[tuple[str, int], list[tuple[str, float]]]


def _run(case: Case, groups: list[RuleGroup], speed: float, directory: Path) -> Run:
    """promtool over the case's series spaced STEP / speed apart, evaluating ``groups`` every
    STEP / speed, asked for nothing so that its complaints state everything it computed."""
    step = STEP / speed
    exprs = [expr if speed == 1 else scale_expr(expr, Clock(speed, 0, 0)) for expr in case.exprs]
    times = [prom_duration(k * step) for k in range(STEPS + 1)]
    alertnames = [rule.alert for group in groups for rule in group.rules if rule.alert]
    test = {
        "interval": prom_duration(step),
        "input_series": [{"series": s, "values": v} for s, v in case.series],
        "alert_rule_test": [{"eval_time": t, "alertname": a, "exp_alerts": []} for t in times for a in alertnames],
        "promql_expr_test": [{"expr": e, "eval_time": t, "exp_samples": []} for t in times for e in exprs],
    }
    (directory / "rules.yaml").write_text(rule_file_text(groups), encoding="utf-8")
    document = {"rule_files": ["rules.yaml"], "evaluation_interval": prom_duration(step), "tests": [test]}
    (directory / "test.yaml").write_text(dump_yaml(document), encoding="utf-8")
    _, output = run_unit_tests(directory / "test.yaml")
    run = Run({}, {})
    names = dict(zip(exprs, case.exprs))
    for kind, what, at, body in _BLOCK.findall(output):
        k = round(seconds(at) / step)
        got = body.partition("got:")[2]
        assert not body.startswith(" err:") and got, f"{case.id} at {speed}x: promtool failed:\n{output}"
        if kind == "alertname":
            run.alerts[(what, k)] = sorted(_ALERT.findall(got))
        else:
            run.values[(names[yaml.safe_load(what)], k)] = sorted((labels, float(v)) for labels, v in _SAMPLE.findall(got))
    rest = {line.strip() for line in _BLOCK.sub("", output).splitlines()} - {"", "FAILED:", "SUCCESS"}
    assert all(line.startswith("Unit Testing:") for line in rest), f"{case.id} at {speed}x: promtool said:\n{output}"
    return run


def _differences(virtual: Run, scaled: Run) -> list[str]:
    out = []
    for key in sorted(virtual.alerts.keys() | scaled.alerts.keys()):
        if virtual.alerts.get(key, []) != scaled.alerts.get(key, []):
            out.append(f"alert {key[0]} at step {key[1]}: {virtual.alerts.get(key)} vs {scaled.alerts.get(key)}")
    for key in sorted(virtual.values.keys() | scaled.values.keys()):
        a, b = virtual.values.get(key, []), scaled.values.get(key, [])
        same = [la for la, _ in a] == [lb for lb, _ in b] and all(
            math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(x) and math.isnan(y))
            for (_, x), (_, y) in zip(a, b))
        if not same:
            out.append(f"{key[0]} at step {key[1]}: {a} vs {b}")
    return out


@pytest.fixture(scope="module")
def virtual_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    prometheus_binary("promtool")
    return {case.id: _run(case, case.groups(), 1, tmp_path_factory.mktemp(case.id)) for case in CASES}


@pytest.mark.parametrize("speed", SPEEDS)
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_promtool_fires_the_scaled_rules_as_the_originals(case: Case, speed: int, virtual_runs: dict[str, Run],
                                                           tmp_path: Path) -> None:
    virtual = virtual_runs[case.id]
    alertnames = {rule["alert"] for rule in case.rules if "alert" in rule}
    assert {name for (name, _), alerts in virtual.alerts.items() if alerts} == alertnames, "every alert should fire"
    assert all(any(values for (e, _), values in virtual.values.items() if e == expr) for expr in case.exprs)
    scaled = _run(case, scale_rule_groups(case.groups(), Clock(speed, 0, 0)), speed, tmp_path)
    assert not _differences(virtual, scaled), "\n".join(_differences(virtual, scaled))


def test_prometheus_puts_subquery_points_on_multiples_of_the_step_since_1970(tmp_path: Path) -> None:
    """Why a clock whose grid misses the drill's is refused: at 51s, x[10s:4s] reads x at 44s and
    48s (multiples of 4s), not at 41s, 45s and 49s (steps back from the evaluation)."""
    prometheus_binary("promtool")
    test = {"interval": "1s", "input_series": [{"series": "x", "values": "0+1x100"}],
            "promql_expr_test": [{"expr": "min_over_time(x[10s:4s])", "eval_time": "51s",
                                  "exp_samples": [{"labels": "{}", "value": 44}]}]}
    (tmp_path / "test.yaml").write_text(dump_yaml({"evaluation_interval": "1s", "tests": [test]}), encoding="utf-8")
    ok, output = run_unit_tests(tmp_path / "test.yaml")
    assert ok, output


def test_the_oracle_sees_rules_left_on_virtual_time(virtual_runs: dict[str, Run], tmp_path: Path) -> None:
    """Without the rewrite (or at the wrong speed) the same comparison fails."""
    case = CASES[0]
    for name in ("unscaled", "wrong"):
        (tmp_path / name).mkdir()
    unscaled = _run(case, case.groups(), 60, tmp_path / "unscaled")
    assert _differences(virtual_runs[case.id], unscaled)
    wrong = _run(case, scale_rule_groups(case.groups(), Clock(7, 0, 0)), 60, tmp_path / "wrong")
    assert _differences(virtual_runs[case.id], wrong)


# -- properties -----------------------------------------------------------------------------------

_names = st.sampled_from(["x", "up", "http_requests_total", "vllm:e2e_seconds_bucket"])
_label_names = st.sampled_from(["job", "le", "on", "bool", "a_b"])
_values = st.text(st.sampled_from(list('ab"\\[]{}:5m\né, ')), max_size=6)
_ops = st.sampled_from(["=", "!=", "=~", "!~"])
_durations = st.sampled_from(["1ms", "250ms", "1s", "1m30s", "5m", "7m", "1h", "1d"])


@st.composite
def _selector(draw: Any) -> str:
    matchers = draw(st.lists(st.tuples(_label_names, _ops, _values), max_size=2, unique_by=lambda m: m[0]))
    inside = ", ".join(f"{n}{op}{_quote(v) if '~' not in op else _quote(re.escape(v))}" for n, op, v in matchers)
    return draw(_names) + (f"{{{inside}}}" if inside else "")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


@st.composite
def _instant(draw: Any) -> str:
    out = draw(_selector())
    if draw(st.booleans()):
        out += f" @ {draw(st.integers(0, 2_000_000_000_000)) / 1000}"
    if draw(st.booleans()):
        out += f" offset {draw(st.sampled_from(['', '-']))}{draw(_durations)}"
    return out


@st.composite
def _range_call(draw: Any, functions: Sequence[str]) -> str:
    inner = f"{draw(_selector())}[{draw(_durations)}]"
    if draw(st.booleans()):
        inner = f"{draw(_instant())}[{draw(_durations)}:{draw(st.sampled_from(['', '1m', '5m']))}]"
    return f"{draw(st.sampled_from(functions))}({inner})"


def _expressions(functions: Sequence[str]) -> st.SearchStrategy[str]:
    leaves = st.one_of(_instant(), _range_call(functions), st.floats(-1e6, 1e6).map(repr),
                       st.just('label_replace(up, "dst", "[5m] offset 1h", "src", "(.*)")'))

    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        arithmetic = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "%", "^", "atan2"]), children)
        comparison = st.tuples(children, st.sampled_from(["==", "!=", ">", "<", ">=", "<="]), children)
        return st.one_of(
            children.map(lambda e: f"({e})"),
            children.map(lambda e: f"-{e}"),
            arithmetic.map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
            comparison.map(lambda t: f"{t[0]} {t[1]} bool {t[2]}"),
            st.tuples(children, st.sampled_from(["and", "or", "unless"]), children, _label_names).map(
                lambda t: f"{t[0]} {t[1]} on ({t[3]}) {t[2]}"),
            st.tuples(_selector(), st.sampled_from(["*", "/"]), _selector(), _label_names).map(
                lambda t: f"{t[0]} {t[1]} ignoring ({t[3]}) group_left ({t[3]}) {t[2]}"),
            st.tuples(st.sampled_from(["sum", "max", "count"]), st.sampled_from(["by", "without"]), _label_names,
                      children).map(lambda t: f"{t[0]} {t[1]} ({t[2]}) ({t[3]})"),
            children.map(lambda e: f"topk(2, {e})"),
        )

    return st.recursive(leaves, extend, max_leaves=6)


def _parses(expr: str) -> bool:
    try:
        pp.parse(expr)
    except ValueError:
        return False
    return True


VALUE_ONLY = ["avg_over_time", "increase", "changes", "max_over_time", "absent_over_time"]


@settings(max_examples=150, derandomize=True, database=None, deadline=None)
@given(_expressions(VALUE_ONLY))
def test_at_speed_one_the_rewrite_is_the_same_expression(expr: str) -> None:
    assume(_parses(expr))
    assert repr(pp.parse(scale_expr(expr, Clock(1, 0, 0)))) == repr(pp.parse(expr))


def _walked(expr: str) -> dict[str, list[Any]]:
    """Ranges (ms), string values and per-second calls of an expression."""
    found: dict[str, list[Any]] = {"ranges": [], "strings": [], "per_second": []}

    def visit(node: Any) -> None:
        if isinstance(node, pp.MatrixSelector | pp.SubqueryExpr):
            found["ranges"].append(round(node.range.total_seconds() * 1000))
        if isinstance(node, pp.StringLiteral):
            found["strings"].append(node.val)
        if isinstance(node, pp.VectorSelector):
            found["strings"] += [m.value for m in node.matchers.matchers]
        if isinstance(node, pp.Call) and node.func.name in ("rate", "irate", "deriv"):
            found["per_second"].append(node.func.name)

    pp.walk(pp.parse(expr), visit)
    return found


@settings(max_examples=150, derandomize=True, database=None, deadline=None)
@given(_expressions(VALUE_ONLY + ["rate", "irate", "deriv"]), st.sampled_from([2, 7, 60]))
def test_scaled_ranges_are_the_originals_over_the_speed(expr: str, speed: int) -> None:
    assume(_parses(expr))
    clock = Clock(speed, 0, 0)
    try:
        scaled = scale_expr(expr, clock)
    except TimescaleError as error:
        assert "below Prometheus's 1 ms resolution" in str(error) or "subquery step" in str(error)
        return
    before, after = _walked(expr), _walked(scaled)
    assert after["ranges"] == [round(ms / speed) for ms in before["ranges"]]
    assert after["strings"] == before["strings"] and after["per_second"] == before["per_second"]
    assert scaled.count(f" / {speed})") >= len(before["per_second"])
