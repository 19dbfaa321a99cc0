"""Range-vector and instant-vector functions, with values as Prometheus 2.42 computes them."""

from __future__ import annotations

import math

import pytest

from tabletop.signals.promql import PromQLError, parse_query
from tabletop.signals.store import SeriesStore

from . import load, query


@pytest.fixture
def store() -> SeriesStore:
    s = SeriesStore()
    load(s, 'g{job="a"}', "1 5 2 8 NaN 3 -1 Inf 4 4 4")  # t = 0, 60, ..., 600
    load(s, 'g{job="b"}', "3x10")
    load(s, 'h_bucket{le="0.1"}', "10")
    load(s, 'h_bucket{le="0.5"}', "30")
    load(s, 'h_bucket{le="1"}', "40")
    load(s, 'h_bucket{le="+Inf"}', "50")
    load(s, 'v{a="1"}', "-2.5 0 1000")
    load(s, 'v{a="2"}', "0.5 -0.5 0.1")
    load(s, 'up{job="api", instance="a:9090"}', "1")
    return s


def test_over_time_aggregations(store: SeriesStore) -> None:
    # g{job="a"} in [0, 180]: 1, 5, 2, 8.
    assert query(store, 'avg_over_time(g{job="a"}[3m])', 180.0) == {'{job="a"}': 4.0}
    assert query(store, 'sum_over_time(g{job="a"}[3m])', 180.0) == {'{job="a"}': 16.0}
    assert query(store, 'min_over_time(g{job="a"}[3m])', 180.0) == {'{job="a"}': 1.0}
    assert query(store, 'max_over_time(g{job="a"}[3m])', 180.0) == {'{job="a"}': 8.0}
    assert query(store, 'count_over_time(g{job="a"}[3m])', 180.0) == {'{job="a"}': 4.0}
    assert query(store, 'last_over_time(g{job="a"}[3m])', 180.0) == {'g{job="a"}': 8.0}
    assert query(store, 'present_over_time(g{job="a"}[3m])', 180.0) == {'{job="a"}': 1.0}
    # Population variance of 1, 5, 2, 8 is (9+1+4+16)/4 = 7.5; Prometheus's running
    # (Welford, compensated) computation ends one ulp above it.
    assert query(store, 'stdvar_over_time(g{job="a"}[3m])', 180.0) == {'{job="a"}': 7.500000000000001}
    stddev = query(store, 'stddev_over_time(g{job="a"}[3m])', 180.0)
    assert stddev == {'{job="a"}': math.sqrt(7.500000000000001)}
    # sorted 1, 2, 5, 8: rank 0.3 × 3 = 0.9 → 1 × 0.1 + 2 × 0.9
    assert query(store, 'quantile_over_time(0.3, g{job="a"}[3m])', 180.0) == {'{job="a"}': 1.9}


def test_nan_and_infinity_in_windows(store: SeriesStore) -> None:
    # [240, 420]: NaN, 3, -1, Inf. min/max skip NaN as Prometheus's comparisons do.
    assert query(store, 'min_over_time(g{job="a"}[3m])', 420.0) == {'{job="a"}': -1.0}
    assert query(store, 'max_over_time(g{job="a"}[3m])', 420.0) == {'{job="a"}': math.inf}
    assert math.isnan(query(store, 'avg_over_time(g{job="a"}[3m])', 420.0)['{job="a"}'])
    # 1, 5, 2, 8, NaN, 3, -1, Inf, 4, 4, 4 changes 8 times (4 → 4 is no change).
    assert query(store, 'changes(g[10m])', 600.0) == {'{job="a"}': 8.0, '{job="b"}': 0.0}


def test_sum_over_time_uses_compensated_summation() -> None:
    store = SeriesStore()
    load(store, "big", "1e100 1 -1e100")
    assert query(store, "sum_over_time(big[5m])", 120.0) == {"{}": 1.0}  # a plain sum gives 0


def test_resets_and_deriv() -> None:
    store = SeriesStore()
    load(store, "c", "0+10x10 5+10x5")  # 0..100, then 5..55: one reset
    assert query(store, "resets(c[20m])", 900.0) == {"{}": 1.0}
    assert query(store, "deriv(c[5m])", 300.0) == {"{}": 10 / 60}
    # predict_linear extrapolates the regression line from the evaluation time.
    assert query(store, "predict_linear(c[5m], 600)", 300.0) == {"{}": 50.0 + 100.0}
    assert query(store, "deriv(c[5m])", 0.0) == {}  # a single sample has no slope


