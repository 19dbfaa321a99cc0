"""A Kubernetes node with GPUs, as the kubelet and the control plane see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tabletop.scenario.fleet import NodePool
from tabletop.sim.gpu import Gpu

if TYPE_CHECKING:
    from tabletop.sim.pod import Pod

NODE_MONITOR_GRACE = 40.0
"""Seconds without kubelet heartbeats before the node controller sets Ready=Unknown."""
EVICTION_TOLERATION = 300.0
"""Default tolerationSeconds for node.kubernetes.io/unreachable: pods are evicted after this."""
REBOOT_TIME = 480.0
"""A GPU server takes minutes to POST, boot and start the kubelet."""


@dataclass(eq=False)
class Node:
    name: str
    pool: NodePool
    ip: str
    gpus: list[Gpu] = field(default_factory=list)
    kubelet_up: bool = True
    """The node really works (False from the moment it hangs)."""
    ready_condition: str = "True"
    """What the API server reports: True, False or Unknown."""
    cordoned: bool = False
    pods: list["Pod"] = field(default_factory=list)
    down_since: float | None = None
    generation: int = 0
    """Bumped whenever the node goes down or comes back, to cancel timers of the old state."""
    rebooting: bool = False
    number: int = 0
    """Index of the node in the fleet; its pods get IPs from 10.244.<number>.0/24."""
    pod_ips_given: int = 0

    def next_pod_ip(self) -> str:
        self.pod_ips_given += 1
        return f"10.244.{self.number}.{self.pod_ips_given % 250 + 2}"

    @property
    def ref(self) -> str:
        return f"node/{self.name}"

    @property
    def schedulable(self) -> bool:
        return self.kubelet_up and self.ready_condition == "True" and not self.cordoned

    def free_gpus(self) -> list[Gpu]:
        return [g for g in self.gpus if g.pod is None and not g.lost]

    def healthy_gpu_count(self) -> int:
        return sum(1 for g in self.gpus if not g.lost)
