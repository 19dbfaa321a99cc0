"""The files tabletop writes for promtool: series notation, rule files, unit-test documents."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tabletop.scenario.rules import RuleFile, RuleGroup
from tabletop.signals.promql import InstantVector, Sample, Scalar
from tabletop.signals.promtool import check_rule_files
from tabletop.signals.promtool_rules import prom_duration, rule_file_text
from tabletop.signals.promtool_series import GAP, decode, encode, grid_step, on_grid, series_text
from tabletop.signals.promtool_tests import expr_tests, read_series
from tabletop.signals.store import STALE, SeriesStore

from .harness import ExprCase, run_cases

values = st.lists(
    st.one_of(
        st.floats(width=64),
        st.sampled_from([GAP, STALE, 0.1, -0.0, 1e-300, 2.0**53 + 2, 5.0]),
        st.integers(-10, 10).map(lambda i: i * 0.1),
    ),
    max_size=60,
)


def bits(v: object) -> object:
    return struct.pack("<d", v) if isinstance(v, float) and not math.isnan(v) else ("nan" if isinstance(v, float) else v)


@settings(max_examples=300, derandomize=True, database=None)
@given(values)
def test_encode_reads_back_bit_for_bit(series: list) -> None:
    assert [bits(v) for v in decode(encode(series))] == [bits(v) for v in series]


def test_encode_compresses_runs_promtool_can_repeat() -> None:
    assert encode([1.0, 1.0, 1.0, GAP, GAP, GAP, STALE]) == "1x2 _x3 stale"
    assert encode([0.0, 10.0, 20.0, 30.0, 25.0, 20.0, 15.0]) == "0+10x3 25-5x2"
    assert encode([0.1, 0.2, 0.30000000000000004, 0.4]) == "0.1+0.1x3"
    assert encode([0.1, 0.2, 0.3]) == "0.1 0.2 0.3"  # 0.1 + 0.1 + 0.1 is not 0.3
    assert encode([math.nan, math.inf, -math.inf, -0.0, 1e300]) == "NaN Inf -Inf -0.0 1e+300"
    assert encode([-0.0, -0.0, 0.0, 0.0]) == "-0.0x1 0x1"  # axN repeats a exactly: -0.0 + 0.0 is 0.0


def test_durations_in_prometheus_notation() -> None:
    assert [prom_duration(s) for s in (0, 0.5, 90, 3600, 5430, 86400 * 2 + 1)] == [
        "0s", "500ms", "1m30s", "1h", "1h30m30s", "48h1s"]
    with pytest.raises(ValueError):
        prom_duration(-1)


def test_series_text_quotes_label_values() -> None:
    assert series_text({"__name__": "up", "b": 'say "hi"\\n', "a": "x\ny"}) == 'up{a="x\\ny", b="say \\"hi\\"\\\\n"}'
    assert series_text({"job": "api"}) == '{job="api"}'


def test_grid_holds_every_sample_time() -> None:
    store = SeriesStore()
    sid = store.series_id("x", {})
    for t in (0.0, 15.0, 45.0, 60.0):
        store.write(sid, t, t)
    series = store.series(sid)
    assert grid_step([series], 100.0) == 15.0
    assert on_grid(series, 15.0, 50.0) == [0.0, 15.0, GAP, 45.0]
    with pytest.raises(ValueError, match="not on the 30.0s grid"):
        on_grid(series, 30.0, 100.0)


GROUPS = [
    RuleGroup.model_validate({"name": "multi", "interval": "45s", "limit": 10, "rules": [
        {"record": "job:x:rate5m", "expr": "sum by (job) (\n  rate(x[5m])\n)\n", "labels": {"source": "rec"}},
        {"alert": "Quoted", "expr": 'x{job="a: b"} > 0', "for": "90s", "keep_firing_for": "1h",
         "labels": {"severity": "page", "who": "{{ $labels.job }}"},
         "annotations": {"summary": 'x is {{ $value | printf "%.2f" }}: "quoted"', "empty": ""}},
    ]}),
    RuleGroup.model_validate({"name": "plain", "rules": [{"alert": "Always", "expr": "vector(1)"}]}),
]


def test_rule_file_reads_back_as_the_same_groups() -> None:
    text = rule_file_text(GROUPS)
    assert "expr: |\n" in text and "for: 1m30s" in text and "keep_firing_for: 1h" in text and "interval: 45s" in text
    assert RuleFile.model_validate(yaml.safe_load(text)).groups == GROUPS


def test_rule_file_refuses_repeated_group_names() -> None:
    with pytest.raises(ValueError, match="'plain'"):
        rule_file_text([GROUPS[1], GROUPS[1]])


def test_promtool_accepts_the_rule_file(promtool: str, tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(rule_file_text(GROUPS))
    ok, output = check_rule_files(path)
    assert ok, output
    assert "SUCCESS: 3 rules found" in output


def test_nan_results_are_stated_without_comparing_nan() -> None:
    result = InstantVector([Sample({"__name__": "x", "a": "1"}, math.nan), Sample({"a": "2"}, 2.0)])
    numbers, flags = expr_tests("x", 60, result)
    assert numbers == {"expr": "(x) >= -Inf", "eval_time": "1m", "exp_samples": [{"labels": '{a="2"}', "value": 2.0}]}
    assert flags["exp_samples"] == [{"labels": '{a="1", tabletop_metric_name="x"}', "value": 1.0},
                                    {"labels": '{a="2"}', "value": 0.0}]
    assert expr_tests("s", 0, Scalar(math.nan)) == [
        {"expr": "(s) != bool (s)", "eval_time": "0s", "exp_samples": [{"labels": "{}", "value": 1.0}]}]


def test_inputs_are_the_series_rules_select_without_their_outputs() -> None:
    store = SeriesStore()
    for name, labels in [("x", {"job": "a"}), ("x", {"job": "b"}), ("y", {"job": "a"}), ("job:x:rate5m", {}),
                         ("ALERTS", {"alertname": "Quoted"}), ("z", {"job": "a: b"}), ("w", {"env": "prod"})]:
        store.series_id(name, labels)
    group = RuleGroup.model_validate({"name": "g", "rules": [
        {"record": "job:x:rate5m", "expr": 'rate(x{job!="b"}[5m])'},
        {"alert": "A", "expr": 'job:x:rate5m > 0 and on() {env=~"pr.*"}'},
        {"alert": "B", "expr": "ALERTS"},
    ]})
    assert [series_text(s.labels) for s in read_series(store, [group])] == ['x{job="a"}', 'w{env="prod"}']


TRICKY = [
    ('v{kind="steps"}', encode([0.1 * i for i in range(12)])),
    ('v{kind="accumulated"}', "0.1+0.1x10 1e-300+1e-300x5 9007199254740993x2"),
    ('v{kind="special"}', "NaN Inf -Inf -0.0 stale 5 _x3 1e+300 -1.5e-07 2.5x3"),
    ('v{kind="zeros"}', encode([-0.0, 0.0, 0.0, -0.0, -0.0, -0.0, 0.0, 1.0, 1.0])),
]


def test_promtool_reads_the_series_tabletop_reads(promtool: str, tmp_path: Path) -> None:
    """Every sample, as promtool loads it, is the value tabletop loads."""
    case = ExprCase("tricky-values", TRICKY, ["v", "timestamp(v)", "1 / v"], [60.0 * i for i in range(20)])
    run_cases([case], tmp_path)[case.id].check()
