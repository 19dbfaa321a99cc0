"""prometheus-node-exporter: one target per node (down with the node: every series goes stale).

Host figures follow an HGX-class server: 256 GiB of RAM per GPU, a 1.92 TB NVMe root
filesystem, load rising with GPU work (data loading, tokenisation, NCCL proxy threads).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabletop.signals.exporters._common import Exporter
from tabletop.signals.exporters.dcgm import gpu_utilisation
from tabletop.sim.node import REBOOT_TIME
from tabletop.sim.pod import PodState
from tabletop.sim.training import TrainingJob

if TYPE_CHECKING:
    from tabletop.signals.store import SeriesStore
    from tabletop.sim.fleet import Fleet
    from tabletop.sim.node import Node

JOB = "node-exporter"
PORT = 9100
HOST_MEMORY_PER_GPU = 256 * 2**30
SYSTEM_MEMORY = 48 * 2**30
"""Kernel, kubelet, containerd, DCGM and other daemons."""
ROOT_FS = {"device": "/dev/nvme0n1p2", "fstype": "ext4", "mountpoint": "/"}
ROOT_FS_SIZE = 1_888_127_352_832
ROOT_FS_RESERVED = 0.05
"""ext4 blocks reserved for root: not in node_filesystem_avail_bytes."""
ROOT_FS_BASE_USED = 220 * 2**30
IMAGE_BYTES_PER_POD = 36 * 2**30
"""Container image layers and model cache of a pod scheduled on the node."""
KERNEL_BOOT_BEFORE_KUBELET = 120.0


class _NodeSeries:
    __slots__ = ("up", "load1", "mem_total", "mem_available", "fs_avail", "fs_size", "boot")

    def __init__(self, exporter: "NodeExporter", node: "Node") -> None:
        target = {"job": JOB, "instance": f"{node.ip}:{PORT}"}
        sid = exporter.sid
        self.up = exporter.up_sid(target)
        self.load1 = sid("node_load1", target)
        self.mem_total = sid("node_memory_MemTotal_bytes", target)
        self.mem_available = sid("node_memory_MemAvailable_bytes", target)
        self.fs_avail = sid("node_filesystem_avail_bytes", {**target, **ROOT_FS})
        self.fs_size = sid("node_filesystem_size_bytes", {**target, **ROOT_FS})
        self.boot = sid("node_boot_time_seconds", target)


class NodeExporter(Exporter):
    families = (
        ("node_load1", "gauge", "1m load average."),
        ("node_memory_MemTotal_bytes", "gauge", "Memory information field MemTotal_bytes."),
        ("node_memory_MemAvailable_bytes", "gauge", "Memory information field MemAvailable_bytes."),
        ("node_filesystem_avail_bytes", "gauge", "Filesystem space available to non-root users in bytes."),
        ("node_filesystem_size_bytes", "gauge", "Filesystem size in bytes."),
        ("node_boot_time_seconds", "gauge", "Node boot time, in unixtime."),
    )

    def __init__(self, store: SeriesStore) -> None:
        super().__init__(store)
        self._nodes: dict["Node", _NodeSeries] = {}
        self._boot: dict["Node", float] = {}
        self._reboot_seen: dict["Node", float] = {}
        """Wall time a reboot was first seen, per node being rebooted."""

    def boot_time(self, node: "Node", start: float, now: float) -> float:
        """Unix boot time of ``node`` (``start``: Unix time of T+0, ``now``: Unix time now)."""
        if node.rebooting and node not in self._reboot_seen:
            self._reboot_seen[node] = now
        boot = self._boot.get(node)
        if boot is None:
            uptime_days = 9.0 + (node.number * 7919 % 4001) / 100.0
            boot = self._boot[node] = start - uptime_days * 86400.0
        if node.kubelet_up and node in self._reboot_seen:
            rebooted = self._reboot_seen.pop(node)
            boot = self._boot[node] = min(rebooted + REBOOT_TIME - KERNEL_BOOT_BEFORE_KUBELET, now)
        return boot

    def collect(self, fleet: "Fleet") -> None:
        add = self.store.add
        now = fleet.now
        start = fleet.start.timestamp()
        nodes = self._nodes
        ready = PodState.READY
        for node in fleet.nodes.values():
            entry = nodes.get(node)
            if entry is None:
                entry = nodes[node] = _NodeSeries(self, node)
            boot = self.boot_time(node, start, start + now)
            if not node.kubelet_up:
                add(entry.up, 0.0)
                continue
            add(entry.up, 1.0)
            gpu_work = 0.0
            for gpu in node.gpus:
                pod = gpu.pod
                if pod is None:
                    continue
                if pod.state is ready and not isinstance(pod.owner, TrainingJob):
                    gpu_work += gpu.busy  # the common case, inlined
                else:
                    gpu_work += gpu_utilisation(gpu)
            pod_memory = 0.0
            pods = 0
            for pod in node.pods:
                pods += 1
                if pod.state is not PodState.GONE:
                    pod_memory += pod.memory(now)
            total = float(HOST_MEMORY_PER_GPU * max(len(node.gpus), 1))
            add(entry.load1, round(0.6 + 2.5 * gpu_work, 2))
            add(entry.mem_total, total)
            add(entry.mem_available, max(total - SYSTEM_MEMORY - pod_memory, 0.0))
            add(entry.fs_avail, float(int(ROOT_FS_SIZE * (1 - ROOT_FS_RESERVED)) - ROOT_FS_BASE_USED - IMAGE_BYTES_PER_POD * pods))
            add(entry.fs_size, float(ROOT_FS_SIZE))
            add(entry.boot, boot)
