"""A gang-scheduled training job: progress, checkpoints, crashes, restarts and hangs.

All workers run or none do. Any worker failing (a GPU error, a lost node, the NCCL watchdog)
aborts the whole job: progress since the last checkpoint is lost, every worker is recreated,
and steps resume from the checkpoint after ``restart_overhead``. A hang stalls progress while
the GPUs stay busy and nothing crashes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabletop.scenario.fleet import TrainingJob as JobSpec
from tabletop.sim import kubelet
from tabletop.sim.node import Node
from tabletop.sim.pod import Pod

if TYPE_CHECKING:
    from tabletop.sim.fleet import Fleet


class TrainingJob:
    def __init__(self, fleet: "Fleet", spec: JobSpec) -> None:
        self.fleet = fleet
        self.spec = spec
        self.name = spec.name
        self.namespace = spec.namespace
        self.gpus_per_worker = fleet.pool(spec.node_pool).gpus_per_node
        self.state = "Running"
        """Running, Checkpointing, Hung or Restarting."""
        self.step = float(spec.start_step)
        self._progress_t = 0.0
        self.last_checkpoint_step = float(spec.start_step)
        self.last_checkpoint_time = -spec.checkpoint_interval / 2
        self.checkpoints_kept = spec.storage.keep_last
        self.foreign_bytes = spec.storage.used - self.checkpoints_kept * spec.checkpoint_size
        self.checkpoint_failures = 0
        self.restarts = 0
        self.lost_gpu_seconds = 0.0
        self._idle_since: float | None = None
        self.excluded: set[str] = set()
        self.hung_on: str | None = None
        self.pending_hang: str | None = None
        """A node whose collective will hang once the restarting gang runs again (if it is still in it)."""
        self._pending_watchdog = False
        self.run = 0
        """Bumped on every restart, to cancel timers of the previous run."""
        self.pods: list[Pod] = []

    @property
    def ref(self) -> str:
        return f"job/{self.name}"

    @property
    def gpus(self) -> int:
        return self.spec.gang_size * self.gpus_per_worker

    @property
    def storage_used(self) -> float:
        return self.foreign_bytes + self.checkpoints_kept * self.spec.checkpoint_size

    def _later(self, delay: float, action) -> None:  # type: ignore[no-untyped-def]
        run = self.run
        self.fleet.later(delay, lambda: action() if self.run == run else None)

    # progress -------------------------------------------------------------------------------
    def speed(self) -> float:
        return min((gpu.speed for pod in self.pods for gpu in pod.gpus), default=1.0)

    def current_step(self, now: float) -> float:
        if self.state != "Running":
            return self.step
        return self.step + (now - self._progress_t) * self.speed() / self.spec.step_time

    def settle(self) -> None:
        """Fold the progress made so far into ``step`` (call before anything changes speed or state)."""
        now = self.fleet.now
        self.step = self.current_step(now)
        self._progress_t = now

    def start(self) -> None:
        """Begin the drill in steady state: workers placed and training."""
        for _ in range(self.spec.gang_size):
            self._new_worker()
        self._schedule_checkpoint(self.spec.checkpoint_interval / 2)

    def _new_worker(self) -> Pod:
        fleet = self.fleet
        pod = Pod(
            name=f"{self.name}-worker-{len(self.pods)}", namespace=self.namespace, owner=self, uid=fleet.uid(),
            template_hash=f"run{self.restarts}", version=f"step-{int(self.last_checkpoint_step)}",
            gpus_wanted=self.gpus_per_worker, container="trainer", created_at=fleet.now,
            startup_time=30.0, labels={"job-name": self.name},
        )
        self.pods.append(pod)
        fleet.add_pod(pod, self.spec.node_pool, frozenset(self.excluded))
        return pod

    # checkpoints ----------------------------------------------------------------------------
    def _schedule_checkpoint(self, delay: float) -> None:
        self._later(delay, self._begin_checkpoint)

    def _begin_checkpoint(self) -> None:
        if self.state == "Hung":
            self._schedule_checkpoint(60.0)
            return
        self.settle()
        self.state = "Checkpointing"
        self._later(self.spec.checkpoint_write_time, self._finish_checkpoint)

    def _finish_checkpoint(self) -> None:
        fleet = self.fleet
        self._progress_t = fleet.now
        capacity = self.spec.storage.capacity
        if self.foreign_bytes + (self.checkpoints_kept + 1) * self.spec.checkpoint_size > capacity:
            self.checkpoint_failures += 1
            fleet.log(self.pods[0].ref, "trainer",
                      f"checkpoint at step {int(self.step)} failed: OSError: [Errno 28] No space left on device: "
                      f"'/checkpoints/{self.name}/step-{int(self.step)}'", level="error")
            fleet.event(self.ref, "CheckpointFailed", f"checkpoint at step {int(self.step)} failed: no space left on device", type="Warning")
        else:
            self.last_checkpoint_step = self.step
            self.last_checkpoint_time = fleet.now
            fleet.log(self.pods[0].ref, "trainer", f"saved checkpoint step-{int(self.step)} to /checkpoints/{self.name}")
        self.state = "Running"
        self._schedule_checkpoint(self.spec.checkpoint_interval)

    def free_space(self) -> float:
        """Delete all but the newest checkpoint and foreign files; returns bytes freed."""
        before = self.storage_used
        self.foreign_bytes = max(0.0, self.spec.storage.used - self.spec.storage.keep_last * self.spec.checkpoint_size)
        self.checkpoints_kept = 1
        return before - self.storage_used

    # failures -------------------------------------------------------------------------------
    def crash(self, reason: str, *, again: bool = False) -> None:
        """Abort the whole gang; progress since the last checkpoint is lost. While it is already
        restarting, only ``again`` (an operator's restart) replaces the workers being started."""
        if self.state == "Restarting" and not again:
            return
        fleet = self.fleet
        self.settle()
        lost_steps = self.step - self.last_checkpoint_step
        lost = lost_steps * self.spec.step_time * self.gpus / max(self.speed(), 1e-9)
        self.lost_gpu_seconds += lost
        self.step = self.last_checkpoint_step
        self.restarts += 1
        self.run += 1
        self.state = "Restarting"
        self.hung_on = None
        if self._idle_since is not None:
            self.lost_gpu_seconds += (fleet.now - self._idle_since) * self.gpus
        self._idle_since = fleet.now
        fleet.event(self.ref, "TrainingJobRestarting",
                    f"{reason}; restarting from checkpoint step-{int(self.last_checkpoint_step)} ({int(lost_steps)} steps lost)",
                    type="Warning", lost_gpu_hours=round(lost / 3600, 3))
        old, self.pods = self.pods, []
        for pod in old:
            kubelet.delete(fleet, pod, "gang restart")
        for _ in range(self.spec.gang_size):
            self._new_worker()

    def hang(self, node: str, watchdog: bool = False) -> None:
        """A collective on ``node`` never completes (the NCCL ``watchdog`` aborts it after
        ``nccl_timeout``); during a restart, the gang's first one."""
        if self.state == "Restarting":
            self.pending_hang, self._pending_watchdog = node, watchdog
            return
        self.settle()
        self.state = "Hung"
        self.hung_on = node
        if self._idle_since is None:
            self._idle_since = self.fleet.now
        if self.pods:
            self.fleet.log(self.pods[0].ref, "trainer", f"[rank 0] collective ALLREDUCE waiting on ranks of {node}", level="warning")
        if watchdog:
            self.arm_watchdog()

    def arm_watchdog(self) -> None:
        """NCCL watchdog: abort a hang that lasts ``nccl_timeout``."""
        node = self.hung_on

        def fire() -> None:
            if self.state == "Hung" and self.hung_on == node and self.pods:
                self.fleet.log(self.pods[0].ref, "trainer",
                               f"[Rank 0] Watchdog caught collective operation timeout: WorkNCCL(OpType=ALLREDUCE, Timeout(ms)={int(self.spec.nccl_timeout * 1000)}) ran for longer than the timeout",
                               level="error")
                self.crash("NCCL watchdog timeout")

        self._later(self.spec.nccl_timeout, fire)

    def gpu_lost(self, pod: Pod) -> None:
        kubelet.after(self.fleet, pod, 5.0, lambda: self.crash(f"CUDA error on {pod.node.name if pod.node else '?'}: GPU lost"))

    def node_lost(self, node: Node) -> None:
        if any(pod.node is node for pod in self.pods):
            self._later(30.0, lambda: self.crash(f"NCCL error: peer on {node.name} unreachable"))

    def restart(self, exclude: str | None) -> None:
        if exclude:
            self.excluded.add(exclude)
        self.crash("restarted by operator" + (f" without {exclude}" if exclude else ""), again=True)

    # PodOwner ---------------------------------------------------------------------------------
    def load_time(self, pod: Pod) -> float:
        return self.spec.restart_overhead

    def container_started(self, pod: Pod) -> None:
        if any(gpu.lost for gpu in pod.gpus):
            kubelet.after(self.fleet, pod, 10.0, lambda: kubelet.crash(self.fleet, pod, "Error", "RuntimeError: No CUDA GPUs are available"))
            return
        kubelet.after(self.fleet, pod, self.load_time(pod), lambda: kubelet.mark_ready(self.fleet, pod))

    def pod_ready(self, pod: Pod) -> None:
        if self.state == "Restarting" and len(self.pods) == self.spec.gang_size and all(p.ready for p in self.pods):
            now = self.fleet.now
            if self._idle_since is not None:
                self.lost_gpu_seconds += (now - self._idle_since) * self.gpus
                self._idle_since = None
            self.state = "Running"
            self._progress_t = now
            self.fleet.event(self.ref, "TrainingJobRunning", f"all {self.spec.gang_size} workers up; resuming from step {int(self.step)}")
            self._schedule_checkpoint(self.spec.checkpoint_interval)
            node, self.pending_hang = self.pending_hang, None
            if node is not None and any(p.node is not None and p.node.name == node for p in self.pods):
                self.hang(node, self._pending_watchdog)

    def pod_crashed(self, pod: Pod, reason: str) -> None:
        if pod in self.pods:
            self.crash(f"worker {pod.name} exited ({reason})")

    def pod_deleted(self, pod: Pod) -> None:
        if pod in self.pods:
            self.crash(f"worker {pod.name} was deleted")

    def lost_gpu_hours(self, now: float) -> float:
        idle = (now - self._idle_since) * self.gpus if self._idle_since is not None else 0.0
        return (self.lost_gpu_seconds + idle) / 3600
