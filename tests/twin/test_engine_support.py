"""What the simulation gained for the twin: grace periods, eviction, template history, and two fixes
(a rollout reconciling inside its own deletions; a gang restart losing its new workers)."""

from __future__ import annotations

from tabletop.sim import mitigations, node_controller
from tabletop.sim.deployment import Template
from tabletop.sim.pod import PodState
from tests.sim.fleets import TRAINING, Harness, with_fleet


def test_delete_with_a_grace_period_and_forced() -> None:
    h = Harness()
    fleet = h.fleet
    first, second = sorted(p for p in fleet.pods if p.startswith("ranker-"))[:2]
    outcome = mitigations.apply(fleet, "delete_pod", f"pod/{first}", {"grace": 5})
    assert outcome.ok and "with a 5s grace period" in outcome.message
    h.run(4.9)
    assert fleet.pods[first].state is PodState.TERMINATING
    h.run(0.2)
    assert first not in fleet.pods
    node = fleet.pods[second].node
    node_controller.node_down(fleet, node, "test")
    assert mitigations.apply(fleet, "delete_pod", f"pod/{second}", {}).ok
    h.run(60)
    assert fleet.pods[second].state is PodState.TERMINATING  # the kubelet is gone: it stays
    forced = next(p for p in node.pods if p.alive)
    assert "at once" in mitigations.apply(fleet, "delete_pod", f"pod/{forced.name}", {"grace": 0}).message
    assert forced.name not in fleet.pods and forced.state is PodState.GONE


def test_evict_replaces_the_pod_like_a_drain_does() -> None:
    h = Harness()
    fleet = h.fleet
    victim = sorted(p for p in fleet.pods if p.startswith("ranker-"))[0]
    outcome = mitigations.apply(fleet, "evict", f"pod/{victim}", {})
    assert outcome.ok and outcome.message.startswith(f"pod/{victim} evicted from ")
    assert h.reasons(f"pod/{victim}") == ["Evicted", "Killing"]
    assert sum(1 for p in fleet.deployments["ranker"].pods if p.alive) == 4


def test_templates_record_restarts_and_rollbacks() -> None:
    h = Harness()
    d = h.fleet.deployments["chat-llm"]
    previous, current = d.templates
    assert (previous.version, current.version, current.hash, previous.since) == ("v2026.02.24", "v2026.03.10", d.template_hash, None)
    h.run(60)
    d.restart()
    d.rollback()
    assert [t.since for t in d.templates[2:]] == [60.0, 60.0]
    assert d.templates[2] == Template(d.templates[2].hash, "v2026.03.10", 1, 60.0) and d.templates[3].version == "v2026.02.24"
    assert d.templates[3].hash != previous.hash  # a rollback after a restart is a new template
    d.restarts = 0
    d.rollback()
    assert d.templates[-1].hash == current.hash  # back to a template it had: the same ReplicaSet


def test_rolling_back_twice_keeps_the_replica_count() -> None:
    h = Harness()
    d = h.fleet.deployments["chat-llm"]
    h.run(60)
    d.rollback()
    h.run(20)
    d.rollback()  # its new pods are not ready yet: all deleted at once, inside the reconcile
    alive = [p for p in d.pods if p.alive]
    assert len(alive) == d.replicas and all(p.template_hash == d.template_hash for p in alive)


def test_a_gang_restart_keeps_its_new_workers() -> None:
    h = Harness(with_fleet(**TRAINING))
    job = h.fleet.jobs["llm-pretrain"]
    job.restart(None)
    h.run(120)
    assert [h.fleet.pods.get(p.name) is p for p in job.pods] == [True] * 4
