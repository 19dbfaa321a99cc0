"""A training job's own metrics, and the kubelet's stats of its checkpoint volume.

The trainer's rank-0 worker serves its metrics (``job="trainer"``, found by a PodMonitor, so
``namespace``/``pod``/``container`` come along); the job's name is the ``training_job`` label
(an exported ``job`` label would clash with Prometheus' own). The target is up while rank 0's
container runs on a working node, so the series pause while the gang is recreated or the node
is dead. Every kubelet with a worker that mounts the checkpoint PVC reports its volume stats
(``job="kubelet"``, ``metrics_path="/metrics"``, ``node``), as kube-prometheus scrapes them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabletop.signals.exporters._common import Exporter
from tabletop.sim.pod import Pod, PodState

if TYPE_CHECKING:
    from tabletop.signals.store import SeriesStore
    from tabletop.sim.fleet import Fleet
    from tabletop.sim.node import Node
    from tabletop.sim.training import TrainingJob

JOB = "trainer"
PORT = 9090
KUBELET_JOB = "kubelet"
KUBELET_PORT = 10250
_MOUNTED = (PodState.CREATING, PodState.LOADING, PodState.READY, PodState.BACKOFF, PodState.TERMINATING)


class TrainingExporter(Exporter):
    families = (
        ("trainer_global_step", "gauge", "Optimizer steps completed (restored from the checkpoint after a restart)."),
        ("trainer_last_checkpoint_step", "gauge", "Global step of the newest complete checkpoint."),
        ("trainer_last_checkpoint_timestamp_seconds", "gauge", "Unix time the newest complete checkpoint was written."),
        ("trainer_checkpoint_failures_total", "counter", "Checkpoint writes that failed."),
        ("trainer_restarts_total", "counter", "Times the whole gang was restarted from a checkpoint."),
        ("kubelet_volume_stats_capacity_bytes", "gauge", "[ALPHA] Capacity in bytes of the volume"),
        ("kubelet_volume_stats_available_bytes", "gauge", "[ALPHA] Number of available bytes in the volume"),
        ("kubelet_volume_stats_used_bytes", "gauge", "[ALPHA] Number of used bytes in the volume"),
    )

    def __init__(self, store: SeriesStore) -> None:
        super().__init__(store)
        self._trainers: dict[Pod, list[int]] = {}
        self._volumes: dict[tuple["TrainingJob", "Node"], tuple[int, int, int]] = {}

    def _trainer(self, job: "TrainingJob", pod: Pod) -> list[int]:
        """``up`` of rank 0's target; the other ids are registered at its first successful scrape."""
        target = {"job": JOB, "instance": f"{pod.ip}:{PORT}", "namespace": pod.namespace, "pod": pod.name,
                  "container": pod.container}
        sids = self._trainers[pod] = [self.up_sid(target)]
        return sids

    def _trainer_series(self, job: "TrainingJob", pod: Pod, sids: list[int]) -> None:
        labels = {"job": JOB, "instance": f"{pod.ip}:{PORT}", "namespace": pod.namespace, "pod": pod.name,
                  "container": pod.container, "training_job": job.name}
        sids += [self.sid(name, labels) for name, _, _ in self.families[:5]]

    def _volume(self, job: "TrainingJob", node: "Node") -> tuple[int, int, int]:
        labels = {"job": KUBELET_JOB, "instance": f"{node.ip}:{KUBELET_PORT}", "metrics_path": "/metrics",
                  "node": node.name, "namespace": job.namespace, "persistentvolumeclaim": job.spec.storage.name}
        sids = (self.sid("kubelet_volume_stats_capacity_bytes", labels),
                self.sid("kubelet_volume_stats_available_bytes", labels),
                self.sid("kubelet_volume_stats_used_bytes", labels))
        self._volumes[(job, node)] = sids
        return sids

    def collect(self, fleet: "Fleet") -> None:
        add = self.store.add
        now = fleet.now
        start = fleet.start.timestamp()
        for job in fleet.jobs.values():
            rank0 = job.pods[0] if job.pods else None
            if rank0 is not None and rank0.node is not None:
                sids = self._trainers.get(rank0) or self._trainer(job, rank0)
                if rank0.node.kubelet_up and rank0.state in (PodState.LOADING, PodState.READY):
                    add(sids[0], 1.0)
                    if len(sids) == 1:
                        self._trainer_series(job, rank0, sids)
                    add(sids[1], float(int(job.current_step(now))))
                    add(sids[2], float(int(job.last_checkpoint_step)))
                    add(sids[3], start + job.last_checkpoint_time)
                    add(sids[4], float(job.checkpoint_failures))
                    add(sids[5], float(job.restarts))
                else:
                    add(sids[0], 0.0)
            capacity = float(job.spec.storage.capacity)
            used = min(float(job.storage_used), capacity)
            seen: set["Node"] = set()
            for pod in job.pods:
                node = pod.node
                if node is None or node in seen or not node.kubelet_up or pod.state not in _MOUNTED:
                    continue
                seen.add(node)
                volume = self._volumes.get((job, node)) or self._volume(job, node)
                add(volume[0], capacity)
                add(volume[1], capacity - used)
                add(volume[2], used)
