"""Binary operators and vector matching, including Prometheus's matching errors."""

from __future__ import annotations

import math

import pytest

from tabletop.signals.promql import PromQLError
from tabletop.signals.store import SeriesStore

from . import load, query


@pytest.fixture
def store() -> SeriesStore:
    s = SeriesStore()
    load(s, 'req{job="api", code="200", inst="a"}', "20")
    load(s, 'req{job="api", code="500", inst="a"}', "2")
    load(s, 'req{job="web", code="200", inst="b"}', "6")
    load(s, 'up{job="api", inst="a"}', "1")
    load(s, 'up{job="web", inst="b"}', "0")
    load(s, 'info{job="api", team="x", inst="a"}', "1")
    load(s, 'info{job="web", team="y", inst="b"}', "1")
    load(s, 'lim{job="api"}', "15")
    load(s, 'v{a="1"}', "-2.5")
    load(s, 'v{a="2"}', "0")
    load(s, 'v{a="3"}', "NaN")
    return s


def test_scalar_arithmetic_and_precedence(store: SeriesStore) -> None:
    assert query(store, "(1 + 2) * 3 - 4 / 2 % 3 ^ 2", 0.0) == {"scalar": 7.0}
    assert query(store, "2 ^ 3 ^ 2", 0.0) == {"scalar": 512.0}  # right-associative
    assert query(store, "-2 ^ 2", 0.0) == {"scalar": -4.0}
    assert query(store, "1 == bool 1", 0.0) == {"scalar": 1.0}
    assert query(store, "2 ^ 2.5", 0.0) == {"scalar": 5.65685424949238}  # Go's Pow, not C's


def test_division_and_modulo_follow_go(store: SeriesStore) -> None:
    result = query(store, "v / 0", 0.0)
    assert result['{a="1"}'] == -math.inf and math.isnan(result['{a="2"}']) and math.isnan(result['{a="3"}'])
    result = query(store, "v % 2", 0.0)
    assert result['{a="1"}'] == -0.5 and result['{a="2"}'] == 0.0
    assert math.isnan(query(store, "v % 0", 0.0)['{a="1"}'])


def test_vector_scalar_arithmetic_drops_the_name(store: SeriesStore) -> None:
    assert query(store, "1 - up", 0.0) == {'{inst="a", job="api"}': 0.0, '{inst="b", job="web"}': 1.0}
    assert query(store, "-up", 0.0) == {'{inst="a", job="api"}': -1.0, '{inst="b", job="web"}': -0.0}
    # atan2 is the one arithmetic operator that keeps it.
    assert set(query(store, "up atan2 1", 0.0)) == {'up{inst="a", job="api"}', 'up{inst="b", job="web"}'}


def test_comparisons_filter_and_bool_returns_zero_or_one(store: SeriesStore) -> None:
    assert query(store, "up == 0", 0.0) == {'up{inst="b", job="web"}': 0.0}
    assert query(store, "up == bool 0", 0.0) == {'{inst="a", job="api"}': 0.0, '{inst="b", job="web"}': 1.0}
    # With the scalar on the left, the value kept is still the vector's.
    assert query(store, "0 < up", 0.0) == {'up{inst="a", job="api"}': 1.0}
    assert query(store, "2 > bool up", 0.0) == {'{inst="a", job="api"}': 1.0, '{inst="b", job="web"}': 1.0}
    assert query(store, "v > -10", 0.0) == {'v{a="1"}': -2.5, 'v{a="2"}': 0.0}  # NaN compares false


def test_one_to_one_matching(store: SeriesStore) -> None:
    assert query(store, "sum by (job) (req) > on(job) lim", 0.0) == {'{job="api"}': 22.0}
    assert query(store, "sum by (job) (req) > bool on(job) lim", 0.0) == {'{job="api"}': 1.0}
    # ignoring: the result keeps the left side's labels minus the ignored ones
    assert query(store, 'req{code="500"} / ignoring(code) req{code="200"}', 0.0) == {
        '{inst="a", job="api"}': 0.1
    }
    # Comparisons keep the left side's metric name.
    assert set(query(store, "up > ignoring(team) info - 1", 0.0)) == {'up{inst="a", job="api"}'}


