"""Training faults: a stuck collective, a full checkpoint volume."""

from __future__ import annotations

from typing import Any

from tabletop.faults.base import ActiveFault
from tabletop.scenario.faults import CheckpointStorageFull, NcclHang
from tabletop.sim.training import TrainingJob


class NcclHangFault(ActiveFault):
    """Effect: a collective on one node never completes: the job stops making progress while
    its GPUs stay at 100% (NCCL kernels spin) and nothing crashes. With ``watchdog`` the NCCL
    watchdog aborts the job after the job's ``nccl_timeout`` and it restarts from its last
    checkpoint. Leaves: trainer_global_step flat, GPU utilisation high, a rank waiting on a
    collective in the logs (and the watchdog's timeout line). Injected while the job restarts,
    it hangs the gang's first collective if the node is still in it. Ends: when the job
    restarts (watchdog, or a restart_training excluding the node)."""

    kind = "nccl_hang"
    spec: NcclHang

    def inject(self) -> dict[str, Any]:
        job: TrainingJob = self.target
        node = self.spec.node or next((p.node.name for p in job.pods if p.node), "")
        self.node = node
        job.hang(node, self.spec.watchdog)
        return {"node": node, "watchdog": self.spec.watchdog}

    def impact_over(self) -> bool:
        job: TrainingJob = self.target
        return job.hung_on != self.node and job.pending_hang != self.node

    def ended(self) -> str | None:
        return "restart" if self.impact_over() else None


class CheckpointStorageFullFault(ActiveFault):
    """Effect: another writer fills the checkpoint volume; every checkpoint write fails with
    ENOSPC while training goes on, so a later crash loses more and more progress. Leaves:
    kubelet_volume_stats_available_bytes at 0, trainer_checkpoint_failures_total rising,
    ENOSPC lines, CheckpointFailed events, a stale trainer_last_checkpoint_timestamp_seconds.
    Ends: when space is freed (free_checkpoint_space)."""

    kind = "checkpoint_storage_full"
    spec: CheckpointStorageFull

    def inject(self) -> dict[str, Any]:
        job: TrainingJob = self.target
        job.foreign_bytes = job.spec.storage.capacity - job.checkpoints_kept * job.spec.checkpoint_size
        self.fleet.log(f"job/{job.name}", "kubelet", f"volume {job.spec.storage.name}: 100% used ({job.spec.storage.capacity / 2**40:.1f} TiB)", level="warning")
        return {"volume": job.spec.storage.name}

    def impact_over(self) -> bool:
        job: TrainingJob = self.target
        return job.storage_used + job.spec.checkpoint_size <= job.spec.storage.capacity

    def ended(self) -> str | None:
        return "mitigation" if self.impact_over() else None
