"""Node faults: a node that stops responding."""

from __future__ import annotations

from typing import Any

from tabletop.faults.base import ActiveFault
from tabletop.scenario.faults import NodeNotReady
from tabletop.sim import node_controller
from tabletop.sim.node import Node


class NodeNotReadyFault(ActiveFault):
    """Effect: the node hangs (kernel soft lockup): its pods stop answering at once (requests
    to them fail until the control plane notices), it goes NotReady after 40 s, its pods are
    evicted after 5 more minutes and replaced elsewhere if there is room; a training gang on it
    crashes. Leaves: soft-lockup kernel lines, `up == 0` for its exporters and their series
    going stale, kube_node_status_condition Ready=unknown, NodeNotReady and eviction events.
    Ends: by itself after ``duration``, or when the node is rebooted; impact ends when no live
    pod is left on it (drain it to get replacements started before the eviction timeout)."""

    kind = "node_not_ready"
    spec: NodeNotReady

    @property
    def node(self) -> Node:
        return self.target

    def inject(self) -> dict[str, Any]:
        node = self.node
        cpu = self.fleet.streams.get("faults/cpus").randint(0, 95)
        self.fleet.log(node.ref, "kernel", f"watchdog: BUG: soft lockup - CPU#{cpu} stuck for 23s! [nvidia-modeset:1187]", level="error")
        node_controller.node_down(self.fleet, node, "kernel soft lockup")
        return {"node": node.name}

    def stop(self) -> None:
        if not self.node.kubelet_up and not self.node.rebooting:
            node_controller.node_up(self.fleet, self.node, rebooted=False)

    def impact_over(self) -> bool:
        return not any(pod.alive for pod in self.node.pods)

    def ended(self) -> str | None:
        return "recovered" if self.node.kubelet_up else None
