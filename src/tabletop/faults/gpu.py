"""GPU hardware faults: Xid errors, HBM ECC errors, thermal throttling."""

from __future__ import annotations

from typing import Any

from tabletop.faults.base import ActiveFault
from tabletop.scenario.faults import GpuThermal, GpuXid, HbmEcc
from tabletop.sim import kubelet
from tabletop.sim.deployment import Deployment
from tabletop.sim.fleet import Fleet
from tabletop.sim.gpu import LOST_XIDS, THROTTLE_HW_THERMAL, Gpu
from tabletop.sim.node import Node

XID_TEXT = {
    13: "Graphics Engine Exception",
    31: "GPU memory page fault",
    43: "GPU stopped processing",
    45: "Preemptive cleanup, due to previous errors",
    48: "An uncorrectable double bit error (DBE) has been detected on GPU",
    61: "Internal micro-controller breakpoint/warning",
    62: "Internal micro-controller halt",
    63: "ECC page retirement or row remapping recording event",
    64: "ECC page retirement or row remapper recording failure",
    74: "NVLink Error",
    79: "GPU has fallen off the bus.",
    92: "High single-bit ECC error rate",
    94: "Contained ECC error",
    95: "Uncontained ECC error",
    119: "Timeout after 6s of waiting for RPC response from GPU0 GSP!",
}


def xid_log(fleet: Fleet, gpu: Gpu, xid: int) -> None:
    """The kernel line the NVIDIA driver writes for an Xid error."""
    pid = fleet.streams.get("pids").randint(2000, 90000)
    process = f"pid={pid}, name=python3" if gpu.pod else "pid='<unknown>', name=<unknown>"
    fleet.log(gpu.node.ref, "kernel", f"NVRM: Xid (PCI:{gpu.pci_bus[4:14]}): {xid}, {process}, {XID_TEXT[xid]}", level="error")


def _workload_on(gpu: Gpu) -> bool:
    return gpu.pod is not None and gpu.pod.alive


class GpuXidFault(ActiveFault):
    """Effect: Xid 48/74/79/92/94/95/119 make the GPU unusable: its workload crashes and, since
    a restarted container keeps its GPUs, crash-loops in place; the device plugin stops
    offering the GPU. Other Xids crash the workload once. Leaves: the NVRM kernel line,
    DCGM_FI_DEV_XID_ERRORS, the GPU's other DCGM series going stale, BackOff events and
    restarts. Ends: impact when no workload holds the GPU (delete the pod, drain the node);
    the fault itself only with a GPU reset (reboot the node)."""

    kind = "gpu_xid"
    spec: GpuXid

    @property
    def gpu(self) -> Gpu:
        node: Node = self.target
        return node.gpus[self.spec.gpu]

    def inject(self) -> dict[str, Any]:
        gpu, xid = self.gpu, self.spec.xid
        gpu.last_xid = xid
        xid_log(self.fleet, gpu, xid)
        if xid in LOST_XIDS:
            self.fleet.event(gpu.node.ref, "GPUUnhealthy",
                             f"nvidia-device-plugin: GPU {gpu.index} ({gpu.uuid}) marked unhealthy after Xid {xid}",
                             type="Warning", gpu=gpu.index, xid=xid)
            self.fleet.gpu_lost(gpu)
        elif gpu.pod is not None and gpu.pod.alive:
            pod = gpu.pod
            if isinstance(pod.owner, Deployment):
                kubelet.crash(self.fleet, pod, "Error", f"RuntimeError: CUDA error: {XID_TEXT[xid]} (Xid {xid})")
            else:
                pod.owner.crash(f"CUDA error (Xid {xid}) on {gpu.name}")  # type: ignore[attr-defined]
        return {"gpu": gpu.index, "uuid": gpu.uuid, "xid": xid, "node": gpu.node.name}

    def impact_over(self) -> bool:
        return self.spec.xid not in LOST_XIDS or not (self.gpu.lost and _workload_on(self.gpu))

    def ended(self) -> str | None:
        if self.spec.xid not in LOST_XIDS:
            return "transient"
        return None if self.gpu.lost else "reboot"