def test_histogram_quantile_interpolates_within_the_bucket(store: SeriesStore) -> None:
    # rank 0.5 × 50 = 25 falls in (0.1, 0.5] holding 30 - 10 = 20: 0.1 + 0.4 × 15/20
    assert query(store, "histogram_quantile(0.5, h_bucket)", 0.0) == {"{}": 0.4}
    # rank 2.5 in the first bucket, interpolated from 0: 0.1 × 2.5/10
    assert query(store, "histogram_quantile(0.05, h_bucket)", 0.0) == {"{}": 0.025}
    # rank 45 only the +Inf bucket reaches: the highest finite bound
    assert query(store, "histogram_quantile(0.9, h_bucket)", 0.0) == {"{}": 1.0}
    assert query(store, "histogram_quantile(1.5, h_bucket)", 0.0) == {"{}": math.inf}
    assert query(store, "histogram_quantile(-1, h_bucket)", 0.0) == {"{}": -math.inf}


def test_histogram_quantile_fixes_non_monotonic_buckets_and_needs_inf() -> None:
    store = SeriesStore()
    load(store, 'h_bucket{x="a", le="1"}', "10")
    load(store, 'h_bucket{x="a", le="2"}', "8")  # below its predecessor: taken as 10
    load(store, 'h_bucket{x="a", le="+Inf"}', "12")
    load(store, 'h_bucket{x="b", le="1"}', "5")  # no +Inf bucket
    load(store, 'h_bucket{x="c", le="1"}', "0")
    load(store, 'h_bucket{x="c", le="+Inf"}', "0")  # no observations
    load(store, 'h_bucket{x="d"}', "0")  # no le: ignored
    result = query(store, "histogram_quantile(0.5, h_bucket)", 0.0)
    assert result['{x="a"}'] == 0.6  # rank 6 in the first bucket: 1 × 6/10
    assert math.isnan(result['{x="b"}']) and math.isnan(result['{x="c"}'])
    assert set(result) == {'{x="a"}', '{x="b"}', '{x="c"}'}
    assert query(store, 'histogram_quantile(0.95, h_bucket{x="a"})', 0.0) == {'{x="a"}': 2.0}


def test_histogram_quantile_of_bucket_rates() -> None:
    store = SeriesStore()
    load(store, 'lat_bucket{job="m", le="0.1"}', "0+1x15")
    load(store, 'lat_bucket{job="m", le="0.5"}', "0+3x15")
    load(store, 'lat_bucket{job="m", le="+Inf"}', "0+4x15")
    # rates 1/60, 3/60, 4/60 per second: rank 0.5 × 4 = 2 in (0.1, 0.5]: 0.1 + 0.4 × 1/2
    expr = "histogram_quantile(0.5, sum by (le, job) (rate(lat_bucket[5m])))"
    assert query(store, expr, 600.0) == pytest.approx({'{job="m"}': 0.3})


def test_math_functions_drop_the_name(store: SeriesStore) -> None:
    assert query(store, "abs(v)", 0.0) == {'{a="1"}': 2.5, '{a="2"}': 0.5}
    assert query(store, "ceil(v)", 60.0) == {'{a="1"}': 0.0, '{a="2"}': -0.0}
    assert query(store, "floor(v)", 0.0) == {'{a="1"}': -3.0, '{a="2"}': 0.0}
    assert query(store, "round(v)", 0.0) == {'{a="1"}': -2.0, '{a="2"}': 1.0}  # ties round up
    assert query(store, "round(v, 0.3)", 120.0) == {'{a="1"}': 999.9, '{a="2"}': 0.0}
    assert query(store, "sgn(v)", 0.0) == {'{a="1"}': -1.0, '{a="2"}': 1.0}
    assert query(store, "log10(v)", 120.0) == {'{a="1"}': 3.0, '{a="2"}': -0.9999999999999999}
    assert query(store, "log2(v)", 120.0)['{a="1"}'] == 9.965784284662087
    assert query(store, "exp(v)", 120.0)['{a="1"}'] == math.inf
    sqrt = query(store, "sqrt(v)", 0.0)
    assert math.isnan(sqrt['{a="1"}']) and sqrt['{a="2"}'] == math.sqrt(0.5)
    ln = query(store, "ln(v)", 60.0)
    assert ln['{a="1"}'] == -math.inf and math.isnan(ln['{a="2"}'])


def test_clamp(store: SeriesStore) -> None:
    assert query(store, "clamp(v, -1, 1)", 0.0) == {'{a="1"}': -1.0, '{a="2"}': 0.5}
    assert query(store, "clamp(v, 1, -1)", 0.0) == {}
    assert query(store, "clamp_min(v, 0)", 0.0) == {'{a="1"}': 0.0, '{a="2"}': 0.5}
    assert query(store, "clamp_max(v, 0)", 0.0) == {'{a="1"}': -2.5, '{a="2"}': 0.0}


