"""The simulated ML fleet a scenario describes: GPU node pools and the workloads on them."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from tabletop.scenario.gpu_models import GPU_MODELS
from tabletop.scenario.quantities import Bytes
from tabletop.scenario.types import Duration, Model, Name

GpuModelName = Literal[tuple(GPU_MODELS)]  # type: ignore[valid-type]

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class NodePool(Model):
    name: Name
    gpu_model: GpuModelName
    nodes: Annotated[int, Field(ge=1, le=4096)]
    gpus_per_node: Annotated[int, Field(ge=1, le=16)] = 8
    labels: dict[str, str] = {}


class LatencyProfile(Model):
    """End-to-end request latency of one replica at low utilisation (log-normal)."""

    p50: Duration
    p99: Duration
    time_to_first_token_p50: Duration | None = None
    """LLM servers only: prefill time at low utilisation (default p50 / 10)."""
    timeout: Duration = 60.0
    """Requests waiting longer than this fail at the gateway (504)."""

    @model_validator(mode="after")
    def _ordered(self) -> "LatencyProfile":
        if not 0 < self.p50 < self.p99:
            raise ValueError("latency needs 0 < p50 < p99")
        return self


class TrafficPattern(Model):
    """Requests per second for a deployment: a daily cycle peaking at ``peak_at`` plus noise."""

    base_rps: Annotated[float, Field(ge=0)]
    """Rate at the daily trough (12 hours from the peak)."""
    peak_rps: Annotated[float, Field(ge=0)]
    peak_at: str = "14:00"
    """Wall-clock time of day (UTC, HH:MM) of the daily peak."""
    noise: Annotated[float, Field(ge=0, le=0.5)] = 0.03
    """Relative standard deviation of per-interval noise."""

    @field_validator("peak_at")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError("expected a time of day HH:MM such as 14:00")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> "TrafficPattern":
        if self.peak_rps < self.base_rps:
            raise ValueError("peak_rps must be at least base_rps")
        return self


class Quality(Model):
    """Online model quality (accuracy measured from delayed labels)."""

    baseline: Annotated[float, Field(gt=0, le=1)] = 0.92
    drift_sensitivity: Annotated[float, Field(ge=0)] = 0.5
    """Accuracy lost per unit of feature drift (PSI) above the pipeline's baseline."""
    staleness_sensitivity: Annotated[float, Field(ge=0)] = 0.02
    """Accuracy lost per hour of feature staleness beyond two pipeline schedules."""


PodCount = Annotated[int, Field(ge=0)] | Annotated[str, Field(pattern=r"^(100|[1-9]?[0-9])%$")]
"""A number of pods, or a percent of the replicas ("25%"), as Kubernetes' IntOrString."""


class DisruptionBudget(Model):
    """A PodDisruptionBudget over a deployment's pods (policy/v1): evictions (``evict``,
    ``drain``, kubectl drain) wait while one would leave fewer healthy pods than it allows."""

    min_available: PodCount | None = None
    """Pods that must stay Ready: a number or a percent of the replicas (rounded up)."""
    max_unavailable: PodCount | None = None
    """Pods that may be unavailable: a number or a percent of the replicas (rounded up)."""

    @model_validator(mode="after")
    def _one(self) -> "DisruptionBudget":
        if (self.min_available is None) == (self.max_unavailable is None):
            raise ValueError("a disruption budget needs exactly one of 'min_available' or 'max_unavailable'")
        return self


class Deployment(Model):
    """A model-serving Deployment: replicas of a model server, each on its own GPUs."""

    name: Name
    namespace: Name = "serving"
    server: Literal["vllm", "http"] = "vllm"
    """``vllm`` publishes vLLM's metrics; ``http`` a FastAPI model server's."""
    model: str
    version: str
    previous_version: str | None = None
    """Version a rollback returns to."""
    replicas: Annotated[int, Field(ge=0, le=2000)]
    node_pool: Name
    gpus_per_replica: Annotated[int, Field(ge=0, le=16)] = 1
    startup_time: Duration = 30.0
    """Image pull and container start."""
    model_load_time: Duration = 120.0
    """Loading weights onto the GPUs before the readiness probe passes."""
    capacity_rps: Annotated[float, Field(gt=0)]
    """Requests per second one replica serves at saturation."""
    concurrency: Annotated[int, Field(ge=1, le=1024)] = 16
    """Requests one replica serves at once (batch slots)."""
    latency: LatencyProfile
    traffic: TrafficPattern
    memory_limit: Bytes = 64 * 2**30
    memory_working_set: Bytes = 24 * 2**30
    """Container memory in use once the model is loaded."""
    depends_on: list[Name] = []
    """Feature stores each request reads from."""
    quality: Quality | None = None
    disruption_budget: DisruptionBudget | None = None
    """A PodDisruptionBudget named like the deployment, selecting its pods."""


class CheckpointStorage(Model):
    name: Name = "checkpoints"
    capacity: Bytes
    used: Bytes
    """Bytes used at the start of the drill."""
    keep_last: Annotated[int, Field(ge=1)] = 5


class TrainingJob(Model):
    """A gang-scheduled distributed training job: all workers run or none do."""

    name: Name
    namespace: Name = "training"
    node_pool: Name
    gang_size: Annotated[int, Field(ge=1, le=4096)]
    """Workers (one per node, using all of its GPUs)."""
    step_time: Duration
    """Seconds per optimizer step when every GPU runs at full speed."""
    checkpoint_interval: Duration
    checkpoint_write_time: Duration = 60.0
    checkpoint_size: Bytes = 2 * 2**40
    restart_overhead: Duration = 600.0
    """Rescheduling, NCCL init and checkpoint load before steps resume."""
    nccl_timeout: Duration = 600.0
    """NCCL watchdog: a collective stuck this long aborts the job (torch default 10 min)."""
    start_step: Annotated[int, Field(ge=0)] = 0
    storage: CheckpointStorage


class FeatureStore(Model):
    """An online feature store (e.g. Feast over Redis) that serving reads on every request."""

    name: Name
    namespace: Name = "features"
    latency_p50: Duration = 0.003
    latency_p99: Duration = 0.015
    failover_time: Duration = 90.0
    """Time to promote the standby after a failover command."""


class FeaturePipeline(Model):
    """A scheduled materialization job that writes fresh features into a store."""

    name: Name
    store: Name
    schedule: Duration = 900.0
    run_time: Duration = 240.0
    drift_baseline: Annotated[float, Field(ge=0)] = 0.02
    """Population stability index of the features in normal operation."""


class BackgroundFailures(Model):
    """Random hardware failures across the whole fleet, superposed into one process."""

    node_failures_per_1000_node_days: Annotated[float, Field(ge=0)] = 6.5
    """Meta RSC-1 measured 6.50 (Kokolis et al., HPCA 2025)."""


class Fleet(Model):
    node_pools: list[NodePool]
    deployments: list[Deployment] = []
    training_jobs: list[TrainingJob] = []
    feature_stores: list[FeatureStore] = []
    feature_pipelines: list[FeaturePipeline] = []
    background_failures: BackgroundFailures | None = None
