"""Parameter paths: by index, by name=/id= selector, quoted keys, and where they lead nowhere;
values written as the scenario writes them (durations as 5m) reach the loaded scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from tabletop.scenario.yaml_source import parse_yaml
from tabletop.sweep.paths import PathError, Select, assign, parse_path, resolve
from tabletop.sweep.plan import plan_sweep
from tests.sweep.helpers import BUNDLED, write

DATA = parse_yaml(BUNDLED.read_bytes(), str(BUNDLED))[0].data  # type: ignore[union-attr]


def where(path: str) -> tuple:
    return resolve(DATA, parse_path(path), "scenario.yaml")


def test_paths_by_index_selector_and_quoted_key() -> None:
    assert where("escalation_policies[0].levels[1].ack_timeout") == ("escalation_policies", 0, "levels", 1, "ack_timeout")
    assert where("fleet.deployments[name=ranker].replicas") == ("fleet", "deployments", 1, "replicas")
    assert where("faults[id=node-hangs].when.at") == ("faults", 1, "when", "at")
    assert where('fleet.node_pools[0].labels["nvidia.com/gpu.product"]') == (
        "fleet", "node_pools", 0, "labels", "nvidia.com/gpu.product")
    assert parse_path("faults[gpu=5]") == ("faults", Select("gpu", "5"))
    assert where("faults[gpu=5].xid") == ("faults", 0, "xid")  # a selector matches numbers by their text


def test_a_missing_last_key_is_added_and_left_to_the_scenario_checks() -> None:
    assert where("fleet.deployments[name=chat-llm].surge") == ("fleet", "deployments", 0, "surge")
    data = {"a": [{"b": 1}]}
    assign(data, resolve(data, parse_path("a[0].c"), "x"), "5m")
    assert data == {"a": [{"b": 1, "c": "5m"}]}


@pytest.mark.parametrize("path, message", [
    ("escalation_polices[0].levels", "has no key 'escalation_polices' (did you mean 'escalation_policies'?)"),
    ("escalation_policies[0].levels[3].ack_timeout", "escalation_policies[0].levels has 3 item(s); [3] is past the end"),
    ("fleet.deployments[name=chat].replicas", "no item of fleet.deployments has name 'chat' (did you mean 'chat-llm'?); "
                                              "names: chat-llm, ranker"),
    ("fleet.deployments[owner=x].replicas", "no item of fleet.deployments has a key 'owner'"),
    ("fleet[0].replicas", "fleet is a mapping, not a list"),
    ("metadata.duration.hours", "metadata.duration is '2h', not a mapping with key 'hours'"),
    ("faults..when", "cannot read path 'faults..when' at character 8: expected a key"),
    ("faults[one]", "cannot read path 'faults[one]' at character 7: expected [INDEX], [FIELD=VALUE]"),
])
def test_a_path_that_leads_nowhere_says_where_it_stops(path: str, message: str) -> None:
    with pytest.raises(PathError) as error:
        where(path)
    assert message in str(error.value)


def test_a_selector_matching_two_items_asks_for_an_index() -> None:
    data = {"items": [{"name": "a"}, {"name": "a"}]}
    with pytest.raises(PathError, match="2 items of items have name 'a'; pick one by index"):
        resolve(data, parse_path("items[name=a].x"), "x")


def test_durations_written_as_the_scenario_writes_them_reach_the_loaded_scenario(tmp_path: Path) -> None:
    spec = write(tmp_path, f"""\
apiVersion: tabletop/v1
kind: Sweep
scenario: {BUNDLED}
parameters:
  - {{name: ack, path: "escalation_policies[id=serving-oncall].levels[0].ack_timeout", values: [90s, 5m, 1h30m]}}
  - {{name: replicas, path: "fleet.deployments[name=chat-llm].replicas", values: [6, 8]}}
seeds: [3, 1-2]
""")
    plan = plan_sweep(spec)
    assert plan.points == [{"ack": a, "replicas": r} for a in ("90s", "5m", "1h30m") for r in (6, 8)]
    timeouts = [t.loaded.scenario.escalation_policies[0].levels[0].ack_timeout for t in plan.targets]  # type: ignore[union-attr]
    replicas = [t.loaded.scenario.fleet.deployments[0].replicas for t in plan.targets]  # type: ignore[union-attr]
    assert timeouts == [90.0, 90.0, 300.0, 300.0, 5400.0, 5400.0]
    assert replicas == [6, 8] * 3
    untouched = plan.targets[0].loaded.scenario  # type: ignore[union-attr]
    assert untouched.escalation_policies[0].levels[1].ack_timeout == 600.0
    assert [(r.point, r.seed) for r in plan.runs[:4]] == [(0, 3), (0, 1), (0, 2), (1, 3)]
    assert len(plan.runs) == 6 * 3


def test_zip_pairs_the_values_instead_of_crossing_them(tmp_path: Path) -> None:
    spec = write(tmp_path, f"""\
apiVersion: tabletop/v1
kind: Sweep
scenario: {BUNDLED}
combine: zip
parameters:
  - {{name: ack, path: "escalation_policies[0].levels[0].ack_timeout", values: [2m, 10m]}}
  - {{name: at, path: "faults[id=gpu-falls-off-bus].when.at", values: [5m, 20m]}}
""")
    assert plan_sweep(spec).points == [{"ack": "2m", "at": "5m"}, {"ack": "10m", "at": "20m"}]
