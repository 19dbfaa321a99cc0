"""Every PromQL construct tabletop evaluates, against promtool: one case per construct, each
expression at times chosen around resets, gaps, stale markers and the 5-minute lookback edge."""

from __future__ import annotations

import pytest

from .harness import ExprCase, Outcome, run_cases

COUNTERS = [
    # resets at 11m and 22m
    ('http_requests_total{job="api", instance="a:80", code="200"}', "0+10x10 5+15x10 2+7x9"),
    ('http_requests_total{job="api", instance="a:80", code="500"}', "0+1x30"),
    # a gap of four scrapes (12m-16m)
    ('http_requests_total{job="api", instance="b:80", code="200"}', "0+12x12 _x4 200+12.5x13"),
    # a stale marker at 9m, back at 10m
    ('http_requests_total{job="web", instance="c:80", code="200"}', "10+5x8 stale 60+5x20"),
    # disappears without a stale marker after 9m: visible until 14m, the lookback edge
    ('http_requests_total{job="web", instance="c:80", code="404"}', "1x9"),
    ('up{job="api", instance="a:80"}', "1x30"),
    ('up{job="api", instance="b:80"}', "1x12 0x4 1x13"),
    ('up{job="web", instance="c:80"}', "1x8 stale 1x20"),
    ('app_info{job="api", version="1.2.3", owner="team-a"}', "1x30"),
    ('app_info{job="web", version="0.9", owner="team-b"}', "1x30"),
]
GAUGES = [
    ('node_temp{node="n1", rack="r1"}',
     "50 52 49 55 61 58 57 70 65 62 60 59 58 56 55 54 53 52 51 50 49 48 47 46 45 44 43 42 41 40 39"),
    ('node_temp{node="n2", rack="r1"}', "40+0.5x30"),
    ('node_temp{node="n3", rack="r2"}',
     "-3.5 0 2.25 NaN 7 Inf 0.001 -1000 _ 12 stale 15 -0.5 1e-300 1e300 -Inf 3 3 3 0.1+0.1x10 7"),
    ('node_load{node="n1", rack="r1"}', "0.5 1.25 -2 3.75x10 2.5 1e-7 17 -0.125x5 8 9 10 11 12 13 14 15"),
    ('node_load{node="n4", rack="r2"}', "1x30"),
]
HISTOGRAMS = [
    ('req_seconds_bucket{job="api", le="0.1"}', "0+5x30"),
    ('req_seconds_bucket{job="api", le="0.5"}', "0+9x30"),
    ('req_seconds_bucket{job="api", le="1"}', "0+10x30"),
    ('req_seconds_bucket{job="api", le="+Inf"}', "0+11x30"),
    # not monotonic: the 0.5 bucket counts fewer than the 0.1 bucket
    ('req_seconds_bucket{job="web", le="0.1"}', "0+6x30"),
    ('req_seconds_bucket{job="web", le="0.5"}', "0+4x30"),
    ('req_seconds_bucket{job="web", le="1"}', "0+8x30"),
    ('req_seconds_bucket{job="web", le="+Inf"}', "0+8.5x30"),
    # no +Inf bucket
    ('req_seconds_bucket{job="db", le="0.25"}', "0+1x30"),
    ('req_seconds_bucket{job="db", le="2.5"}', "0+3x30"),
    # only +Inf
    ('req_seconds_bucket{job="batch", le="+Inf"}', "0+2x30"),
    # no observations
    ('req_seconds_bucket{job="idle", le="1"}', "0x30"),
    ('req_seconds_bucket{job="idle", le="+Inf"}', "0x30"),
    # negative and zero bounds
    ('req_seconds_bucket{job="neg", le="-1"}', "0+1x30"),
    ('req_seconds_bucket{job="neg", le="0"}', "0+3x30"),
    ('req_seconds_bucket{job="neg", le="+Inf"}', "0+4x30"),
]
# Aggregations: promtool adds series up in a random order (it loads them from a Go map), so
# sums, averages and variances are only compared where every order gives the same bits:
# multiples of 6 (exact means and variances of up to four values), NaN and infinities, or
# at most two inexact values for sum. Values within a group differ, so topk has no ties.
AGGREGATED = [
    ('pod_mem{ns="a", pod="a1", node="n1"}', "6x9 12x10"),
    ('pod_mem{ns="a", pod="a2", node="n1"}', "18x19"),
    ('pod_mem{ns="a", pod="a3", node="n2"}', "-30x4 stale 42x14"),
    ('pod_mem{ns="a", pod="a4", node="n2"}', "0x9 _x5 24x4"),
    ('pod_mem{ns="b", pod="b1", node="n1"}', "60x19"),
    ('pod_mem{ns="b", pod="b2", node="n3"}', "-6x19"),
    ('pod_mem{ns="c", pod="c1", node="n3"}', "120x19"),
    ('pod_mem{ns="d", pod="d1", node="n4"}', " ".join(["NaN"] * 20)),
    ('pod_mem{ns="d", pod="d2", node="n4"}', " ".join(["Inf"] * 20)),
    ('pod_mem{ns="d", pod="d3", node="n4"}', " ".join(["-Inf"] * 20)),
    ('pod_mem{ns="d", pod="d4", node="n4"}', "36x19"),
    ('pod_mem{ns="e", pod="e1", node="n5"}', " ".join(["Inf"] * 20)),
    ('pod_mem{ns="e", pod="e2", node="n5"}', "54x19"),
]
SERIES = COUNTERS + GAUGES + HISTOGRAMS + AGGREGATED
TIMES = [0, 60, 150, 240, 300, 330, 540, 570, 600, 690, 840, 841, 899.5, 960, 1140, 1200, 1260, 1500, 1800, 2100]

