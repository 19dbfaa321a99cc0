"""A pod: one model-server replica or one training worker, and its container's state."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tabletop.sim.gpu import Gpu
    from tabletop.sim.node import Node


class PodState(str, Enum):
    PENDING = "Pending"
    """Not bound to a node yet."""
    CREATING = "ContainerCreating"
    LOADING = "Loading"
    """Container running, model weights loading; the readiness probe fails."""
    READY = "Ready"
    BACKOFF = "CrashLoopBackOff"
    TERMINATING = "Terminating"
    GONE = "Gone"


class PodOwner(Protocol):
    """What a pod's controller (a Deployment or a training job) decides about its pods."""

    name: str

    def load_time(self, pod: "Pod") -> float: ...
    def container_started(self, pod: "Pod") -> None: ...
    def pod_ready(self, pod: "Pod") -> None: ...
    def pod_crashed(self, pod: "Pod", reason: str) -> None: ...
    def pod_deleted(self, pod: "Pod") -> None: ...


@dataclass(eq=False)
class Pod:
    name: str
    namespace: str
    owner: PodOwner
    uid: str
    template_hash: str
    version: str
    gpus_wanted: int
    container: str
    created_at: float
    startup_time: float
    node: "Node | None" = None
    gpus: list["Gpu"] = field(default_factory=list)
    state: PodState = PodState.PENDING
    restarts: int = 0
    last_terminated_reason: str | None = None
    container_started_at: float | None = None
    ready_since: float | None = None
    deleted_at: float | None = None
    """When the pod was marked for deletion (kube_pod_deletion_timestamp)."""
    backoff_level: int = 0
    generation: int = 0
    """Bumped on every state change that makes earlier timers of this pod obsolete."""
    memory_base: float = 0.0
    leak_per_second: float = 0.0
    leak_start: float = float("-inf")
    """The leak runs from the later of container start and this time."""
    image_pulled: bool = False
    ip: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"pod/{self.name}"

    @property
    def ready(self) -> bool:
        """The Ready condition the API reports (False once the node is marked unreachable)."""
        return self.state is PodState.READY and self.node is not None and self.node.ready_condition == "True"

    @property
    def serving(self) -> bool:
        """Really able to answer requests."""
        return self.state is PodState.READY and self.node is not None and self.node.kubelet_up

    @property
    def alive(self) -> bool:
        """Counted by its controller (not terminating or gone)."""
        return self.state not in (PodState.TERMINATING, PodState.GONE)

    @property
    def phase(self) -> str:
        if self.state in (PodState.PENDING, PodState.CREATING):
            return "Pending"
        return "Running"

    def memory(self, now: float) -> float:
        if self.container_started_at is None or self.state in (PodState.PENDING, PodState.CREATING, PodState.BACKOFF):
            return 0.0
        return self.memory_base + self.leak_per_second * (now - max(self.container_started_at, self.leak_start))
