"""Pod lifecycle, scheduling and node failures behave as Kubernetes does."""

from __future__ import annotations

import pytest

from tabletop.sim import kubelet, mitigations, node_controller
from tabletop.sim.node import EVICTION_TOLERATION, NODE_MONITOR_GRACE
from tabletop.sim.pod import PodState
from tests.sim.fleets import Harness


def chat_pod_on(h: Harness, node: str, gpu: int):
    return h.fleet.nodes[node].gpus[gpu].pod


def test_fleet_starts_steady_with_first_fit_placement() -> None:
    h = Harness()
    chat = h.fleet.deployments["chat-llm"]
    assert [p.state for p in chat.pods] == [PodState.READY] * 6
    assert sorted({p.node.name for p in chat.pods}) == ["gpu-serve-0", "gpu-serve-1", "gpu-serve-2"]
    assert all(len(p.gpus) == 4 for p in chat.pods)
    assert len(h.fleet.nodes["gpu-serve-3"].free_gpus()) == 4  # ranker took 4 GPUs
    assert len(h.fleet.nodes["gpu-serve-4"].free_gpus()) == 8
    assert h.events == []  # steady state leaves no events


def test_lost_gpu_makes_its_replica_crash_loop_with_growing_back_off() -> None:
    h = Harness()
    pod = chat_pod_on(h, "gpu-serve-2", 5)
    h.fleet.gpu_lost(h.fleet.nodes["gpu-serve-2"].gpus[5])
    h.run(3)
    assert pod.state is PodState.BACKOFF and pod.restarts == 1
    crash_times = []
    last = pod.restarts
    for _ in range(900):
        h.run(1)
        if pod.restarts != last:
            crash_times.append(h.env.now)
            last = pod.restarts
    # back-off 10 s, 20 s, 40 s, 80 s, ... each followed by the 12 s it takes CUDA init to fail
    gaps = [b - a for a, b in zip(crash_times, crash_times[1:])]
    assert gaps[:3] == pytest.approx([20 + 12, 40 + 12, 80 + 12], abs=1.01)
    assert pod.node.name == "gpu-serve-2"  # a restarted container keeps its node and GPUs
    assert "BackOff" in h.reasons(pod.ref)


def test_deleting_the_broken_replica_reschedules_it_on_a_healthy_node() -> None:
    h = Harness()
    chat = h.fleet.deployments["chat-llm"]
    pod = chat_pod_on(h, "gpu-serve-2", 5)
    h.fleet.gpu_lost(h.fleet.nodes["gpu-serve-2"].gpus[5])
    h.run(60)
    outcome = mitigations.apply(h.fleet, "delete_pod", pod.ref, {})
    assert outcome.ok
    h.run(1)
    new = [p for p in chat.pods if p is not pod and p.created_at > 0]
    assert len(new) == 1
    # gpu-serve-2 has only 3 healthy free GPUs now, so the 4-GPU replica goes to gpu-serve-3
    assert new[0].node.name == "gpu-serve-3"
    h.run(45 + 6 * 60 + 5)
    assert new[0].state is PodState.READY
    assert sum(p.ready for p in chat.pods) == 6


def test_node_not_ready_stops_serving_then_marks_then_evicts() -> None:
    h = Harness()
    node = h.fleet.nodes["gpu-serve-2"]
    on_node = [p for p in node.pods]
    node_controller.node_down(h.fleet, node, "test")
    assert all(not p.serving and p.ready for p in on_node)  # still Ready in the API, but not answering
    h.run(NODE_MONITOR_GRACE + 1)
    assert node.ready_condition == "Unknown"
    assert all(not p.ready for p in on_node)
    h.run(EVICTION_TOLERATION)
    assert all(p.state is PodState.TERMINATING for p in on_node)  # stuck: the node cannot confirm
    chat = h.fleet.deployments["chat-llm"]
    assert len([p for p in chat.pods if p.alive]) == 6  # replacements were created
    h.run(60)
    placed = sorted(p.node.name for p in chat.pods if p.node and p.node.name not in ("gpu-serve-0", "gpu-serve-1"))
    assert placed == ["gpu-serve-3", "gpu-serve-4"]
    node_controller.node_up(h.fleet, node, rebooted=False)
    h.run(1)
    assert all(p.state is PodState.GONE for p in on_node)


def test_drain_evicts_at_once_and_cordons() -> None:
    h = Harness()
    node = h.fleet.nodes["gpu-serve-2"]
    outcome = mitigations.apply(h.fleet, "drain", "node/gpu-serve-2", {})
    assert outcome.ok and node.cordoned
    assert "evicted 2 pod(s)" in outcome.changes[-1]
    h.run(31)
    assert [p for p in node.pods if p.alive] == []
    assert node.free_gpus() and len(node.free_gpus()) == 8


def test_rolling_restart_keeps_availability_above_max_unavailable() -> None:
    h = Harness()
    chat = h.fleet.deployments["chat-llm"]
    old_hash = chat.template_hash
    mitigations.apply(h.fleet, "rollout_restart", "deployment/chat-llm", {})
    lowest = 6
    for _ in range(3 * 3600 // 10):
        h.run(10)
        lowest = min(lowest, sum(p.ready for p in chat.pods))
    assert lowest == 5  # maxUnavailable = floor(25% of 6) = 1
    assert {p.template_hash for p in chat.pods} == {chat.template_hash} != {old_hash}
    assert sum(p.ready for p in chat.pods) == 6


def test_scale_and_rollback() -> None:
    h = Harness()
    chat = h.fleet.deployments["chat-llm"]
    assert mitigations.apply(h.fleet, "scale", "deployment/chat-llm", {"replicas": 7}).ok
    h.run(1)
    assert len(chat.pods) == 7
    outcome = mitigations.apply(h.fleet, "rollback", "deployment/chat-llm", {})
    assert outcome.ok and chat.version == "v2026.02.24"
    assert not mitigations.apply(h.fleet, "delete_pod", "pod/nope", {}).ok


def test_refusals_name_the_problem() -> None:
    h = Harness()
    ranker = h.fleet.deployments["ranker"]
    ranker.versions = ["v118"]
    outcome = mitigations.apply(h.fleet, "rollback", "deployment/ranker", {})
    assert not outcome.ok and "no previous version" in outcome.message
    assert "acts on a node" in mitigations.apply(h.fleet, "drain", "deployment/ranker", {}).message


def test_deleting_a_pending_pod_gets_a_pending_replacement() -> None:
    h = Harness()
    mitigations.apply(h.fleet, "scale", "deployment/chat-llm", {"replicas": 10})
    h.run(1)
    pending = h.fleet.pending_pods()
    assert len(pending) == 1  # 3 new replicas fit (gpu-serve-3 once, gpu-serve-4 twice), the 4th does not
    assert "FailedScheduling" in h.reasons(pending[0].ref)
    kubelet.delete(h.fleet, pending[0], "test")
    assert pending[0].state is PodState.GONE and pending[0].name not in h.fleet.pods
    replacement = h.fleet.pending_pods()
    assert len(replacement) == 1 and replacement[0] is not pending[0]
