"""Pod lifecycle on a node: create, load the model, become Ready, crash and back off, terminate.

Timers are SimPy timeouts whose callbacks check the pod's ``generation``, so that a pod deleted
or restarted in the meantime ignores timers of its earlier life.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from tabletop.sim.gpu import Gpu
from tabletop.sim.node import Node
from tabletop.sim.pod import Pod, PodState

if TYPE_CHECKING:
    from tabletop.sim.fleet import Fleet

BACKOFF_BASE = 10.0
BACKOFF_MAX = 300.0
BACKOFF_RESET = 600.0
"""A container that ran this long without crashing starts its back-off from scratch."""
RESTART_START_TIME = 2.0
"""Starting an already pulled image."""
TERMINATION_GRACE = 30.0


def _guarded(pod: Pod, action: Callable[[], None]) -> Callable[[], None]:
    generation = pod.generation

    def run() -> None:
        if pod.generation == generation:
            action()

    return run


def after(fleet: "Fleet", pod: Pod, delay: float, action: Callable[[], None]) -> None:
    """Run ``action`` in ``delay`` seconds unless the pod changed state in between."""
    fleet.later(delay, _guarded(pod, action))


def during_container(fleet: "Fleet", pod: Pod, delay: float, action: Callable[[], None]) -> None:
    """Run ``action`` in ``delay`` seconds if the container running now is still running then.

    Unlike ``after``, the pod turning Ready in between does not cancel it: this is for what
    happens inside a running container (a leak reaching its memory limit)."""
    started = pod.container_started_at

    def run() -> None:
        if pod.container_started_at == started and pod.state in (PodState.LOADING, PodState.READY):
            action()

    fleet.later(delay, run)


def bind(fleet: "Fleet", pod: Pod, node: Node, gpus: list[Gpu]) -> None:
    pod.node = node
    pod.ip = node.next_pod_ip()
    pod.gpus = gpus
    for gpu in gpus:
        gpu.pod = pod
    node.pods.append(pod)
    pod.state = PodState.CREATING
    pod.generation += 1
    fleet.event(pod.ref, "Scheduled", f"Successfully assigned {pod.namespace}/{pod.name} to {node.name}")
    delay = pod.startup_time if not pod.image_pulled else RESTART_START_TIME
    after(fleet, pod, delay, lambda: start_container(fleet, pod))


def start_container(fleet: "Fleet", pod: Pod) -> None:
    pod.image_pulled = True
    pod.state = PodState.LOADING
    pod.generation += 1
    pod.container_started_at = fleet.now
    fleet.event(pod.ref, "Started", f"Started container {pod.container}")
    pod.owner.container_started(pod)


def crash(fleet: "Fleet", pod: Pod, reason: str, message: str) -> None:
    """The container exits; the kubelet restarts it after the CrashLoopBackOff delay."""
    if not pod.alive or pod.state in (PodState.PENDING, PodState.CREATING, PodState.BACKOFF):
        return
    ran = fleet.now - (pod.container_started_at or fleet.now)
    if ran >= BACKOFF_RESET:
        pod.backoff_level = 0
    pod.restarts += 1
    pod.last_terminated_reason = reason
    pod.ready_since = None
    pod.state = PodState.BACKOFF
    pod.generation += 1
    delay = min(BACKOFF_BASE * 2**pod.backoff_level, BACKOFF_MAX)
    pod.backoff_level += 1
    fleet.log(pod.ref, pod.container, message, level="error")
    fleet.event(pod.ref, reason if reason == "OOMKilled" else "BackOff",
                f"Back-off restarting failed container {pod.container} ({reason}, restart {pod.restarts}, next try in {delay:.0f}s)",
                type="Warning", restarts=pod.restarts)
    pod.owner.pod_crashed(pod, reason)
    after(fleet, pod, delay, lambda: start_container(fleet, pod))


def mark_ready(fleet: "Fleet", pod: Pod) -> None:
    pod.state = PodState.READY
    pod.generation += 1
    pod.ready_since = fleet.now
    fleet.event(pod.ref, "Ready", f"Readiness probe passed: {pod.container} is serving")
    pod.owner.pod_ready(pod)


def delete(fleet: "Fleet", pod: Pod, reason: str, grace: float = TERMINATION_GRACE) -> None:
    """Mark the pod for deletion; its owner replaces it at once, the GPUs free after the grace period."""
    if not pod.alive:
        return
    if pod.state is PodState.PENDING:
        fleet.unqueue(pod)
    pod.state = PodState.TERMINATING
    pod.deleted_at = fleet.now
    pod.generation += 1
    fleet.event(pod.ref, "Killing", f"Stopping container {pod.container} ({reason})")
    pod.owner.pod_deleted(pod)
    if pod.node is None:
        finalize(fleet, pod)
    elif pod.node.kubelet_up:
        after(fleet, pod, grace, lambda: finalize(fleet, pod))
    # On an unreachable node the pod stays Terminating until the node comes back.


def finalize(fleet: "Fleet", pod: Pod) -> None:
    """The pod object goes away and its GPUs are free again."""
    for gpu in pod.gpus:
        if gpu.pod is pod:
            gpu.pod = None
            gpu.busy = 0.0
            gpu.memory_used_mib = 0.0
    if pod.node is not None and pod in pod.node.pods:
        pod.node.pods.remove(pod)
    pod.state = PodState.GONE
    pod.generation += 1
    fleet.forget(pod)
    fleet.request_scheduling()