def test_time_timestamp_vector_scalar(store: SeriesStore) -> None:
    assert query(store, "time()", 180.0) == {"scalar": 180.0}
    assert query(store, 'timestamp(g{job="b"})', 630.0) == {'{job="b"}': 600.0}  # the sample's own time
    assert query(store, 'timestamp(g{job="b"} offset 1m)', 630.0) == {'{job="b"}': 540.0}
    assert query(store, "timestamp(sum(g))", 630.0) == {"{}": 630.0}  # not a selector: eval time
    assert query(store, "vector(time())", 60.0) == {"{}": 60.0}
    assert query(store, 'scalar(g{job="b"})', 0.0) == {"scalar": 3.0}
    assert math.isnan(query(store, "scalar(g)", 0.0)["scalar"])


def test_absent_takes_labels_from_equality_matchers(store: SeriesStore) -> None:
    assert query(store, "absent(up)", 0.0) == {}
    assert query(store, 'absent(nothing{job="b", x=~"y", z="1"})', 0.0) == {'{job="b", z="1"}': 1.0}
    assert query(store, 'absent(nothing{job="b", job="c"})', 0.0) == {"{}": 1.0}
    assert query(store, "absent(sum(nothing))", 0.0) == {"{}": 1.0}
    assert query(store, 'absent_over_time(up{job="api"}[1m])', 60.0) == {}
    assert query(store, 'absent_over_time(up{job="api"}[1m])', 61.0) == {'{job="api"}': 1.0}


def test_label_replace(store: SeriesStore) -> None:
    result = query(store, 'label_replace(up, "host", "$1-${2}x", "instance", "(.*):(.*)")', 0.0)
    assert result == {'up{host="a-9090x", instance="a:9090", job="api"}': 1.0}
    # No match: unchanged. An empty replacement deletes the label.
    assert set(query(store, 'label_replace(up, "host", "$1", "instance", "b.*")', 0.0)) == {
        'up{instance="a:9090", job="api"}'
    }
    assert set(query(store, 'label_replace(up, "job", "", "instance", ".*")', 0.0)) == {
        'up{instance="a:9090"}'
    }
    # The regex is anchored, and $name / $$ follow Go's Expand.
    assert set(query(store, 'label_replace(up, "x", "$$$1", "instance", "a")', 0.0)) == {
        'up{instance="a:9090", job="api"}'
    }
    assert set(query(store, 'label_replace(up, "x", "$$$1", "instance", "(a):9090")', 0.0)) == {
        'up{instance="a:9090", job="api", x="$a"}'
    }


def test_label_join(store: SeriesStore) -> None:
    result = query(store, 'label_join(up, "k", "/", "job", "instance", "missing")', 0.0)
    assert result == {'up{instance="a:9090", job="api", k="api/a:9090/"}': 1.0}


def test_label_functions_validate_names_when_parsed() -> None:
    with pytest.raises(PromQLError, match="invalid destination label name"):
        parse_query('label_replace(up, "1x", "", "a", "b")')
    with pytest.raises(PromQLError, match="invalid source label name"):
        parse_query('label_join(up, "x", "", "a-b")')


def test_label_replace_may_not_create_duplicates(store: SeriesStore) -> None:
    load(store, 'up{job="api", instance="b:9090"}', "1")
    with pytest.raises(PromQLError, match="same labelset"):
        query(store, 'label_replace(up, "instance", "z", "instance", ".*")', 0.0)


def test_sort(store: SeriesStore) -> None:
    values = [s.value for s in parse_query("sort(g)").instant(store, 240.0)]
    assert values[0] == 3.0 and math.isnan(values[1])  # NaN last
    desc = [s.value for s in parse_query("sort_desc(v)").instant(store, 0.0)]
    assert desc == [0.5, -2.5]


def test_time_and_timestamp_are_unix_time_from_the_stores_epoch() -> None:
    """A drill's store starts at the scenario's wall time, so ``time() - <Unix timestamp gauge>``
    (the usual freshness alert) measures an age, as in Prometheus."""
    store = SeriesStore(epoch=1_773_736_500.0)  # 2026-03-17T08:35:00Z
    load(store, 'g{job="a"}', "1", start=600.0)
    assert query(store, "time()", 630.0) == {"scalar": 1_773_736_500.0 + 630.0}
    assert query(store, 'timestamp(g{job="a"})', 630.0) == {'{job="a"}': 1_773_736_500.0 + 600.0}
    assert query(store, "timestamp(sum(g))", 630.0) == {"{}": 1_773_736_500.0 + 630.0}


def test_a_drill_can_alert_on_the_age_of_a_unix_timestamp_gauge() -> None:
    from pathlib import Path

    from tabletop.drill.engine import Drill
    from tabletop.scenario.loader import load_scenario

    loaded = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "serving-gpu-node-failure.yaml")
    drill = Drill(loaded, seed=1)
    drill.run(3600.0)
    ages = parse_query("time() - feature_pipeline_last_success_timestamp_seconds").instant(drill.store, drill.now)
    assert [round(s.value) for s in ages] and all(0 <= s.value <= 15 * 60 + 4 * 60 for s in ages)
