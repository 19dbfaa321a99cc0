"""nvidia-dcgm-exporter: one target per GPU node, one set of DCGM fields per GPU.

Labels as dcgm-exporter 3.x publishes them (``gpu``, ``UUID``, ``pci_bus_id``, ``device``,
``modelName``, ``Hostname``, ``DCGM_FI_DRIVER_VERSION``) plus ``namespace``, ``pod`` and
``container`` of the pod the kubelet assigned the GPU to, so a GPU's series change when its
pod changes. A GPU that fell off the bus reports only ``DCGM_FI_DEV_XID_ERRORS``; a node whose
kubelet is down cannot be scraped (``up`` 0, every series goes stale).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabletop.signals.exporters._common import Exporter
from tabletop.sim.gpu import THROTTLE_HW_THERMAL, THROTTLE_SW_THERMAL, Gpu
from tabletop.sim.pod import Pod, PodState
from tabletop.sim.training import TrainingJob

if TYPE_CHECKING:
    from tabletop.signals.store import SeriesStore
    from tabletop.sim.fleet import Fleet
    from tabletop.sim.node import Node

JOB = "nvidia-dcgm-exporter"
PORT = 9400
DRIVER_VERSION = "550.90.07"
IDLE_SM_CLOCK_MHZ = 345.0
DRIVER_CONTEXT_MIB = 500.0
"""Framebuffer a CUDA context takes before the workload allocates anything."""
MEMORY_SHARE = {"vllm": 0.90, "model-server": 0.35, "trainer": 0.78}
"""Share of the framebuffer a workload allocates: vLLM preallocates ``gpu_memory_utilization``
(0.9) for weights and KV cache; a plain model server holds its weights; training its
weights, optimizer state and activations."""
LOADING_UTILISATION = 0.10
TRAINING_UTILISATION = {"Running": 0.97, "Checkpointing": 0.20, "Hung": 1.0, "Restarting": 0.0}
"""A hung NCCL collective spins the GPUs at 100% while no step completes."""

_RUNNING = (PodState.LOADING, PodState.READY, PodState.TERMINATING)

_LATER = -2
"""Id of a field not registered yet (a series is registered when it gets its first sample)."""

# Order of the per-GPU series ids.
_UTIL, _FB_USED, _FB_FREE, _TEMP, _POWER, _CLOCK, _XID, _SBE, _DBE, _THROTTLE = range(10)
_FIELDS = (
    "DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_GPU_TEMP",
    "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_SM_CLOCK", "DCGM_FI_DEV_XID_ERRORS",
    "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS",
)


def gpu_utilisation(gpu: Gpu) -> float:
    """Utilisation 0..1 of a GPU from what runs on it (the node exporter uses it too)."""
    pod = gpu.pod
    if pod is None or gpu.lost:
        return 0.0
    state = pod.state
    if state is PodState.LOADING:
        return LOADING_UTILISATION
    if state is not PodState.READY:
        return 0.0
    owner = pod.owner
    if isinstance(owner, TrainingJob):
        share = TRAINING_UTILISATION.get(owner.state, 0.0)
        return share * gpu.speed if owner.state == "Running" else share
    return gpu.busy


def _memory_used_mib(gpu: Gpu, pod: Pod | None, now: float) -> float:
    if pod is None or pod.state not in _RUNNING:
        return 0.0
    share = MEMORY_SHARE.get(pod.container, 0.5)
    if pod.state is PodState.LOADING and pod.container_started_at is not None:
        load_time = pod.owner.load_time(pod)
        if load_time > 0:
            share *= min(1.0, max(0.0, (now - pod.container_started_at) / load_time))
    return DRIVER_CONTEXT_MIB + share * gpu.model.memory_mib


class DcgmExporter(Exporter):
    families = (
        ("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %)."),
        ("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB)."),
        ("DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB)."),
        ("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C)."),
        ("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W)."),
        ("DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz)."),
        ("DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered."),
        ("DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "counter", "Total number of single-bit volatile ECC errors."),
        ("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "counter", "Total number of double-bit volatile ECC errors."),
        ("DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", "gauge", "Current clock throttle reasons."),
    )

    def __init__(self, store: SeriesStore) -> None:
        super().__init__(store)
        self._up: dict["Node", int] = {}
        self._gpus: dict[tuple[Gpu, Pod | None], list[int]] = {}
        self._xid_only = not any(store.writes(name) for name in _FIELDS if name != _FIELDS[_XID])
        """Whether the scrape leaves out every field but the Xid one (see ``SeriesStore.unscraped``)."""

    def _gpu_sids(self, gpu: Gpu, pod: Pod | None) -> list[int]:
        """Series ids of a GPU's fields (only the Xid one while the GPU is off the bus: a series is
        registered when it gets its first sample)."""
        node = gpu.node
        labels = {
            "job": JOB, "instance": f"{node.ip}:{PORT}",
            "gpu": str(gpu.index), "UUID": gpu.uuid, "pci_bus_id": gpu.pci_bus, "device": f"nvidia{gpu.index}",
            "modelName": gpu.model.dcgm_name, "Hostname": node.name, "DCGM_FI_DRIVER_VERSION": DRIVER_VERSION,
        }
        if pod is not None:
            labels.update(namespace=pod.namespace, pod=pod.name, container=pod.container)
        if gpu.off_bus:
            sids = [_LATER] * len(_FIELDS)
            sids[_XID] = self.sid(_FIELDS[_XID], labels)
        else:
            sids = [self.sid(name, labels) for name in _FIELDS]
        self._gpus[(gpu, pod)] = sids
        return sids

    def collect(self, fleet: "Fleet") -> None:
        add = self.store.add
        add_many = self.store.add_many
        now = fleet.now
        jitter = fleet.streams.get("dcgm").random
        gpus = self._gpus
        ready = PodState.READY
        xid_only = self._xid_only
        for node in fleet.nodes.values():
            up = self._up.get(node)
            if up is None:
                up = self._up[node] = self.up_sid({"job": JOB, "instance": f"{node.ip}:{PORT}"})
            if not node.kubelet_up:
                add(up, 0.0)
                continue
            add(up, 1.0)
            if xid_only:  # what a drill reading only Xid errors scrapes: one call per node
                add_many([(gpus.get((gpu, gpu.pod)) or self._gpu_sids(gpu, gpu.pod))[_XID] for gpu in node.gpus],
                         [float(gpu.last_xid) for gpu in node.gpus])
                continue
            for gpu in node.gpus:
                pod = gpu.pod
                sids = gpus.get((gpu, pod)) or self._gpu_sids(gpu, pod)
                if gpu.off_bus:
                    add(sids[_XID], float(gpu.last_xid))
                    continue
                if sids[_UTIL] == _LATER:
                    sids = self._gpu_sids(gpu, pod)
                model = gpu.model
                speed = gpu.speed
                if pod is not None and pod.state is ready and not isinstance(pod.owner, TrainingJob):
                    util = gpu.busy
                else:
                    util = gpu_utilisation(gpu)
                noise = jitter() - 0.5
                used = float(int(_memory_used_mib(gpu, pod, now) + 0.5)) if pod is not None else 0.0
                throttled = gpu.throttled_temp_c
                if throttled is None:
                    temp = 32.5 + 45.0 * util + noise
                    reasons = 0.0
                else:
                    temp = throttled + 0.5 + noise
                    reasons = float(THROTTLE_SW_THERMAL | (THROTTLE_HW_THERMAL if throttled >= model.slowdown_temp_c else 0))
                idle = model.idle_watts
                add_many(sids, (  # in _FIELDS order
                    float(int(100.0 * util + 0.5)), used, model.memory_mib - used, float(int(temp)),
                    idle + (model.tdp_watts - idle) * util * speed + 2.0 * noise,
                    model.max_sm_clock_mhz * speed if util > 0.0 else IDLE_SM_CLOCK_MHZ,
                    float(gpu.last_xid), float(int(gpu.sbe_count(now))), gpu.ecc_dbe_total, reasons,
                ))
