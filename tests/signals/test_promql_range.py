"""Range queries (for plots): the instant value at every step, one series per label set."""

from __future__ import annotations

import pytest

from tabletop.signals.promql import PromQLError, parse_query
from tabletop.signals.store import SeriesStore

from . import load


def test_range_query_collects_steps_per_series() -> None:
    store = SeriesStore()
    load(store, 'up{job="b"}', "1 1 0")  # t = 0, 60, 120
    load(store, 'up{job="a"}', "_ _ 1 stale")  # t = 120, stale at 180
    series = parse_query("up == 1").range(store, 0.0, 240.0, 60.0)
    assert [(s.labels, s.ts, s.vs) for s in series] == [
        ({"__name__": "up", "job": "a"}, [120.0], [1.0]),
        ({"__name__": "up", "job": "b"}, [0.0, 60.0], [1.0, 1.0]),
    ]


def test_scalar_range_query() -> None:
    series = parse_query("time() * 2").range(SeriesStore(), 0.0, 30.0, 15.0)
    assert [(s.labels, s.ts, s.vs) for s in series] == [({}, [0.0, 15.0, 30.0], [0.0, 30.0, 60.0])]


def test_string_and_bad_step_are_refused() -> None:
    with pytest.raises(PromQLError):
        parse_query('"x"').range(SeriesStore(), 0.0, 10.0, 1.0)
    with pytest.raises(ValueError):
        parse_query("up").range(SeriesStore(), 0.0, 10.0, 0.0)
