"""Experiments in a scenario: inline or from a JSON/YAML file, checked with chaoslib, every
problem located at its line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tabletop.scenario.loader import load_scenario
from tabletop.scenario.problems import InputError
from tabletop.scenario.schema import json_schema

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "chaos-serving-replicas.yaml"


def bundled() -> dict[str, Any]:
    return yaml.safe_load(SCENARIO.read_text())


def problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    return [p.format() for p in caught.value.problems]


def line(path: Path, text: str, after: int = 0) -> int:
    return next(n for n, content in enumerate(path.read_text().splitlines(), start=1) if n > after and text in content)


def test_the_bundled_chaos_scenario_loads() -> None:
    loaded = load_scenario(SCENARIO)
    assert loaded.scenario.faults == [] and loaded.scenario.kubernetes.context == "twin"
    assert [(e.id, e.origin) for e in loaded.experiments] == [("lose-serving-capacity", "inline")]
    assert loaded.experiments[0].document["method"][1]["provider"]["func"] == "drain_nodes"


def test_an_experiment_file_json_or_yaml_beside_the_scenario(tmp_path: Path) -> None:
    data = bundled()
    document = data["experiments"][0].pop("experiment")
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "capacity.json").write_text(json.dumps(document, indent=2))
    (tmp_path / "experiments" / "capacity.yaml").write_text(yaml.safe_dump(document))
    data["experiments"][0]["file"] = "experiments/capacity.json"
    data["experiments"].append({"id": "again", "when": {"condition": 'ALERTS{alertname="ChatLLMHighErrorRate"}', "after": "5m"},
                                "file": "experiments/capacity.yaml"})
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    loaded = load_scenario(path)
    assert [(e.id, e.origin, e.document == document) for e in loaded.experiments] == [
        ("lose-serving-capacity", "experiments/capacity.json", True), ("again", "experiments/capacity.yaml", True)]
    before = loaded.sha256
    (tmp_path / "experiments" / "capacity.yaml").write_text(yaml.safe_dump({**document, "title": "changed"}))
    assert load_scenario(path).sha256 != before  # the experiment files are part of the scenario's digest


def test_experiment_problems_are_located_all_at_once(tmp_path: Path) -> None:
    data = bundled()
    experiment = data["experiments"][0]["experiment"]
    experiment.pop("title")
    experiment["steady-state-hypothesis"]["probes"][0].pop("tolerance")
    experiment["method"][0]["provider"]["func"] = "terminate_podz"
    experiment["method"][1]["provider"]["arguments"]["nme"] = "gpu-serve-2"
    experiment["rollbacks"][0]["provider"] = {"type": "shell", "path": "uncordon"}
    data["experiments"] += [
        {"id": "missing-file", "when": {"at": "5m"}, "file": "missing.json"},
        {"id": "both", "when": {"at": "5m"}, "file": "x.json", "experiment": {}},
        {"id": "broken-file", "when": {"at": "5m"}, "file": "broken.yaml"},
        {"id": "lose-serving-capacity", "when": {"at": "6m"}, "file": "broken.yaml"},
    ]
    data["kubernetes"]["kubeconfig"] = "prod.kubeconfig"
    data["ground_truth"]["root_cause"]["fault"] = "lose-serving-capacit"
    (tmp_path / "broken.yaml").write_text("title: t\ndescription: d\nmethod:\n  - type: action\n    name: a\n"
                                          "    provider: {type: python, module: nosuch.module, func: f}\n")
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    experiments = line(path, "experiments:")
    method = line(path, "method:", experiments)
    rollbacks = line(path, "rollbacks:", experiments)
    found = problems(path)
    s = str(path)
    expected = [
        f"{tmp_path / 'broken.yaml'}:6:5: method[0].provider: Chaos Toolkit: could not find Python module 'nosuch.module' in activity 'a'",
        f"{s}:{line(path, 'kubernetes:')}:1: kubernetes: 'kubeconfig' only goes with a real cluster's context; the twin writes its own",
        f"{s}:{line(path, 'experiment:', experiments)}:3: experiments[0].experiment: missing required key 'title' (a Chaos Toolkit experiment needs a title)",
        f"{s}:{line(path, '- type: probe', experiments)}:9: experiments[0].experiment.steady-state-hypothesis.probes[0]: "
        "missing required key 'tolerance' (a hypothesis probe needs one)",
        f"{s}:{line(path, 'provider:', method)}:7: experiments[0].experiment.method[0].provider: Chaos Toolkit: The python module "
        "'chaosk8s.pod.actions' does not expose a function called 'terminate_podz' in action 'terminate-a-replica'",
        f"{s}:{line(path, 'provider:', line(path, 'drain-a-node'))}:7: experiments[0].experiment.method[1].provider: Chaos Toolkit: "
        "argument 'nme' is not part of the function signature in activity 'drain_nodes'",
        f"{s}:{line(path, 'provider:', rollbacks)}:7: experiments[0].experiment.rollbacks[0].provider: Chaos Toolkit: "
        "unknown provider type 'shell'",
        f"{s}:{line(path, 'file: missing.json')}:9: experiments[1].file: file not found: {tmp_path / 'missing.json'}",
        f"{s}:{line(path, '- id: both')}:3: experiments[2]: an experiment needs exactly one of 'experiment' (written inline) or 'file'",
    ]
    for text in expected:
        assert text in found, "\n".join(found)
    duplicate = [p for p in found if "duplicate id 'lose-serving-capacity'" in p]
    assert len(duplicate) == 1 and ":experiments[4].id:" in duplicate[0].replace(": ", ":")
    assert found[-1].endswith("ground_truth.root_cause.fault: no fault or experiment 'lose-serving-capacit' (did you mean "
                              "'lose-serving-capacity'?); faults: none; experiments: lose-serving-capacity, missing-file, both, "
                              "broken-file")


def test_a_scenario_needs_faults_or_experiments(tmp_path: Path) -> None:
    data = bundled()
    data.pop("experiments")
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    found = problems(path)
    assert f"{path}:1:1: missing required key 'faults'" in found
    data["faults"] = []
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert any(p.endswith("faults: expected at least 1 item, got 0 items (a scenario needs faults or Chaos Toolkit experiments)")
               for p in problems(path))


def test_an_experiment_id_is_not_a_fault_id_too(tmp_path: Path) -> None:
    data = bundled()
    data["faults"] = [{"id": "lose-serving-capacity", "kind": "node_not_ready", "target": "node/gpu-serve-1", "when": {"at": "5m"}}]
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert any("experiments[0].id: 'lose-serving-capacity' is also the id of a fault" in p for p in problems(path))


def test_the_schema_describes_kubernetes_and_experiments() -> None:
    schema = json_schema("scenario")
    properties = schema["properties"]
    assert "faults" not in schema["required"]
    assert {"kubernetes", "experiments"} <= set(properties)
    experiment = schema["$defs"]["ChaosExperiment"]
    assert set(experiment["properties"]) == {"id", "when", "description", "experiment", "file"}
    assert "inline" in experiment["properties"]["experiment"]["description"]
    assert schema["$defs"]["Allowlist"]["properties"]["namespaces"]["description"].startswith("Namespaces experiments may touch")


def test_the_bundled_chaos_scenario_matches_its_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    data = json.loads(json.dumps(yaml.safe_load(SCENARIO.read_text()), default=str))
    jsonschema.Draft202012Validator(json_schema("scenario")).validate(data)


def test_responders_can_name_the_experiment_as_the_root_cause() -> None:
    from tabletop.drill.engine import Drill
    from tabletop.scoring.score import score_drill

    loaded = load_scenario(SCENARIO)
    drill = Drill(loaded, seed=0)
    drill.advance_to(300)
    assert "is not an experiment of this drill" in drill.execute("bob", "hypothesis chaos_experiment experiment/nope").message
    named = drill.execute("bob", "hypothesis chaos_experiment experiment/lose-serving-capacity 'the game day drained a node'")
    assert named.ok, named.message
    drill.end("facilitator")
    score = score_drill(loaded.scenario, list(loaded.runbooks), loaded.rubric, drill.timeline.events)
    hypothesis = next(c for c in score.criteria if c.id == "hypothesis")
    assert hypothesis.rating in ("P", "S") and "experiment/lose-serving-capacity was named" in hypothesis.summary


CHAOS_MESH_LATENCY = {
    "type": "action", "name": "slow-ranker",
    "provider": {"type": "python", "module": "chaosk8s.chaosmesh.network.actions", "func": "add_latency",
                 "arguments": {"name": "slow-ranker", "ns": "serving", "latency": "200ms",
                               "label_selectors": "app=ranker"}},
}


def test_chaos_mesh_against_the_twin_is_refused_when_the_scenario_loads(tmp_path: Path) -> None:
    """The twin serves no custom resources: an experiment creating a NetworkChaos would get a 404
    in the middle of a drill, so it is refused up front, at the activity's provider module."""
    data = bundled()
    data["experiments"][0]["experiment"]["method"].append(CHAOS_MESH_LATENCY)
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    found = [p for p in problems(path) if "chaosk8s.chaosmesh.network.actions.add_latency" in p]
    assert len(found) == 1, problems(path)
    at = line(path, "module: chaosk8s.chaosmesh.network.actions")
    assert found[0].startswith(f"{path}:{at}:") and "does not serve" in found[0] and "real cluster with Chaos Mesh" in found[0]


def test_custom_objects_in_an_experiment_file_are_refused_at_their_line(tmp_path: Path) -> None:
    data = bundled()
    document = data["experiments"][0].pop("experiment")
    document["method"].append({"type": "action", "name": "stress", "provider": {
        "type": "python", "module": "chaosk8s.crd.actions", "func": "create_custom_object",
        "arguments": {"group": "chaos-mesh.org", "version": "v1alpha1", "plural": "stresschaos",
                      "resource": {"kind": "StressChaos"}}}})
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    data["experiments"][0]["file"] = "exp.yaml"
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    found = [p for p in problems(path) if "create_custom_object" in p]
    assert len(found) == 1 and found[0].startswith(f"{tmp_path / 'exp.yaml'}:{line(tmp_path / 'exp.yaml', 'module: chaosk8s.crd.actions')}:")


def test_chaos_mesh_against_a_real_cluster_is_left_to_that_cluster(tmp_path: Path) -> None:
    data = bundled()
    data["experiments"][0]["experiment"]["method"].append(CHAOS_MESH_LATENCY)
    data["kubernetes"] = {"context": "kind-lab"}
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert load_scenario(path).experiments[0].document["method"][-1]["name"] == "slow-ranker"
