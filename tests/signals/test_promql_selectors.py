"""Instant and range selection: lookback, staleness, offset, matchers (Prometheus 2.42)."""

from __future__ import annotations

import pytest

from tabletop.signals.promql import PromQLError, parse_query
from tabletop.signals.store import SeriesStore

from . import load, query


@pytest.fixture
def store() -> SeriesStore:
    s = SeriesStore()
    load(s, 'x{job="api-server", env="prod"}', "1 2 3 4 5")  # t = 0, 60, ..., 240
    load(s, 'x{job="worker"}', "10 20")
    load(s, 'y{job="api-server"}', "7")
    return s


def test_instant_lookback_is_closed_at_five_minutes(store: SeriesStore) -> None:
    # The newest sample of x{job="worker"} is at t=60: visible up to and including t=360.
    assert query(store, 'x{job="worker"}', 360.0) == {'x{job="worker"}': 20.0}
    assert query(store, 'x{job="worker"}', 360.5) == {}
    assert query(store, 'x{job="worker"}', 30.0) == {'x{job="worker"}': 10.0}


def test_nothing_before_the_first_sample(store: SeriesStore) -> None:
    assert query(store, "x", -1.0) == {}


def test_offset_shifts_the_evaluation_time(store: SeriesStore) -> None:
    assert query(store, 'x{env="prod"} offset 2m', 240.0) == {'x{env="prod", job="api-server"}': 3.0}
    assert query(store, 'x{env="prod"} offset -1m', 120.0) == {'x{env="prod", job="api-server"}': 4.0}


def test_stale_marker_ends_a_series_at_once() -> None:
    store = SeriesStore()
    sid = store.series_id("up", {"job": "a"})
    for t in (0.0, 15.0, 30.0):
        store.begin_scrape(t)
        store.add(sid, 1.0)
        store.end_scrape()
    store.begin_scrape(45.0)  # the target stopped exposing the series: stale marker at 45
    store.end_scrape()
    assert query(store, "up", 44.0) == {'up{job="a"}': 1.0}
    assert query(store, "up", 45.0) == {}
    assert query(store, "up", 100.0) == {}
    # Range selectors skip the marker: samples at 0, 15 and 30 are in [-15, 45].
    assert query(store, "count_over_time(up[1m])", 45.0) == {'{job="a"}': 3.0}
    assert query(store, "absent(up)", 45.0) == {"{}": 1.0}


def test_series_coming_back_after_a_stale_marker() -> None:
    store = SeriesStore()
    load(store, "up", "1 stale 1 1", interval=15.0)
    assert query(store, "up", 20.0) == {}
    assert query(store, "up", 30.0) == {"up{}": 1.0}
    assert query(store, "count_over_time(up[45s])", 45.0) == {"{}": 3.0}


def test_missing_samples_are_not_stale(store: SeriesStore) -> None:
    # Without a stale marker the last value is used for the whole lookback period.
    assert query(store, "y", 299.0) == {'y{job="api-server"}': 7.0}


def test_range_selector_includes_both_ends() -> None:
    store = SeriesStore()
    load(store, "x", "0 1 2 3 4", interval=15.0)  # t = 0, 15, 30, 45, 60
    assert query(store, "count_over_time(x[30s])", 45.0) == {"{}": 3.0}  # 15, 30, 45
    assert query(store, "count_over_time(x[30s] offset 15s)", 45.0) == {"{}": 3.0}  # 0, 15, 30
    assert query(store, "count_over_time(x[29s])", 45.0) == {"{}": 2.0}


def test_regex_matchers_are_fully_anchored(store: SeriesStore) -> None:
    assert query(store, 'x{job=~"api"}', 0.0) == {}
    assert query(store, 'x{job=~"server"}', 0.0) == {}
    assert set(query(store, 'x{job=~"api.*"}', 0.0)) == {'x{env="prod", job="api-server"}'}
    assert set(query(store, 'x{job!~"api"}', 0.0)) == {'x{env="prod", job="api-server"}', 'x{job="worker"}'}
    assert set(query(store, 'x{job=~"api-server|work"}', 0.0)) == {'x{env="prod", job="api-server"}'}
    assert set(query(store, 'x{job=~"(?i)WORKER"}', 0.0)) == {'x{job="worker"}'}


def test_equality_and_empty_matchers(store: SeriesStore) -> None:
    assert set(query(store, 'x{env=""}', 0.0)) == {'x{job="worker"}'}
    assert set(query(store, 'x{env!=""}', 0.0)) == {'x{env="prod", job="api-server"}'}
    assert set(query(store, 'x{job!="worker"}', 0.0)) == {'x{env="prod", job="api-server"}'}


def test_metric_name_in_braces(store: SeriesStore) -> None:
    assert set(query(store, '{__name__="y"}', 0.0)) == {'y{job="api-server"}'}
    assert set(query(store, '{__name__=~"x|y", job="api-server"}', 0.0)) == {
        'x{env="prod", job="api-server"}',
        'y{job="api-server"}',
    }


def test_selection_follows_new_series(store: SeriesStore) -> None:
    q = parse_query("x")
    assert len(q.instant(store, 0.0)) == 2
    load(store, 'x{job="late"}', "3")
    assert len(q.instant(store, 0.0)) == 3


def test_results_are_copies(store: SeriesStore) -> None:
    sample = parse_query("y").instant(store, 0.0)[0]
    sample.labels["job"] = "changed"
    assert query(store, "y", 0.0) == {'y{job="api-server"}': 7.0}


def test_regexes_python_would_read_differently_are_refused() -> None:
    with pytest.raises(PromQLError) as err:
        parse_query('x{job=~"[[:alpha:]]+"}')
    assert err.value.construct == "regex"
    assert err.value.column == 3


def test_series_window_and_last_at_follow_prometheus() -> None:
    store = SeriesStore()
    load(store, "x", "1 2 stale 4", interval=60.0)  # t = 0, 60, 120 (stale), 180
    series = store.with_name("x")[0]
    assert series.window(60.0, 180.0) == (1, 4)  # both ends included
    assert series.window(61.0, 179.0) == (2, 3)
    assert series.last_at(60.0, 300.0) == 2.0
    assert series.last_at(150.0, 300.0) is None  # the newest sample is a stale marker
    assert series.last_at(480.0, 300.0) == 4.0  # 180 is exactly 5 minutes back
    assert series.last_at(480.5, 300.0) is None
    assert series.last_stale == 2
