"""One GPU of a node: health, errors and what runs on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tabletop.scenario.gpu_models import GpuModel

if TYPE_CHECKING:
    from tabletop.sim.node import Node
    from tabletop.sim.pod import Pod

LOST_XIDS = frozenset({48, 74, 79, 92, 94, 95, 119})
OFF_BUS_XID = 79
"""Xid errors after which the GPU is unusable until it is reset (node reboot)."""

THROTTLE_SW_THERMAL = 0x20
THROTTLE_HW_THERMAL = 0x40


@dataclass(eq=False)
class Gpu:
    node: "Node"
    index: int
    model: GpuModel
    uuid: str
    pci_bus: str
    lost: bool = False
    """Fallen off the bus or needing a reset: no workload can use it."""
    last_xid: int = 0
    ecc_sbe_total: float = 0.0
    ecc_dbe_total: float = 0.0
    sbe_per_second: float = 0.0
    sbe_since: float = 0.0
    throttled_temp_c: float | None = None
    speed: float = 1.0
    """Throughput relative to full clocks (thermal throttling lowers it)."""
    pod: "Pod | None" = None
    busy: float = 0.0
    """Utilisation 0..1 set by the workload each interval."""
    memory_used_mib: float = 0.0
    unusable_since: float | None = None
    lost_seconds: float = 0.0
    """Accumulated time this GPU could not serve work (for GPU-hours lost)."""

    @property
    def off_bus(self) -> bool:
        """Unreachable from the host (Xid 79): DCGM can read none of its fields but the Xid. A
        GPU lost to an uncorrectable error (Xid 48 ...) still answers until it is reset."""
        return self.lost and self.last_xid == OFF_BUS_XID

    @property
    def name(self) -> str:
        return f"{self.node.name}/gpu{self.index}"

    def sbe_count(self, now: float) -> float:
        return self.ecc_sbe_total + self.sbe_per_second * (now - self.sbe_since)

    def set_sbe_rate(self, now: float, per_second: float) -> None:
        self.ecc_sbe_total = self.sbe_count(now)
        self.sbe_since = now
        self.sbe_per_second = per_second

    def mark_unusable(self, now: float) -> None:
        if self.unusable_since is None:
            self.unusable_since = now

    def mark_usable(self, now: float) -> None:
        if self.unusable_since is not None:
            self.lost_seconds += now - self.unusable_since
            self.unusable_since = None

    def unusable_seconds(self, now: float) -> float:
        open_interval = now - self.unusable_since if self.unusable_since is not None else 0.0
        return self.lost_seconds + open_interval

    def reset(self, now: float) -> None:
        """A GPU reset (node reboot) clears a lost state and the volatile ECC counters."""
        self.lost = False
        self.last_xid = 0
        self.set_sbe_rate(now, 0.0)
        self.ecc_sbe_total = 0.0
        self.ecc_dbe_total = 0.0