CONSTRUCTS: dict[str, list[str]] = {
    "selector-equal": ['http_requests_total{job="api"}', 'up{job="web", instance="c:80"}', 'node_temp{rack="r2"}'],
    "selector-not-equal": ['http_requests_total{job!="api"}', 'up{instance!="a:80"}', 'node_temp{rack!="nope"}'],
    "selector-regex": ['http_requests_total{code=~"2..|404"}', '{__name__=~"node_.*", rack="r1"}',
                       'up{instance=~"(a|c):.*"}', 'node_temp{node=~""}'],
    "selector-not-regex": ['http_requests_total{instance!~"a.*"}', '{__name__!~"req.*|http.*|node.*", job=~".+"}',
                           'node_temp{node!~"n[12]"}'],
    "selector-name-label": ['{__name__="up", job="web"}', '{__name__="node_temp"}'],
    "selector-empty": ['up{job="nonexistent"}', "no_such_metric"],
    "range-selector-matchers": ['count_over_time(http_requests_total{job="api", code!="500"}[5m])',
                                'rate(http_requests_total{code=~"2..", instance!~"b.*"}[3m])',
                                'sum_over_time({__name__=~"node_(temp|load)", rack!="r2"}[2m])',
                                'max_over_time(up{instance=~".*:80", job!~"api"}[10m])'],
    "offset": ["node_temp offset 5m", 'http_requests_total{job="web"} offset 3m', "up offset 1h",
               "rate(http_requests_total[5m] offset 2m)", "max_over_time(node_temp[10m] offset 90s)"],
    "staleness": ['http_requests_total{job="web"}', 'up{job="web"}', 'node_temp{node="n3"}',
                  'count_over_time(http_requests_total{job="web"}[3m])', 'last_over_time(node_temp{node="n3"}[2m])'],
    "lookback-edge": ['http_requests_total{code="404"}', 'timestamp(http_requests_total{code="404"})',
                      'http_requests_total{code="404"} offset 1m'],
    "rate": ["rate(http_requests_total[5m])", "rate(http_requests_total[1m])", "rate(http_requests_total[90s])",
             "rate(http_requests_total[30s])", "rate(http_requests_total[10m])", "rate(req_seconds_bucket[3m])"],
    "irate": ["irate(http_requests_total[5m])", "irate(http_requests_total[1m])", "irate(node_temp[3m])"],
    "increase": ["increase(http_requests_total[5m])", "increase(http_requests_total[15m])",
                 "increase(http_requests_total[2m])"],
    "delta": ["delta(node_temp[5m])", "delta(node_load[10m])", "delta(http_requests_total[5m])"],
    "idelta": ["idelta(node_temp[5m])", "idelta(node_load[2m])", "idelta(http_requests_total[3m])"],
    "avg_over_time": ["avg_over_time(node_temp[10m])", "avg_over_time(node_load[5m])"],
    "min_over_time": ["min_over_time(node_temp[10m])", "min_over_time(node_load[5m])"],
    "max_over_time": ["max_over_time(node_temp[10m])", "max_over_time(up[5m])"],
    "sum_over_time": ["sum_over_time(node_temp[10m])", "sum_over_time(node_load[20m])"],
    "count_over_time": ["count_over_time(node_temp[10m])", "count_over_time(http_requests_total[4m])"],
    "last_over_time": ["last_over_time(node_temp[10m])", "last_over_time(http_requests_total[1m])"],
    "quantile_over_time": ["quantile_over_time(0.9, node_temp[10m])", "quantile_over_time(0, node_load[10m])",
                           "quantile_over_time(1, node_temp[5m])", "quantile_over_time(0.25, node_load[7m])",
                           "quantile_over_time(-1, node_temp[5m])", "quantile_over_time(1.5, node_temp[5m])"],
    "stddev_over_time": ["stddev_over_time(node_temp[10m])", "stddev_over_time(node_load[5m])"],
    "stdvar_over_time": ["stdvar_over_time(node_temp[10m])", "stdvar_over_time(node_load[5m])"],
    "present_over_time": ["present_over_time(node_temp[10m])", 'present_over_time(up{job="web"}[1m])'],
    "absent": ['absent(up{job="nope"})', "absent(up)", 'absent(nonexistent{job="a", env=~"p.*", x="1", x="2"})',
               'absent(http_requests_total{code="404"})', "absent(sum(nonexistent))"],
    "absent_over_time": ['absent_over_time(up{job="web"}[1m])', 'absent_over_time(nope{x="y", z!="w"}[5m])',
                         'absent_over_time(http_requests_total{code="404"}[3m])'],
    "changes": ["changes(node_temp[10m])", "changes(node_load[5m])", "changes(up[15m])"],
    "resets": ["resets(http_requests_total[15m])", "resets(node_temp[10m])"],
    "deriv": ["deriv(node_temp[10m])", "deriv(node_load[5m])", "deriv(http_requests_total[3m])"],
    "predict_linear": ["predict_linear(node_temp[10m], 3600)", "predict_linear(node_load[5m], -60)",
                       "predict_linear(http_requests_total[5m], 0)"],
    "histogram_quantile": [
        "histogram_quantile(0.5, rate(req_seconds_bucket[5m]))",
        "histogram_quantile(0.9, rate(req_seconds_bucket[5m]))",
        "histogram_quantile(0.99, sum by (job, le) (rate(req_seconds_bucket[5m])))",
        'histogram_quantile(0.9, sum by (le) (req_seconds_bucket{job=~"api|web"}))',
        "histogram_quantile(0, req_seconds_bucket)",
        "histogram_quantile(1, req_seconds_bucket)",
        "histogram_quantile(-0.5, req_seconds_bucket)",
        "histogram_quantile(1.5, req_seconds_bucket)",
        "histogram_quantile(0.75, req_seconds_bucket)",
        "histogram_quantile(0.5, sum by (job, le) (increase(req_seconds_bucket[10m])))",
    ],
    "clamp": ["clamp(node_temp, 45, 55)", "clamp(node_load, 5, 1)", "clamp(node_load, -1, -1)"],
    "clamp_min": ["clamp_min(node_temp, 50)", "clamp_min(node_load, -1)"],
    "clamp_max": ["clamp_max(node_temp, 50)", "clamp_max(node_load, 2)"],
    "math": [f"{fn}(node_temp)" for fn in ("abs", "ceil", "floor", "round", "sqrt", "exp", "ln", "log2", "log10", "sgn")]
    + [f"{fn}(node_load)" for fn in ("abs", "ceil", "floor", "round", "sqrt", "exp", "ln", "log2", "log10", "sgn")]
    + ["round(node_load, 0.5)", "round(node_temp, 3)", "round(node_load, 0.1)", "-node_temp", "exp(node_temp / 10)"],
    "time": ["time()", "vector(time())", "time() - 60", "timestamp(node_temp)", "timestamp(rate(node_temp[5m]))",
             "timestamp(up offset 2m)"],
    "vector-scalar": ["vector(1)", "vector(scalar(up))", 'scalar(up{instance="a:80"})', "scalar(up)",
                      "scalar(no_such_metric)", 'node_temp * scalar(node_load{node="n4"})'],
    "label_replace": [
        'label_replace(up, "host", "$1", "instance", "(.*):.*")',
        'label_replace(up, "host", "$1", "instance", "nomatch")',
        'label_replace(up, "job", "", "job", ".*")',
        'label_replace(up, "id", "${1}-$2", "instance", "([a-z]):([0-9]+)")',
        'label_replace(node_temp, "where", "$rack/$node", "node", "(?P<rack>n)(?P<node>[0-9])")',
        'label_replace(up, "new", "x", "missing_label", "")',
        'label_replace(up, "job", "same", "", "")',
    ],
    "label_join": ['label_join(up, "id", "/", "job", "instance")', 'label_join(node_temp, "rack", "", "missing")',
                   'label_join(up, "key", "-", "instance", "instance", "job")'],
    "sort": ["sort(node_temp)", "sort_desc(node_temp)", "sort_desc(rate(http_requests_total[5m]))"],
    "aggregation-sum-avg": ["sum(pod_mem)", "sum by (ns) (pod_mem)", "sum without (pod) (pod_mem)",
                            'avg(pod_mem{ns!="d"})', "avg by (node) (pod_mem)", "avg without (pod, node) (pod_mem)",
                            "sum by (job, instance) (rate(http_requests_total[5m]))",
                            "sum without (instance, code) (http_requests_total)", 'avg(pod_mem{ns="e"})'],
    "aggregation-min-max-count": ["min(pod_mem)", "max by (ns) (pod_mem)", "count(pod_mem)",
                                  "count by (node) (pod_mem)", "min without (pod) (pod_mem)", "max(node_temp)",
                                  "min by (job) (rate(http_requests_total[5m]))"],
    "aggregation-stddev-stdvar": ['stddev(pod_mem{ns="a"})', "stdvar by (node) (pod_mem)",
                                  "stddev without (pod, node) (pod_mem)", 'stdvar(pod_mem{ns=~"b|c"})',
                                  'stddev by (ns) (pod_mem{ns=~"d|e"})'],
    "aggregation-group": ["group(pod_mem)", "group by (node) (pod_mem)", "group without (pod) (pod_mem)"],
    "aggregation-topk-bottomk": ["topk(2, pod_mem)", "bottomk(1, pod_mem)", "topk by (ns) (1, pod_mem)",
                                 "bottomk without (pod) (2, pod_mem)", 'topk(3, pod_mem{ns="a"})',
                                 'bottomk(2, pod_mem{ns="d"})', "topk(0, pod_mem)", "topk(2.7, pod_mem)",
                                 'topk(100, pod_mem{ns="b"})', "topk by (job) (1, rate(http_requests_total[5m]))"],
    "aggregation-quantile": ["quantile(0.5, pod_mem)", "quantile by (ns) (0.9, pod_mem)",
                             'quantile(0, pod_mem{ns!="d"})', "quantile(1.5, pod_mem)",
                             "quantile without (pod) (0.25, pod_mem)", "quantile(scalar(no_such_metric), pod_mem)",
                             "quantile by (job) (0.9, rate(http_requests_total[5m]))"],
    "aggregation-count_values": ['count_values("value", pod_mem)', 'count_values by (ns) ("v", pod_mem)',
                                 'count_values without (pod) ("mem", pod_mem)', 'count_values("temp", node_temp)'],
    "arithmetic-scalar": ["1 + 2 * 3", "2 ^ 3 ^ 2", "7 % 3", "-7 % 3", "1 / 0", "-1 / 0", "0 / 0", "2 ^ 0.5",
                          "node_temp + 1", "node_temp - 10", "2 * node_temp", "node_temp / 0", "node_temp % 7",
                          "node_temp ^ 2", "2 ^ node_load", "100 / node_load", "-node_load % 3", "node_temp atan2 10"],
    "arithmetic-vector": ["node_temp - node_temp offset 5m", "node_temp / on(node) node_load",
                          "node_temp * ignoring(rack) node_load", "node_load + node_temp",
                          'http_requests_total{code="500"} / ignoring(code) http_requests_total{code="200"}'],
    "comparison": ["node_temp > 50", "node_temp > bool 50", "50 < node_temp", "50 < bool node_temp", "node_temp == 3",
                   "node_temp != bool 3", "node_load <= 1.25", "node_load >= bool 3.75", "1 > bool 2", "2 >= bool 2",
                   "node_temp > node_temp offset 5m", "node_temp >= bool on(node) node_load",
                   "node_temp == node_temp"],
    "vector-matching": [
        "rate(http_requests_total[5m]) * on(job) group_left(version, owner) app_info",
        "app_info * on(job) group_right(version) rate(http_requests_total[5m])",
        "http_requests_total / ignoring(code) group_left sum without (code) (http_requests_total)",
        "up + on(job, instance) group_left rate(http_requests_total[5m])",
        "sum by (job, instance) (rate(http_requests_total[5m])) / on(job) group_left count by (job) (up)",
        "up * on(instance) group_left(owner) label_replace(app_info, \"instance\", \"a:80\", \"job\", \"api\")",
    ],
    "set-operators": ["up and http_requests_total", "up and on(job) http_requests_total{code=\"500\"}",
                      "up or node_temp", "node_temp unless node_temp > 55", "up unless on(job) app_info{job=\"web\"}",
                      "node_temp and ignoring(rack) node_load", "up or on(job) app_info",
                      "http_requests_total{job=\"web\"} or up", "no_such_metric or up", "up and no_such_metric",
                      "up unless no_such_metric"],
    "errors": ['http_requests_total + on(job) up', 'label_replace(up, "job", "x", "", "")',
               '{__name__=~"up|app_info"} * 2', "up * on(job) group_left app_info * on(job) app_info",
               'rate({__name__=~"http_requests_total|up"}[5m])'],
}

CASES = [ExprCase(name, SERIES, exprs, TIMES) for name, exprs in CONSTRUCTS.items()]


@pytest.fixture(scope="module")
def outcomes(promtool: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    return run_cases(CASES, tmp_path_factory.mktemp("promql"))


@pytest.mark.parametrize("construct", list(CONSTRUCTS))
def test_construct_agrees_with_promtool(construct: str, outcomes: dict[str, Outcome]) -> None:
    outcomes[construct].check()



def test_every_construct_is_exercised(outcomes: dict[str, Outcome]) -> None:
    """No case passes by both sides agreeing on nothing: each has non-empty results, and the
    error case has errors."""
    for construct, outcome in outcomes.items():
        answers = [expected for expected in outcome.expected.values()]
        if construct == "errors":
            assert any(answer.error for answer in answers), construct
        elif construct != "selector-empty":
            assert any(not answer.error and answer.tabletop != "[]" for answer in answers), construct
