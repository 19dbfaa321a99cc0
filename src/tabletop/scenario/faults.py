"""Faults a scenario injects, one model per kind of the fault catalog (tabletop.faults)."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from tabletop.scenario.quantities import Bytes
from tabletop.scenario.types import Duration, Model, Name


class When(Model):
    """When something happens: at a drill time, or once a PromQL condition holds."""

    at: Duration | None = None
    condition: str | None = None
    """PromQL expression; true at the first rule evaluation where it returns any sample."""
    after: Duration = 0.0
    """With ``condition``: not before this drill time."""

    @model_validator(mode="after")
    def _one_trigger(self) -> "When":
        if (self.at is None) == (self.condition is None):
            raise ValueError("'when' needs exactly one of 'at' or 'condition'")
        if self.at is not None and self.after:
            raise ValueError("'after' only goes with 'condition'")
        return self


class FaultBase(Model):
    id: Name
    target: str
    """``kind/name`` of the object hit, e.g. ``node/gpu-serve-2``."""
    when: When
    duration: Duration | None = None
    """Ends by itself after this long; without it, it lasts until mitigated (or as its kind says)."""
    description: str = ""

    @property
    def target_name(self) -> str:
        return self.target.partition("/")[2]


class GpuXid(FaultBase):
    """A GPU raises an Xid error; 79 = fallen off the bus, 48 = double-bit ECC error."""

    kind: Literal["gpu_xid"]
    gpu: Annotated[int, Field(ge=0, le=15)] = 0
    xid: Literal[13, 31, 43, 45, 48, 61, 62, 63, 64, 74, 79, 92, 94, 95, 119] = 79


class HbmEcc(FaultBase):
    """HBM memory degrading: correctable (SBE) errors climb, then an uncorrectable one (Xid 48)."""

    kind: Literal["hbm_ecc"]
    gpu: Annotated[int, Field(ge=0, le=15)] = 0
    sbe_per_hour: Annotated[float, Field(gt=0)] = 240.0
    dbe_after: Duration | None = 1200.0
    """Time until the double-bit error that kills the GPU's workload; null: never."""


class GpuThermal(FaultBase):
    """Cooling failure on a node: GPUs overheat and throttle their clocks."""

    kind: Literal["gpu_thermal"]
    gpus: list[Annotated[int, Field(ge=0, le=15)]] | Literal["all"] = "all"
    temperature_c: Annotated[float, Field(ge=60, le=110)] = 92.0
    speed_factor: Annotated[float, Field(gt=0, le=1)] = 0.55
    """Throughput of a throttled GPU relative to full clocks."""


class NodeNotReady(FaultBase):
    """The kubelet stops reporting (kernel hang, network partition): node goes NotReady."""

    kind: Literal["node_not_ready"]


class MemoryLeak(FaultBase):
    """The model server leaks memory until the container is OOMKilled, again and again."""

    kind: Literal["memory_leak"]
    rate_per_hour: Bytes = 32 * 2**30
    version: str | None = None
    """Model-server version carrying the leak (default: the version running at injection)."""


class BadRollout(FaultBase):
    """A new model version rolls out and regresses latency and/or accuracy."""

    kind: Literal["bad_rollout"]
    new_version: str
    latency_factor: Annotated[float, Field(ge=1)] = 1.0
    accuracy_drop: Annotated[float, Field(ge=0, lt=1)] = 0.0

    @model_validator(mode="after")
    def _regresses(self) -> "BadRollout":
        if self.latency_factor == 1.0 and self.accuracy_drop == 0.0:
            raise ValueError("a bad rollout needs latency_factor > 1 or accuracy_drop > 0")
        return self


class Rollout(FaultBase):
    """A routine rollout of a new version that changes nothing: the deploy everyone suspects
    (a red herring), or the release a ``memory_leak`` with that ``version`` ships in."""

    kind: Literal["rollout"]
    new_version: str


class FeatureDrift(FaultBase):
    """An upstream data change makes a feature pipeline's output drift from training data."""

    kind: Literal["feature_drift"]
    psi_per_hour: Annotated[float, Field(gt=0)] = 0.15
    max_psi: Annotated[float, Field(gt=0)] = 0.6


class FeatureStoreOutage(FaultBase):
    """The online feature store is down or slow for every reader."""

    kind: Literal["feature_store_outage"]
    mode: Literal["down", "slow"] = "down"
    latency: Duration = 0.8
    """With mode ``slow``: added latency per read."""


class TrafficSurge(FaultBase):
    """Request rate multiplies (a launch, a retry storm, a bot)."""

    kind: Literal["traffic_surge"]
    factor: Annotated[float, Field(gt=1)] = 1.6
    ramp: Duration = 300.0


class NcclHang(FaultBase):
    """A collective never completes: training stalls with GPUs busy and no crash."""

    kind: Literal["nccl_hang"]
    node: Name | None = None
    """Node whose worker hangs (default: the job's first node)."""
    watchdog: bool = False
    """When true the NCCL watchdog aborts the job after its nccl_timeout."""


class CheckpointStorageFull(FaultBase):
    """The checkpoint volume fills up (another writer); checkpoint writes fail."""

    kind: Literal["checkpoint_storage_full"]


Fault = Annotated[
    Union[
        GpuXid, HbmEcc, GpuThermal, NodeNotReady, MemoryLeak, BadRollout, Rollout, FeatureDrift,
        FeatureStoreOutage, TrafficSurge, NcclHang, CheckpointStorageFull,
    ],
    Field(discriminator="kind"),
]

TARGET_KIND: dict[str, str] = {
    "gpu_xid": "node",
    "hbm_ecc": "node",
    "gpu_thermal": "node",
    "node_not_ready": "node",
    "memory_leak": "deployment",
    "bad_rollout": "deployment",
    "rollout": "deployment",
    "feature_drift": "pipeline",
    "feature_store_outage": "featurestore",
    "traffic_surge": "deployment",
    "nccl_hang": "job",
    "checkpoint_storage_full": "job",
}
"""The kind of object each fault kind targets."""