def test_group_left_copies_labels_from_the_one_side(store: SeriesStore) -> None:
    assert query(store, "req * on(inst) group_left(team) info", 0.0) == {
        '{code="200", inst="a", job="api", team="x"}': 20.0,
        '{code="500", inst="a", job="api", team="x"}': 2.0,
        '{code="200", inst="b", job="web", team="y"}': 6.0,
    }
    assert query(store, "info * on(inst) group_right(team) req", 0.0) == {
        '{code="200", inst="a", job="api", team="x"}': 20.0,
        '{code="500", inst="a", job="api", team="x"}': 2.0,
        '{code="200", inst="b", job="web", team="y"}': 6.0,
    }
    # A group_left comparison keeps the "many" side's name and value.
    assert query(store, "req > on(inst) group_left up", 0.0) == {
        'req{code="200", inst="a", job="api"}': 20.0,
        'req{code="500", inst="a", job="api"}': 2.0,
        'req{code="200", inst="b", job="web"}': 6.0,
    }


def test_many_to_one_without_group_left_is_an_error(store: SeriesStore) -> None:
    with pytest.raises(PromQLError) as err:
        query(store, "req + on(inst) info", 0.0)
    assert err.value.message == (
        "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
    )
    assert err.value.construct == "vector matching"


def test_duplicates_on_the_one_side_are_an_error(store: SeriesStore) -> None:
    with pytest.raises(PromQLError) as err:
        query(store, "up + on(job) group_left req", 0.0)
    assert err.value.message == (
        'found duplicate series for the match group {job="api"} on the right hand-side of the '
        'operation: [{__name__="req", code="200", inst="a", job="api"}, {__name__="req", '
        'code="500", inst="a", job="api"}];many-to-many matching not allowed: matching labels '
        "must be unique on one side"
    )


def test_grouping_labels_must_keep_results_unique(store: SeriesStore) -> None:
    # Two "many" samples that differ only by metric name, which arithmetic drops.
    load(store, 'pa{inst="a"}', "1")
    load(store, 'pb{inst="a"}', "1")
    with pytest.raises(PromQLError, match="grouping labels must ensure unique matches"):
        query(store, '{__name__=~"pa|pb"} * on(inst) group_left info', 0.0)


def test_empty_side_matches_nothing(store: SeriesStore) -> None:
    assert query(store, "up + nothing", 0.0) == {}


def test_set_operators(store: SeriesStore) -> None:
    assert set(query(store, "up and on(job) req", 0.0)) == {'up{inst="a", job="api"}', 'up{inst="b", job="web"}'}
    assert set(query(store, "up unless on(inst) (up == 0)", 0.0)) == {'up{inst="a", job="api"}'}
    assert set(query(store, "up or lim", 0.0)) == {'up{inst="a", job="api"}', 'up{inst="b", job="web"}', 'lim{job="api"}'}
    # Signatures ignore the metric name: req{code="500"} matches on all other labels.
    assert set(query(store, 'req{code="500"} or ignoring(code) req', 0.0)) == {
        'req{code="500", inst="a", job="api"}',
        'req{code="200", inst="b", job="web"}',
    }
    assert query(store, "up and nothing", 0.0) == {}
    assert set(query(store, "nothing or up", 0.0)) == {'up{inst="a", job="api"}', 'up{inst="b", job="web"}'}


def test_dropping_names_may_not_merge_series(store: SeriesStore) -> None:
    load(store, 'pa{inst="a"}', "1")
    load(store, 'pb{inst="a"}', "1")
    for expr in ('{__name__=~"pa|pb"} * 1', '-{__name__=~"pa|pb"}', '{__name__=~"pa|pb"} > bool 0'):
        with pytest.raises(PromQLError, match="same labelset"):
            query(store, expr, 0.0)
    # A filtering comparison keeps the names, so the series stay apart.
    assert len(query(store, '{__name__=~"pa|pb"} > 0', 0.0)) == 2
