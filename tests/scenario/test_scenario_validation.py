"""Pydantic errors as located, plain-words problems."""

from typing import Annotated

from pydantic import BaseModel, Field

from tabletop.scenario.faults import Fault
from tabletop.scenario.fleet import NodePool
from tabletop.scenario.model import Metadata
from tabletop.scenario.problems import sorted_problems
from tabletop.scenario.rules import RuleFile
from tabletop.scenario.validation import did_you_mean, validate
from tabletop.scenario.yaml_source import parse_yaml


class Faults(BaseModel):
    faults: list[Fault]


def check(tp, text: str) -> list[str]:
    source, found = parse_yaml(text, "f.yaml")
    assert found == []
    value, problems = validate(tp, source)
    assert (value is None) == bool(problems)
    return [p.format() for p in sorted_problems(problems)]


def at(text: str, needle: str) -> str:
    """``f.yaml:line:column`` of the only occurrence of ``needle``."""
    assert text.count(needle) == 1
    index = text.index(needle)
    return f"f.yaml:{text.count(chr(10), 0, index) + 1}:{index - text.rfind(chr(10), 0, index)}"


def test_valid_data_gives_the_model():
    source, _ = parse_yaml("name: gpu\ngpu_model: L4\nnodes: 2\n", "f.yaml")
    pool, problems = validate(NodePool, source)
    assert problems == [] and pool.nodes == 2


def test_missing_unknown_wrong_type_and_literal():
    assert check(NodePool, "name: gpu\ngpu_modl: L4\nnodes: two\ngpus_per_node: 9.5\n") == [
        "f.yaml:1:1: missing required key 'gpu_model'",
        "f.yaml:2:1: gpu_modl: unknown key 'gpu_modl' (did you mean 'gpu_model'?); allowed keys: name, gpu_model, nodes, gpus_per_node, labels",
        "f.yaml:3:8: nodes: expected a whole number, got 'two'",
        "f.yaml:4:16: gpus_per_node: expected a whole number, got 9.5",
    ]
    assert check(NodePool, "name: gpu\ngpu_model: H100\nnodes: 0\n") == [
        "f.yaml:2:12: gpu_model: expected one of 'H100-SXM-80GB', 'H200-SXM-141GB', 'A100-SXM4-80GB', 'A100-SXM4-40GB', 'L40S', 'L4', 'A10G', got 'H100' (did you mean 'H100-SXM-80GB'?)",
        "f.yaml:3:8: nodes: expected a number at least 1, got 0",
    ]


def test_missing_key_is_located_at_its_parent_mapping():
    text = "faults:\n  - id: a\n    kind: gpu_xid\n    when: {at: 5m}\n"
    assert check(Faults, text) == ["f.yaml:2:5: faults[0]: missing required key 'target'"]


def test_union_tags_are_not_part_of_the_path():
    text = "faults:\n  - id: a\n    kind: gpu_xid\n    target: node/n-0\n    when: {at: 5m}\n    gpu: eight\n    xid: 80\n"
    assert check(Faults, text) == [
        "f.yaml:6:10: faults[0].gpu: expected a whole number, got 'eight'",
        "f.yaml:7:10: faults[0].xid: expected one of 13, 31, 43, 45, 48, 61, 62, 63, 64, 74, 79, 92, 94, 95, 119, got 80",
    ]


def test_unknown_and_missing_fault_kind():
    text = "faults:\n  - {id: a, kind: gpu_xd, target: node/n-0, when: {at: 5m}}\n  - {id: b, target: node/n-0, when: {at: 5m}}\n"
    assert at(text, "gpu_xd") == "f.yaml:2:19"
    kinds = "'gpu_xid', 'hbm_ecc', 'gpu_thermal', 'node_not_ready', 'memory_leak', 'bad_rollout', 'rollout', 'feature_drift', 'feature_store_outage', 'traffic_surge', 'nccl_hang', 'checkpoint_storage_full'"
    assert check(Faults, text) == [
        f"f.yaml:2:19: faults[0].kind: unknown kind 'gpu_xd' (did you mean 'gpu_xid'?); expected one of {kinds}",
        f"f.yaml:3:5: faults[1]: missing required key 'kind' (one of {kinds})",
    ]


def test_undiscriminated_union_gives_one_answer():
    text = "faults:\n  - {id: a, kind: gpu_thermal, target: node/n-0, when: {at: 5m}, gpus: some}\n  - {id: b, kind: gpu_thermal, target: node/n-0, when: {at: 5m}, gpus: [1, 99]}\n"
    assert check(Faults, text) == [
        f"{at(text, 'some')}: faults[0].gpus: expected a list or 'all', got 'some'",
        f"{at(text, '99')}: faults[1].gpus[1]: expected a number at most 15, got 99",
    ]


def test_aliases_and_model_validators():
    text = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        for_: 5m\n      - record: r\n        expr: up\n        for: 1m\n"
    assert check(RuleFile, text) == [
        "f.yaml:6:9: groups[0].rules[0].for_: unknown key 'for_' (did you mean 'for'?); allowed keys: alert, record, expr, for, keep_firing_for, labels, annotations",
        "f.yaml:7:9: groups[0].rules[1]: a recording rule takes only 'record', 'expr' and 'labels'",
    ]
    text = "groups:\n  - name: g\n    rules:\n      - {alert: A, expr: up, for: soon}\n"
    assert check(RuleFile, text) == [
        f"{at(text, 'soon')}: groups[0].rules[0].for: 'soon' is not a duration (expected e.g. 90s, 5m, 1h30m)",
    ]


def test_sizes_strings_and_empty_values():
    text = "id: drill\ntitle: 5\nsummary:\ndifficulty: beginner\nlearning_objectives: []\nduration: 1h\nstart: 2026-03-17T08:00:00Z\n"
    assert check(Metadata, text) == [
        "f.yaml:2:8: title: expected a string, got 5 (write it in quotes to keep it as text)",
        "f.yaml:3:1: summary: expected a string, got an empty value",
        "f.yaml:5:1: learning_objectives: expected at least 1 item, got 0 items",
    ]


def test_wrong_container_types():
    class Box(BaseModel):
        items: Annotated[list[int], Field(max_length=1)]
        table: dict[str, int] = {}

    assert check(Box, "items: 3\ntable: [1]\n") == [
        "f.yaml:1:8: items: expected a list, got 3",
        "f.yaml:2:1: table: expected a mapping (key: value), got a list",
    ]
    assert check(Box, "items: [1, 2]\n") == ["f.yaml:1:1: items: expected at most 1 item, got 2 items"]


def test_did_you_mean():
    assert did_you_mean("replcas", ["replicas", "name"]) == "replicas"
    assert did_you_mean("H100", ["H100-SXM-80GB", "L4"]) == "H100-SXM-80GB"
    assert did_you_mean("Scenario", ["scenario"]) == "scenario"
    assert did_you_mean("zzz", ["replicas"]) is None
    assert did_you_mean(5, ["replicas"]) is None


def test_numbers_too_large_for_a_float():
    assert check(Metadata, "id: d\ntitle: t\nsummary: s\ndifficulty: beginner\nlearning_objectives: [x]\nduration: 1" + "0" * 400 + "\nstart: 2026-03-17T08:00:00Z\n") == [
        "f.yaml:6:11: duration: the number is too large",
    ]