class HbmEccFault(ActiveFault):
    """Effect: correctable (single-bit) HBM errors climb at ``sbe_per_hour``; after
    ``dbe_after`` an uncorrectable double-bit error (Xid 48) kills the GPU's workload and the
    GPU needs a reset. Leaves: DCGM_FI_DEV_ECC_SBE_VOL_TOTAL rising, row-remapping Xid 63
    lines, then DCGM_FI_DEV_ECC_DBE_VOL_TOTAL and Xid 48. Ends: impact when the GPU carries no
    workload and the node is cordoned (drain it before the DBE to avoid any impact); the fault
    with a GPU reset (reboot)."""

    kind = "hbm_ecc"
    spec: HbmEcc

    @property
    def gpu(self) -> Gpu:
        node: Node = self.target
        return node.gpus[self.spec.gpu]

    def inject(self) -> dict[str, Any]:
        gpu = self.gpu
        gpu.set_sbe_rate(self.fleet.now, self.spec.sbe_per_hour / 3600)
        gpu.last_xid = 63
        xid_log(self.fleet, gpu, 63)
        if self.spec.dbe_after is not None:
            self.fleet.later(self.spec.dbe_after, self._double_bit_error)
        return {"gpu": gpu.index, "uuid": gpu.uuid, "sbe_per_hour": self.spec.sbe_per_hour, "dbe_after": self.spec.dbe_after}

    def _double_bit_error(self) -> None:
        gpu = self.gpu
        if gpu.sbe_per_second == 0:  # reset in the meantime
            return
        gpu.ecc_dbe_total += 1
        gpu.last_xid = 48
        xid_log(self.fleet, gpu, 48)
        self.fleet.gpu_lost(gpu)

    def impact_over(self) -> bool:
        return not _workload_on(self.gpu) and self.gpu.node.cordoned

    def ended(self) -> str | None:
        return "reboot" if self.gpu.sbe_per_second == 0 and not self.gpu.lost else None


class GpuThermalFault(ActiveFault):
    """Effect: the node's cooling fails; the chosen GPUs run at ``temperature_c`` and throttle
    to ``speed_factor`` of their throughput (serving capacity and training step rate drop; a
    training gang runs at its slowest GPU). Leaves: DCGM_FI_DEV_GPU_TEMP high,
    DCGM_FI_DEV_SM_CLOCK low, DCGM_FI_DEV_CLOCK_THROTTLE_REASONS with HW thermal slowdown, DCGM
    log lines. Ends: by itself after ``duration`` (cooling restored); impact also ends once no
    workload runs on the hot GPUs (drain the node)."""

    kind = "gpu_thermal"
    spec: GpuThermal

    @property
    def gpus(self) -> list[Gpu]:
        node: Node = self.target
        chosen = self.spec.gpus
        return list(node.gpus) if chosen == "all" else [node.gpus[i] for i in chosen]

    def inject(self) -> dict[str, Any]:
        self.fleet.settle_training()
        for gpu in self.gpus:
            gpu.throttled_temp_c = self.spec.temperature_c
            gpu.speed = self.spec.speed_factor
            self.fleet.log(gpu.node.ref, "nv-hostengine",
                           f"GPU {gpu.index}: clocks event reason HW_THERMAL_SLOWDOWN (0x{THROTTLE_HW_THERMAL:x}), temperature {self.spec.temperature_c:.0f} C",
                           level="warning")
        return {"gpus": [g.index for g in self.gpus], "temperature_c": self.spec.temperature_c, "speed_factor": self.spec.speed_factor}

    def stop(self) -> None:
        self.fleet.settle_training()
        for gpu in self.gpus:
            gpu.throttled_temp_c = None
            gpu.speed = 1.0
        self.fleet.changed()

    def impact_over(self) -> bool:
        return not any(_workload_on(gpu) for gpu in self.gpus)
