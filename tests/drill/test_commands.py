"""The responder command API on a live drill: effects, refusals, and what lands on the timeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from tabletop.drill.engine import Drill
from tabletop.scenario.loader import LoadedScenario, load_scenario

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"


@pytest.fixture(scope="module")
def loaded() -> LoadedScenario:
    return load_scenario(BUNDLED)


@pytest.fixture
def paged(loaded: LoadedScenario) -> Drill:
    """The bundled drill just after the first page went out (T+17m)."""
    drill = Drill(loaded, seed=3)
    drill.advance_to(17 * 60)
    assert drill.pager.pages, "the GPU failure should have paged by T+17m"
    return drill


def last_command(drill: Drill) -> dict:
    event = [e for e in drill.timeline.events if e.kind == "command"][-1]
    return {"actor": event.actor, **event.data}


def kinds_after(drill: Drill, seq: int) -> list[str]:
    return [e.kind for e in drill.timeline.events if e.seq > seq]


def test_ack_is_recorded_with_its_effect_after_the_command(paged: Drill) -> None:
    result = paged.execute("alice", "ack")
    assert result.ok and "P1 acknowledged" in result.message
    command = result.event
    assert command is not None and command.kind == "command" and command.actor == "alice"
    assert command.data["line"] == "ack" and command.data["ok"] is True
    follow = paged.timeline.events[command.seq]
    assert follow.kind == "page.acknowledged" and follow.data["by"] == "alice"


def test_refusals_are_recorded_too(paged: Drill) -> None:
    for actor, line, reason in [
        ("alice", "mitigate drain node/gpu-serve-9", "node/gpu-serve-9 does not exist"),
        ("alice", "mitigate delete_pod pod/nope", "pod/nope does not exist"),
        ("alice", "assign firefighter bob", "unknown role"),
        ("alice", "handoff zed --status x", "'zed' is not a participant"),
        ("mallory", "ack", "not a participant of this drill"),
        ("alice", "hypothesis gpu_xd node/gpu-serve-2", "did you mean 'gpu_xid'"),
        ("alice", "query sum(rate(x[5m])", "unclosed left parenthesis"),
        ("alice", "frobnicate", "unknown command 'frobnicate'"),
        ("alice", "reply vp-asks-eta 'soon'", "no message 'vp-asks-eta' has arrived"),
        ("alice", "step 99", "not 99"),
        ("alice", "step 5", "needs node="),
    ]:
        result = paged.execute(actor, line)
        assert not result.ok and reason in result.message, (line, result.message)
        recorded = last_command(paged)
        assert recorded["ok"] is False and recorded["line"] == line and reason in recorded["message"]


def test_investigation_commands_answer_from_the_live_fleet(paged: Drill) -> None:
    query = paged.execute("bob", 'query max by (Hostname, gpu) (DCGM_FI_DEV_XID_ERRORS{job="nvidia-dcgm-exporter"}) > 0')
    assert query.ok and 'Hostname="gpu-serve-2"' in query.output and " 79" in query.output
    logs = paged.execute("bob", "logs Xid")
    assert logs.ok and "GPU has fallen off the bus" in logs.output and "node/gpu-serve-2 kernel" in logs.output
    pods = paged.execute("bob", "kubectl get pods")
    assert pods.ok and "CrashLoopBackOff" in pods.output
    described = paged.execute("bob", "describe node/gpu-serve-2")
    assert described.ok and "LOST (Xid 79)" in described.output
    recorded = last_command(paged)
    assert recorded["result"] and len(recorded["result"].splitlines()) <= 5  # the timeline keeps a summary


def test_mitigation_changes_the_fleet_and_is_credited_with_the_fix(paged: Drill) -> None:
    broken = next(p for p in paged.fleet.deployments["chat-llm"].pods if p.gpus and p.gpus[1].lost)
    result = paged.execute("bob", f"kubectl delete pod {broken.name}")
    assert result.ok
    applied = paged.timeline.events[result.event.seq]
    assert applied.kind == "mitigation.applied" and applied.data["action"] == "delete_pod"
    paged.advance_to(paged.now + 1)
    mitigated = [e for e in paged.timeline.events if e.kind == "fault.mitigated"]
    assert mitigated and mitigated[0].data == {"fault": "gpu-falls-off-bus", "command": result.event.seq}


def test_runbook_step_runs_its_commands_with_placeholders(paged: Drill) -> None:
    result = paged.execute("bob", "step 5 node=gpu-serve-2")
    assert result.ok and paged.fleet.nodes["gpu-serve-2"].cordoned
    kinds = kinds_after(paged, result.event.seq - 1)
    assert kinds[:3] == ["command", "mitigation.applied", "fleet.event"] and kinds[-1] == "runbook.step"
    assert paged.incident.steps_done == {"serving-gpu-node-failure": [5]}
    query_step = paged.execute("bob", "step 2")
    assert query_step.ok and "$ query" in query_step.output


def test_roles_severity_notes_status_and_resolution(paged: Drill) -> None:
    assert paged.execute("alice", "assign ic dana").ok
    assert paged.incident.roles == {"incident_commander": "dana"}
    assert paged.execute("dana", "severity sev2").ok and paged.incident.severity == "SEV2"
    assert paged.execute("erin", "status 'Elevated errors on the assistant; mitigation under way'").ok
    assert paged.execute("chen", "note GPU 5 on gpu-serve-2 shows Xid 79").ok
    resolved = paged.execute("dana", "resolve 'capacity restored'")
    assert resolved.ok and paged.incident.resolved
    assert [e.kind for e in paged.timeline.events[resolved.event.seq:]][:2] == ["incident.resolved", "page.resolved"]
    again = paged.execute("dana", "resolve")
    assert not again.ok and "already resolved" in again.message


def test_handoff_note_parts_land_on_the_timeline(paged: Drill) -> None:
    paged.execute("alice", "ack")
    result = paged.execute("alice", "handoff bob --status '5 of 6 replicas' --actions 'cordoned gpu-serve-2' --next 'watch p99'")
    assert result.ok
    handoff = paged.timeline.events[result.event.seq]
    assert handoff.data["note"] == {"status": "5 of 6 replicas", "actions": "cordoned gpu-serve-2", "next": "watch p99"}
    thin = paged.execute("bob", "handoff chen --status 'over to you'")
    assert thin.ok and "note has no actions, next" in thin.message


def test_a_fault_injected_by_command_hits_the_fleet_and_bad_ones_are_refused(paged: Drill) -> None:
    thermal = paged.execute("alice", "fault gpu_thermal node/gpu-serve-1 gpus=[0,3] duration=10m id=hot-aisle")
    assert thermal.ok, thermal.message
    injected = [e for e in paged.timeline.events if e.kind == "fault.injected"][-1]
    assert (injected.actor, injected.data["fault"], injected.data["kind"]) == ("alice", "hot-aisle", "gpu_thermal")
    assert injected.data["command"] == thermal.event.seq
    hot = {g.index for g in paged.fleet.nodes["gpu-serve-1"].gpus if g.throttled_temp_c is not None}
    assert hot == {0, 3}

    by_facilitator = paged.execute("facilitator", "fault traffic_surge deployment/ranker")
    assert by_facilitator.ok and by_facilitator.message == "fault chaos-traffic-surge-1 injected: traffic_surge on deployment/ranker"

    for line, message in [
        ("fault gpu_xd node/gpu-serve-0", "kind: unknown kind 'gpu_xd' (did you mean 'gpu_xid'?)"),
        ("fault gpu_xid node/gpu-serve-0 gpu=9", "parameters.gpu: node gpu-serve-0 has 8 GPUs (0 to 7); there is no GPU 9"),
        ("fault gpu_xid node/gpu-serve-0 id=hot-aisle", "id: the drill already has a fault 'hot-aisle'"),
        ("fault gpu_xid deployment/chat-llm", "a gpu_xid fault targets a node (node/NAME), not a deployment"),
    ]:
        refused = paged.execute("bob", line)
        assert not refused.ok and message in refused.message, refused.message
    assert last_command(paged)["ok"] is False  # refusals are on the timeline, and injected nothing
    assert sum(e.kind == "fault.injected" and e.seq > injected.seq for e in paged.timeline.events) == 1
