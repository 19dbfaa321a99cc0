"""Nodes going NotReady and coming back, as the kubelet and the node controller handle it.

A hung node stops serving at once; 40 s later the node controller marks it Ready=Unknown and
its pods not Ready; 300 s after that the taint manager evicts its pods, whose replacements are
scheduled elsewhere. Pods on the node stay Terminating until it returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabletop.sim import kubelet
from tabletop.sim.node import EVICTION_TOLERATION, NODE_MONITOR_GRACE, REBOOT_TIME, Node
from tabletop.sim.pod import PodState

if TYPE_CHECKING:
    from tabletop.sim.fleet import Fleet


def _while_unchanged(node: Node, action):  # type: ignore[no-untyped-def]
    generation = node.generation

    def run() -> None:
        if node.generation == generation:
            action()

    return run


def node_down(fleet: "Fleet", node: Node, cause: str) -> None:
    if not node.kubelet_up:
        return
    node.kubelet_up = False
    node.down_since = fleet.now
    node.generation += 1
    for gpu in node.gpus:
        gpu.mark_unusable(fleet.now)
    fleet.log(node.ref, "kubelet", f"kubelet stopped: {cause}", level="error")
    fleet.later(NODE_MONITOR_GRACE, _while_unchanged(node, lambda: _mark_unknown(fleet, node)))
    fleet.node_lost(node)


def _mark_unknown(fleet: "Fleet", node: Node) -> None:
    node.ready_condition = "Unknown"
    fleet.event(node.ref, "NodeNotReady", "Node is not ready: kubelet stopped posting node status", type="Warning")
    fleet.later(EVICTION_TOLERATION, _while_unchanged(node, lambda: _evict_all(fleet, node)))
    fleet.changed()


def _evict_all(fleet: "Fleet", node: Node) -> None:
    for pod in list(node.pods):
        if pod.alive:
            fleet.event(pod.ref, "TaintManagerEviction", f"Marking for deletion Pod {pod.namespace}/{pod.name}", type="Warning")
            kubelet.delete(fleet, pod, "evicted from unreachable node")
    fleet.changed()


def node_up(fleet: "Fleet", node: Node, *, rebooted: bool) -> None:
    node.kubelet_up = True
    node.ready_condition = "True"
    node.down_since = None
    node.rebooting = False
    node.generation += 1
    for gpu in node.gpus:
        if rebooted:
            gpu.reset(fleet.now)
        if not gpu.lost:
            gpu.mark_usable(fleet.now)
    fleet.event(node.ref, "NodeReady", f"Node {node.name} status is now: NodeReady")
    for pod in list(node.pods):
        if pod.state is PodState.TERMINATING:
            kubelet.finalize(fleet, pod)
        elif rebooted and pod.alive and pod.state is not PodState.CREATING:
            pod.restarts += 1
            pod.last_terminated_reason = "Unknown"
            pod.state = PodState.CREATING
            pod.generation += 1
            kubelet.after(fleet, pod, kubelet.RESTART_START_TIME, lambda pod=pod: kubelet.start_container(fleet, pod))
    fleet.request_scheduling()
    fleet.changed()


def reboot(fleet: "Fleet", node: Node) -> None:
    """Power-cycle the node: down now, back after REBOOT_TIME with its GPUs reset."""
    was_up = node.kubelet_up
    node_down(fleet, node, "node rebooting")
    node.rebooting = True
    fleet.log(node.ref, "kernel", "reboot: Restarting system" if was_up else "reboot: power cycle via BMC")
    fleet.later(REBOOT_TIME, _while_unchanged(node, lambda: node_up(fleet, node, rebooted=True)))
