"""Rules rewritten for Prometheus on wall time (stack/timescale.py)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import promql_parser as pp
import pytest
import yaml

from tabletop.scenario.loader import load_scenario
from tabletop.scenario.rules import RuleGroup
from tabletop.signals.promtool import check_rule_files, run_promtool
from tabletop.signals.promtool_rules import dump_yaml
from tabletop.stack.timescale import (
    Clock,
    TimescaleError,
    prometheus_durations,
    scale_expr,
    scale_rule_groups,
    scaled_rule_file,
)
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
