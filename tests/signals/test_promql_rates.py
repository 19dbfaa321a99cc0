"""rate, increase, delta, irate, idelta: Prometheus 2.42's extrapolation and counter resets."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tabletop.signals.promql.range_functions import KERNELS, Window
from tabletop.signals.store import SeriesStore

from . import load, query


@pytest.fixture
def store() -> SeriesStore:
    s = SeriesStore()
    # 30 s interval. "reset": 3, 9, 15, 1, 7 at t = 30, 90, 150, 210, 270 (a reset at 210).
    load(s, 'c{a="reset"}', "_ 3 _ 9 _ 15 _ 1 _ 7", interval=30.0)
    # "late": a counter born at t=150: 10, 20, 30 at 150, 210, 270.
    load(s, 'c{a="late"}', "_ _ _ _ _ 10 _ 20 _ 30", interval=30.0)
    load(s, 'g{a="late"}', "_ _ _ _ _ 10 _ 20 _ 30", interval=30.0)
    return s


def test_increase_corrects_the_reset_and_extrapolates_to_both_ends(store: SeriesStore) -> None:
    # 7 - 3 + 15 (the value before the reset) = 19 over the 240 s between first and last
    # sample; both gaps to the range ends (30 s) are below 1.1 × 60 s, so the result is
    # extrapolated to the full 300 s: 19 × 300 / 240.
    assert query(store, 'increase(c{a="reset"}[5m])', 300.0) == {'{a="reset"}': 23.75}
    assert query(store, 'rate(c{a="reset"}[5m])', 300.0) == {'{a="reset"}': 23.75 / 300}


def test_counter_is_not_extrapolated_below_zero(store: SeriesStore) -> None:
    # First sample 10 at t=150, 150 s after the range start: more than 1.1 × 60 s, but the
    # counter would reach zero 120 × 10/20 = 60 s before its first sample, and Prometheus 2.42
    # clamps the start gap to that before the threshold test: 60 < 66, so the interval is
    # 120 + 60 + 30 = 210 s and the increase 20 × 210 / 120.
    assert query(store, 'increase(c{a="late"}[5m])', 300.0) == {'{a="late"}': 35.0}


def test_gauge_delta_extrapolates_half_an_interval_at_a_gap(store: SeriesStore) -> None:
    # No zero clamp for gauges: the 150 s gap gets half the average interval (30 s).
    assert query(store, 'delta(g{a="late"}[5m])', 300.0) == {'{a="late"}': 30.0}


def test_fewer_than_two_samples_give_no_rate(store: SeriesStore) -> None:
    assert query(store, "rate(c[1m])", 300.0) == {}  # one sample (270) in [240, 300]
    assert query(store, "rate(c[5m])", 30.0) == {}


def test_exact_rate_without_extrapolation() -> None:
    store = SeriesStore()
    load(store, "c", "0+10x10")  # 0, 10, ..., 100 at t = 0, 60, ..., 600
    # Samples at both ends of [300, 600]: 50 in 300 s. Prometheus computes the factor
    # (300 / 300) / 300 first, hence 50 × (1/300) rather than 50 / 300.
    assert query(store, "rate(c[5m])", 600.0) == {"{}": 50 * (1 / 300)}
    assert query(store, "increase(c[5m])", 600.0) == {"{}": 50.0}


def test_irate_and_idelta_use_the_last_two_samples(store: SeriesStore) -> None:
    assert query(store, 'irate(c{a="reset"}[5m])', 300.0) == {'{a="reset"}': 6 / 60}
    # Across the reset (15 → 1) irate takes the new value as the increase.
    assert query(store, 'irate(c{a="reset"}[5m])', 240.0) == {'{a="reset"}': 1 / 60}
    assert query(store, 'idelta(g[5m])', 300.0) == {'{a="late"}': 10.0}


def test_rate_drops_the_metric_name_and_checks_for_collisions() -> None:
    store = SeriesStore()
    load(store, 'a{job="x"}', "1 2 3")
    load(store, 'b{job="x"}', "1 2 3")
    # 1, 2, 3 at 0, 60, 120: the counter reaches zero 60 s before its first sample, so the
    # increase is 2 × (120 + 60) / 120 = 3 over the 5 m range.
    assert query(store, 'rate(a[5m])', 120.0) == {'{job="x"}': 3 / 300}
    with pytest.raises(ValueError, match="same labelset"):
        query(store, 'rate({__name__=~"a|b"}[5m])', 120.0)
    assert set(query(store, 'last_over_time({__name__=~"a|b"}[5m])', 120.0)) == {'a{job="x"}', 'b{job="x"}'}


def _reference_increase(vs: list[float]) -> float:
    """Counter-reset-corrected difference exactly as Prometheus's loop computes it."""
    result = vs[-1] - vs[0]
    prev = vs[0]
    for v in vs[1:]:
        if v < prev:
            result += prev
        prev = v
    return result


@given(
    st.lists(
        st.one_of(st.floats(min_value=0, max_value=1e6), st.just(math.nan)),
        min_size=2,
        max_size=80,
    )
)
def test_reset_detection_matches_prometheus_loop(values: list[float]) -> None:
    # The kernel skips the reset loop when sorting leaves the window unchanged. With the range
    # exactly covering the samples there is no extrapolation, so the result must be the loop's.
    ts = [float(i) for i in range(len(values))]
    w = Window(0.0, ts[-1], ts[-1], ts[-1])
    got = KERNELS["increase"](ts, values, 0, len(values), w, math.nan)
    expected = _reference_increase(values)
    assert got == expected or (math.isnan(got) and math.isnan(expected))  # type: ignore[arg-type]


@given(st.lists(st.lists(st.one_of(st.none(), st.floats(0, 50)), min_size=3, max_size=3), min_size=2, max_size=40),
       st.sampled_from(["rate", "increase"]))
def test_a_block_of_series_sharing_timestamps_gives_what_separate_series_give(rows, function) -> None:
    """A target's counters share one timestamp list (``SeriesStore.block``) and rate finds the
    window once for all of them; with resets (values may fall) and scrapes where the target
    is down (None: every member goes stale), each member's rate is its own."""
    from tabletop.signals.promql import parse_query

    shared, separate = SeriesStore(), SeriesStore()
    block_sids = [shared.series_id("c", {"i": str(i)}) for i in range(3)]
    block = shared.block(block_sids)
    assert block is not None
    sids = [separate.series_id("c", {"i": str(i)}) for i in range(3)]
    for k, row in enumerate(rows):
        down = any(v is None for v in row)
        for store in (shared, separate):
            store.begin_scrape(15.0 * (k + 1))
        if not down:
            shared.add_block(block, row)
            separate.add_many(sids, row)
        for store in (shared, separate):
            store.end_scrape()
    q = parse_query(f"{function}(c[2m])")
    for k in range(len(rows) + 2):
        t = 15.0 * (k + 1)
        assert _by_labels(q.instant(shared, t)) == _by_labels(q.instant(separate, t)), t


def _by_labels(samples) -> dict[str, float]:
    return {str(sorted(s.labels.items())): s.value for s in samples}
