"""Applying a mitigation (see action_specs) to the fleet, with a plain account of what changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tabletop.sim import kubelet, node_controller
from tabletop.sim.action_specs import ACTIONS
from tabletop.sim.deployment import Deployment
from tabletop.sim.disruption import REFUSED, eviction_blocked
from tabletop.sim.features import FeaturePipeline, FeatureStore
from tabletop.sim.fleet import Fleet
from tabletop.sim.node import Node
from tabletop.sim.pod import Pod, PodState
from tabletop.sim.training import TrainingJob


@dataclass
class Outcome:
    ok: bool
    message: str
    changes: list[str] = field(default_factory=list)


class Refused(Exception):
    """The action cannot be applied; the message says why."""


def apply(fleet: Fleet, action: str, target: str, params: dict[str, Any]) -> Outcome:
    spec = ACTIONS.get(action)
    if spec is None:
        return Outcome(False, f"unknown action {action!r}")
    if target.partition("/")[0] != spec.target_kind:
        return Outcome(False, f"{action} acts on a {spec.target_kind}, not on {target}")
    obj = fleet.lookup(target)
    if obj is None or (isinstance(obj, Pod) and not obj.alive):
        return Outcome(False, f"{target} does not exist")
    try:
        changes = _HANDLERS[action](fleet, obj, params)
    except Refused as refusal:
        return Outcome(False, str(refusal))
    fleet.changed()
    return Outcome(True, "; ".join(changes), changes)


def _rollback(fleet: Fleet, deployment: Deployment, params: dict[str, Any]) -> list[str]:
    current = deployment.version
    previous = deployment.rollback()
    if previous is None:
        raise Refused(f"deployment/{deployment.name} has no previous version to roll back to")
    return [f"deployment/{deployment.name} rolling back from {current} to {previous} ({len(deployment.pods)} pods will reload)"]


def _scale(fleet: Fleet, deployment: Deployment, params: dict[str, Any]) -> list[str]:
    before = deployment.replicas
    deployment.scale(int(params["replicas"]))
    return [f"deployment/{deployment.name} scaled from {before} to {deployment.replicas} replicas"]


def _rollout_restart(fleet: Fleet, deployment: Deployment, params: dict[str, Any]) -> list[str]:
    deployment.restart()
    return [f"deployment/{deployment.name} restarting all {deployment.replicas} replicas, 25% at a time"]


def _shed_load(fleet: Fleet, deployment: Deployment, params: dict[str, Any]) -> list[str]:
    deployment.shed_fraction = float(params["fraction"])
    if deployment.shed_fraction == 0:
        return [f"deployment/{deployment.name} no longer sheds load"]
    return [f"deployment/{deployment.name} rejects {deployment.shed_fraction:.0%} of requests with 429"]


def _delete_pod(fleet: Fleet, pod: Pod, params: dict[str, Any]) -> list[str]:
    grace = params.get("grace")
    node = pod.node
    kubelet.delete(fleet, pod, "deleted by responder", kubelet.TERMINATION_GRACE if grace is None else float(grace))
    if grace == 0 and pod.state is not PodState.GONE and not (node and node.kubelet_up):
        kubelet.finalize(fleet, pod)  # a forced deletion does not wait for an unreachable kubelet
    how = "" if grace is None else " at once" if grace == 0 else f" with a {grace}s grace period"
    return [f"pod/{pod.name} deleted{how}" + (f" from {node.name}" if node else "")]


def _evict(fleet: Fleet, pod: Pod, params: dict[str, Any]) -> list[str]:
    blocked = eviction_blocked(pod)
    if blocked is not None:
        raise Refused(f"{REFUSED} {blocked}")
    fleet.event(pod.ref, "Evicted", f"Evicting pod {pod.namespace}/{pod.name}")
    kubelet.delete(fleet, pod, "evicted")
    return [f"pod/{pod.name} evicted" + (f" from {pod.node.name}" if pod.node else "")]


def _cordon(fleet: Fleet, node: Node, params: dict[str, Any]) -> list[str]:
    if node.cordoned:
        return [f"node/{node.name} was already cordoned"]
    node.cordoned = True
    fleet.event(node.ref, "NodeNotSchedulable", f"Node {node.name} status is now: NodeNotSchedulable")
    return [f"node/{node.name} cordoned"]


def _uncordon(fleet: Fleet, node: Node, params: dict[str, Any]) -> list[str]:
    node.cordoned = False
    fleet.event(node.ref, "NodeSchedulable", f"Node {node.name} status is now: NodeSchedulable")
    fleet.request_scheduling()
    return [f"node/{node.name} uncordoned"]


def _drain(fleet: Fleet, node: Node, params: dict[str, Any]) -> list[str]:
    """Cordon, then evict every pod; one its disruption budget holds back is tried again every
    DRAIN_RETRY seconds until it goes (or is gone), as ``kubectl drain`` does."""
    changes = _cordon(fleet, node, params) if not node.cordoned else [f"node/{node.name} cordoned"]
    evicted, waiting = _drain_once(fleet, node, [pod for pod in node.pods if pod.alive])
    if evicted:
        changes.append(f"evicted {len(evicted)} pod(s): {', '.join(p.name for p in evicted)}")
    elif not waiting:
        changes.append("no pods to evict")
    if waiting:
        causes = sorted({why for _, why in waiting})
        changes.append(f"{len(waiting)} pod(s) wait on their disruption budget ({'; '.join(causes)}): "
                       f"tried again every {DRAIN_RETRY:g} s, as kubectl drain does")
        fleet.later(DRAIN_RETRY, lambda: _retry_drain(fleet, node, [pod for pod, _ in waiting]))
    return changes


DRAIN_RETRY = 5.0
"""Seconds between a drain's attempts at an eviction a disruption budget refused (kubectl's)."""


def _drain_once(fleet: Fleet, node: Node, pods: list[Pod]) -> tuple[list[Pod], list[tuple[Pod, str]]]:
    evicted, waiting = [], []
    for pod in pods:
        blocked = eviction_blocked(pod)
        if blocked is not None:
            waiting.append((pod, blocked))
            continue
        fleet.event(pod.ref, "Evicted", f"Evicting pod {pod.namespace}/{pod.name} (drain {node.name})")
        kubelet.delete(fleet, pod, f"drain of {node.name}")
        evicted.append(pod)
    return evicted, waiting


def _retry_drain(fleet: Fleet, node: Node, pods: list[Pod]) -> None:
    left = [pod for pod in pods if pod.alive and pod.node is node]
    _, waiting = _drain_once(fleet, node, left)
    if waiting:
        fleet.later(DRAIN_RETRY, lambda: _retry_drain(fleet, node, [pod for pod, _ in waiting]))


def _reboot(fleet: Fleet, node: Node, params: dict[str, Any]) -> list[str]:
    if node.rebooting:
        raise Refused(f"node/{node.name} is already rebooting")
    running = [pod.name for pod in node.pods if pod.alive]
    node_controller.reboot(fleet, node)
    lost = f"; {len(running)} pod(s) on it go down" if running else ""
    return [f"node/{node.name} rebooting (about {node_controller.REBOOT_TIME / 60:.0f} min){lost}"]


def _restart_training(fleet: Fleet, job: TrainingJob, params: dict[str, Any]) -> list[str]:
    exclude = params.get("exclude")
    if exclude is not None and exclude not in fleet.nodes:
        raise Refused(f"node/{exclude} does not exist")
    lost = job.current_step(fleet.now) - job.last_checkpoint_step
    job.restart(exclude)
    without = f" without {exclude}" if exclude else ""
    return [f"job/{job.name} restarting{without} from step {int(job.last_checkpoint_step)} ({int(lost)} steps since the checkpoint are lost)"]


def _free_checkpoint_space(fleet: Fleet, job: TrainingJob, params: dict[str, Any]) -> list[str]:
    freed = job.free_space()
    return [f"freed {freed / 2**40:.2f} TiB on volume {job.spec.storage.name}"]


def _failover(fleet: Fleet, store: FeatureStore, params: dict[str, Any]) -> list[str]:
    if store.failing_over:
        raise Refused(f"featurestore/{store.name} is already failing over")
    store.failover(fleet.changed)
    return [f"featurestore/{store.name} failing over to its standby (reads fail for about {store.spec.failover_time:.0f}s)"]


def _pin_features(fleet: Fleet, pipeline: FeaturePipeline, params: dict[str, Any]) -> list[str]:
    pipeline.pinned = True
    return [f"pipeline/{pipeline.name} pinned to its last good snapshot (features stop refreshing)"]


_HANDLERS: dict[str, Callable[[Fleet, Any, dict[str, Any]], list[str]]] = {
    "rollback": _rollback,
    "scale": _scale,
    "rollout_restart": _rollout_restart,
    "shed_load": _shed_load,
    "delete_pod": _delete_pod,
    "evict": _evict,
    "cordon": _cordon,
    "uncordon": _uncordon,
    "drain": _drain,
    "reboot": _reboot,
    "restart_training": _restart_training,
    "free_checkpoint_space": _free_checkpoint_space,
    "failover": _failover,
    "pin_features": _pin_features,
}
