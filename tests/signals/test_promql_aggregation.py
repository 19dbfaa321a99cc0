"""Aggregation operators with by/without, as Prometheus 2.42 computes them."""

from __future__ import annotations

import math

import pytest

from tabletop.signals.promql import PromQLError, parse_query
from tabletop.signals.store import SeriesStore

from . import load, query


@pytest.fixture
def store() -> SeriesStore:
    s = SeriesStore()
    load(s, 'req{job="api", code="200", inst="a"}', "10")
    load(s, 'req{job="api", code="500", inst="a"}', "2")
    load(s, 'req{job="api", code="200", inst="b"}', "20")
    load(s, 'req{job="web", code="200", inst="c"}', "5")
    load(s, 'g{x="1"}', "3")
    load(s, 'g{x="2"}', "3")
    load(s, 'g{x="3"}', "NaN")
    load(s, 'g{x="4"}', "Inf")
    return s


def test_sum_avg_min_max_count_group(store: SeriesStore) -> None:
    assert query(store, "sum by (job) (req)", 0.0) == {'{job="api"}': 32.0, '{job="web"}': 5.0}
    assert query(store, "sum(req)", 0.0) == {"{}": 37.0}
    # Prometheus's running mean (10, then 10 + 2/2 - 10/2, then 6 + 20/3 - 6/3) is one ulp
    # above 32/3.
    assert query(store, "avg without (code, inst) (req)", 0.0) == {
        '{job="api"}': 10.666666666666668,
        '{job="web"}': 5.0,
    }
    assert query(store, "min by (code) (req)", 0.0) == {'{code="200"}': 5.0, '{code="500"}': 2.0}
    assert query(store, "max(req)", 0.0) == {"{}": 20.0}
    assert query(store, "count by (inst) (req)", 0.0) == {
        '{inst="a"}': 2.0,
        '{inst="b"}': 1.0,
        '{inst="c"}': 1.0,
    }
    assert query(store, "group by (job) (req)", 0.0) == {'{job="api"}': 1.0, '{job="web"}': 1.0}


def test_by_keeps_only_existing_labels_and_without_drops_the_name(store: SeriesStore) -> None:
    assert query(store, "sum by (job, missing) (req)", 0.0) == {'{job="api"}': 32.0, '{job="web"}': 5.0}
    assert query(store, "max without () (g)", 0.0)['{x="1"}'] == 3.0
    assert set(query(store, "sum by (__name__) (req)", 0.0)) == {"req{}"}


def test_min_and_max_skip_nan_and_sum_is_plain(store: SeriesStore) -> None:
    assert query(store, "min(g)", 0.0) == {"{}": 3.0}
    assert query(store, "max(g)", 0.0) == {"{}": math.inf}
    load(store, 'm{a="1"}', "1e100")
    load(store, 'm{a="2"}', "1")
    load(store, 'm{a="3"}', "-1e100")
    assert query(store, "sum(m)", 0.0) == {"{}": 0.0}  # no compensation, unlike sum_over_time


def test_stddev_stdvar_quantile(store: SeriesStore) -> None:
    # 10, 2, 20, 5: mean 9.25, squared deviations 0.5625 + 52.5625 + 115.5625 + 18.0625
    assert query(store, "stdvar(req)", 0.0) == {"{}": 46.6875}
    assert query(store, "stddev(req)", 0.0) == {"{}": math.sqrt(46.6875)}
    # sorted 2, 5, 10, 20: rank 0.5 × 3 = 1.5 → between 5 and 10
    assert query(store, "quantile(0.5, req)", 0.0) == {"{}": 7.5}
    assert query(store, "quantile(2, req)", 0.0) == {"{}": math.inf}


def test_topk_and_bottomk_keep_the_series(store: SeriesStore) -> None:
    assert query(store, "topk(2, req)", 0.0) == {
        'req{code="200", inst="b", job="api"}': 20.0,
        'req{code="200", inst="a", job="api"}': 10.0,
    }
    assert query(store, "bottomk by (job) (1, req)", 0.0) == {
        'req{code="500", inst="a", job="api"}': 2.0,
        'req{code="200", inst="c", job="web"}': 5.0,
    }
    ordered = [s.value for s in parse_query("topk(3, req)").instant(store, 0.0)]
    assert ordered == [20.0, 10.0, 5.0]
    assert query(store, "topk(0, req)", 0.0) == {}


def test_topk_ties_go_to_the_first_series_in_label_order(store: SeriesStore) -> None:
    # g{x="1"} and g{x="2"} are both 3. Prometheus feeds its heap in storage order, which is
    # arbitrary (promtool's varies from run to run); tabletop's selections are in label order.
    assert set(query(store, 'bottomk(1, g{x=~"1|2"})', 0.0)) == {'g{x="1"}'}
    assert set(query(store, 'topk(1, g{x=~"2|1"})', 0.0)) == {'g{x="1"}'}


def test_topk_needs_a_finite_k(store: SeriesStore) -> None:
    with pytest.raises(PromQLError, match="Scalar value NaN overflows int64"):
        query(store, "topk(NaN, req)", 0.0)


def test_topk_with_a_computed_k(store: SeriesStore) -> None:
    assert len(query(store, 'topk(scalar(g{x="1"}) - 1, req)', 0.0)) == 2


def test_count_values(store: SeriesStore) -> None:
    assert query(store, 'count_values("value", g)', 0.0) == {
        '{value="3"}': 2.0,
        '{value="NaN"}': 1.0,
        '{value="+Inf"}': 1.0,
    }
    assert query(store, 'count_values by (job) ("n", req)', 0.0) == {
        '{job="api", n="10"}': 1.0,
        '{job="api", n="2"}': 1.0,
        '{job="api", n="20"}': 1.0,
        '{job="web", n="5"}': 1.0,
    }
    load(store, "big", "1e21")
    assert set(query(store, 'count_values("v", big)', 0.0)) == {'{v="1000000000000000000000"}'}
    with pytest.raises(PromQLError, match="invalid label name"):
        parse_query('count_values("not-a-label", req)')
