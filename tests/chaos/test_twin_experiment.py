"""End to end: a scenario whose faults are chaostoolkit-kubernetes actions, run by real chaoslib
against the drill's Kubernetes twin.

The experiment (scenarios/chaos-serving-replicas.yaml) terminates a chat-llm pod and drains
gpu-serve-2 through chaosk8s; the simulated fleet loses capacity, the error-rate alert fires,
the on-call is paged, a scripted responder acknowledges and scales up, the experiment's
rollback uncordons the node. ``drain_nodes`` polls every 10 wall seconds, so this takes about
45 s at 60x.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tabletop.chaos.runner import run_chaos_drill
from tabletop.drill.engine import Drill
from tabletop.drill.outputs import write_outputs
from tabletop.drill.replay import first_difference, replay_timeline
from tabletop.drill.responders.scripted import ScriptResponder
from tabletop.drill.run import run_headless
from tabletop.drill.timeline import Event
from tabletop.drill.timeline_reader import read_timeline
from tabletop.scenario.loader import load_scenario, load_script

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "chaos-serving-replicas.yaml"
SCRIPT = Path(__file__).parent / "fixtures" / "responder.yaml"
EXPERIMENT = "lose-serving-capacity"


def kinds(events: list[Event], *wanted: str) -> list[Event]:
    return [e for e in events if e.kind in wanted]


def activity(events: list[Event], kind: str, name: str, phase: str | None = None) -> Event:
    found = [e for e in events if e.kind == kind and e.data["activity"] == name and (phase is None or e.data["phase"] == phase)]
    assert found, f"no {kind} for {name}"
    return found[0]


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> tuple[Drill, Path]:
    out = tmp_path_factory.mktemp("chaos-e2e")
    loaded = load_scenario(SCENARIO)
    responder = ScriptResponder(load_script(SCRIPT, loaded.scenario))
    messages: list[str] = []
    drill = run_chaos_drill(loaded, out_dir=out, seed=3, speed=60, responder=responder, notify=messages.append,
                            scenario_label="scenarios/chaos-serving-replicas.yaml")
    assert messages[0] == f"experiment {EXPERIMENT}: runs against the twin"
    return drill, out


def test_chaosk8s_actions_drive_the_simulated_fleet(drill: tuple[Drill, Path]) -> None:
    d, out = drill
    events = d.timeline.events
    assert events[-1].kind == "drill.ended" and events[-1].data["reason"] == "duration"

    started = kinds(events, "chaos.experiment.started")
    assert [e.data["experiment"] for e in started] == [EXPERIMENT] and started[0].t == 120
    terminate = activity(events, "chaos.activity.ended", "terminate-a-replica")
    drain = activity(events, "chaos.activity.ended", "drain-a-node")
    uncordon = activity(events, "chaos.activity.ended", "uncordon-the-node")
    assert (terminate.data["status"], terminate.data["phase"], terminate.data["type"]) == ("succeeded", "method", "action")
    assert terminate.data["provider"] == {"type": "python", "module": "chaosk8s.pod.actions", "func": "terminate_pods",
                                          "arguments": {"label_selector": "app=chat-llm", "ns": "serving", "qty": 1}}
    killed = terminate.data["output"]
    assert len(killed) == 1 and killed[0].startswith("chat-llm-")
    assert (drain.data["status"], drain.data["output"]) == ("succeeded", ["gpu-serve-2"])
    assert (uncordon.data["status"], uncordon.data["phase"]) == ("succeeded", "rollbacks")
    probes = [e for e in kinds(events, "chaos.activity.ended") if e.data["type"] == "probe"]
    assert [p.data["output"] for p in probes] == [True, True]  # the steady state before and after

    ended = kinds(events, "chaos.experiment.ended")
    assert len(ended) == 1
    assert ended[0].data == {"experiment": EXPERIMENT, "status": "completed", "deviated": False, "mode": "twin",
                             "journal": f"chaos/{EXPERIMENT}.journal.json", "reason": None}
    journal = json.loads((out / "chaos" / f"{EXPERIMENT}.journal.json").read_text())
    assert journal["status"] == "completed"
    assert [r["activity"]["name"] for r in journal["run"]] == ["terminate-a-replica", "drain-a-node"]
    assert [r["activity"]["name"] for r in journal["rollbacks"]] == ["uncordon-the-node"]

    # the twin recorded chaosk8s's writes as commands of the experiments' own actor, between the activity's start and end
    assert not [e for e in kinds(events, "command") if e.actor == "alice"]  # not in a participant's name
    commands = [e for e in kinds(events, "command") if e.actor == "chaostoolkit"]
    lines = [c.data["line"] for c in commands]
    assert lines[0] == f"mitigate delete_pod pod/{killed[0]}"
    assert "mitigate cordon node/gpu-serve-2" in lines and lines[-1] == "mitigate uncordon node/gpu-serve-2"
    assert any(line.startswith("mitigate evict pod/chat-llm-") for line in lines)
    assert all(c.data["ok"] for c in commands)
    cordon = next(c for c in commands if c.data["line"] == "mitigate cordon node/gpu-serve-2")
    assert activity(events, "chaos.activity.started", "drain-a-node").seq < cordon.seq < drain.seq
    assert d.fleet.nodes["gpu-serve-2"].cordoned is False

    # the fleet degraded: alert, page; the scripted responder acknowledged and scaled, all while the drain ran
    firing = next(e for e in kinds(events, "alert.firing") if e.data["alertname"] == "ChatLLMHighErrorRate")
    page = kinds(events, "page.triggered")[0]
    breach = kinds(events, "slo.breach_start")[0]
    assert terminate.seq < breach.seq < firing.seq < page.seq < drain.seq
    bob = [c.data for c in kinds(events, "command") if c.actor == "bob"]
    assert [c["ok"] for c in bob] == [True, True, True, True]
    assert bob[2]["line"] == "mitigate scale deployment/chat-llm replicas=7"
    assert kinds(events, "page.acknowledged")[0].seq < drain.seq
    assert d.ended and sum(d.failed_requests.values()) > 0


def test_score_and_postmortem_mention_the_injected_faults(drill: tuple[Drill, Path]) -> None:
    d, out = drill
    outputs = write_outputs(d.loaded, d.timeline.header, d.timeline.events, out)
    postmortem = outputs.postmortem
    assert f"Chaos Toolkit experiment `{EXPERIMENT}`" in postmortem
    assert "method action `terminate-a-replica` (chaosk8s.pod.actions.terminate_pods) succeeded" in postmortem
    assert "method action `drain-a-node` (chaosk8s.node.actions.drain_nodes) succeeded" in postmortem
    assert "rollbacks action `uncordon-the-node` (chaosk8s.node.actions.uncordon_node) succeeded" in postmortem
    assert f"journal `chaos/{EXPERIMENT}.journal.json`" in postmortem
    assert f"Root-cause fault: `{EXPERIMENT}` (chaos_experiment on experiment/{EXPERIMENT})" in postmortem
    score = json.loads((out / "score.json").read_text())
    assert f"experiment/{EXPERIMENT}" in json.dumps(score)
    assert "Impact begins" in postmortem and outputs.score.total > 0
    # the experiment's drain and deletions are the faults, not the team's mitigations
    resolution = postmortem.split("## Resolution", 1)[1].split("## ", 1)[0]
    rows = [line for line in resolution.splitlines() if line.startswith("| T+")]
    assert len(rows) == 1 and "| Bob Okafor | scale deployment/chat-llm |" in rows[0]
    harmful = next(c for c in score["criteria"] if c["id"] == "harmful_actions")
    assert harmful["summary"].startswith("None of the mitigations applied (1)")


def test_replay_verifies_a_drill_that_ran_an_experiment(drill: tuple[Drill, Path], tmp_path: Path) -> None:
    _, out = drill
    recorded = read_timeline(out / "timeline.jsonl")
    replayed = replay_timeline(load_scenario(SCENARIO), recorded, tmp_path / "replayed.jsonl")
    assert first_difference(recorded, replayed) is None
    assert not (tmp_path / "chaos").exists()  # nothing ran again


def test_a_headless_drill_records_that_its_experiment_did_not_run(tmp_path: Path) -> None:
    loaded = load_scenario(SCENARIO)
    drill = run_headless(loaded, ScriptResponder(load_script(SCRIPT, loaded.scenario)), seed=3,
                         timeline_path=tmp_path / "timeline.jsonl")
    chaos = [(e.t, e.kind, e.data.get("status")) for e in drill.timeline.events if e.kind.startswith("chaos.")]
    assert chaos == [(120, "chaos.experiment.started", None), (120, "chaos.experiment.ended", "not_run")]
    assert "tabletop run --twin" in kinds(drill.timeline.events, "chaos.experiment.ended")[0].data["reason"]
    recorded = read_timeline(tmp_path / "timeline.jsonl")
    assert first_difference(recorded, replay_timeline(loaded, recorded)) is None


def test_an_experiment_starts_when_its_condition_holds(tmp_path: Path) -> None:
    import yaml

    data = yaml.safe_load(SCENARIO.read_text())
    data["experiments"][0]["when"] = {"condition": 'sum(kube_node_spec_unschedulable{job="kube-state-metrics"}) == 0',
                                      "after": "3m10s"}
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    loaded = load_scenario(path)
    drill = run_headless(loaded, ScriptResponder(load_script(SCRIPT, loaded.scenario)), seed=3, until=300)
    started = kinds(drill.timeline.events, "chaos.experiment.started")
    assert [(e.t, e.data["experiment"], e.data["source"]) for e in started] == [(210, EXPERIMENT, "inline")]
