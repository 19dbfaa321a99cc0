"""A model-serving Deployment and its controller: replica count, rolling updates, traffic."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tabletop.scenario.fleet import Deployment as DeploymentSpec
from tabletop.sim import kubelet
from tabletop.sim.pod import Pod, PodState
from tabletop.sim.traffic import Z99, LatencyShape, PodTraffic, TrafficStep, daily_rate, queue_wait_ratio

if TYPE_CHECKING:
    from tabletop.sim.features import FeatureStore
    from tabletop.sim.fleet import Fleet

CUDA_INIT_TIME = 12.0
"""Seconds a model server needs to notice that its GPU is gone."""
_HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


@dataclass(frozen=True)
class Template:
    """A pod template the deployment has had (what Kubernetes keeps as a ReplicaSet)."""

    hash: str
    version: str
    restarts: int
    since: float | None
    """When it was rolled out; None: before the drill."""


@dataclass
class VersionProfile:
    """How a model-server version behaves relative to the scenario's figures."""

    latency_factor: float = 1.0
    accuracy_drop: float = 0.0
    leak_per_second: float = 0.0


class Deployment:
    """Keeps ``replicas`` pods of the current template; rolls 25% at a time like Kubernetes."""

    def __init__(self, fleet: "Fleet", spec: DeploymentSpec) -> None:
        self.fleet = fleet
        self.spec = spec
        self.name = spec.name
        self.namespace = spec.namespace
        self.replicas = spec.replicas
        self.versions = [v for v in (spec.previous_version, spec.version) if v]
        self.profiles: dict[str, VersionProfile] = {}
        self.restarts = 0
        self.template_hash = self._template_hash()
        self.templates = [Template(self._template_hash(v, 0), v, 0, None) for v in self.versions]
        """Every template so far, oldest first (the current one last)."""
        self.pods: list[Pod] = []
        self._reconciling = False
        self.demand: dict[str, Callable[[float], float]] = {}
        """Multipliers of the offered load by cause (traffic surges)."""
        self.shed_fraction = 0.0
        self.stores: list["FeatureStore"] = []
        self.generation = 1
        self.last = TrafficStep()
        self.sigma = math.log(spec.latency.p99 / spec.latency.p50) / Z99

    # template and versions ------------------------------------------------------------------
    @property
    def version(self) -> str:
        return self.versions[-1]

    @property
    def ref(self) -> str:
        return f"deployment/{self.name}"

    def profile(self, version: str) -> VersionProfile:
        profile = self.profiles.get(version)
        if profile is None:
            profile = self.profiles[version] = VersionProfile()
        return profile

    def _template_hash(self, version: str | None = None, restarts: int | None = None) -> str:
        version = self.version if version is None else version
        restarts = self.restarts if restarts is None else restarts
        digest = hashlib.sha256(f"{self.name}/{version}/{restarts}".encode()).digest()
        return "".join(_HASH_ALPHABET[b % len(_HASH_ALPHABET)] for b in digest[:10])

    def roll_to(self, version: str) -> None:
        self.versions.append(version)
        self._new_template()

    def previous_version(self) -> str | None:
        return next((v for v in reversed(self.versions[:-1]) if v != self.version), None)

    def rollback(self) -> str | None:
        previous = self.previous_version()
        if previous is not None:
            self.versions.append(previous)
            self._new_template()
        return previous

    def restart(self) -> None:
        self.restarts += 1
        self._new_template()

    def scale(self, replicas: int) -> None:
        self.replicas = replicas
        self.generation += 1
        self.reconcile()

    def _new_template(self) -> None:
        self.template_hash = self._template_hash()
        self.templates.append(Template(self.template_hash, self.version, self.restarts, self.fleet.now))
        self.generation += 1
        self.fleet.event(self.ref, "ScalingReplicaSet", f"Rolling out {self.name}-{self.template_hash} ({self.version})")
        self.reconcile()

    # pods -----------------------------------------------------------------------------------
    def new_pod(self) -> Pod:
        fleet = self.fleet
        profile = self.profile(self.version)
        pod = Pod(
            name=f"{self.name}-{self.template_hash}-{fleet.streams.token('pod-names')}",
            namespace=self.namespace, owner=self, uid=fleet.uid(), template_hash=self.template_hash,
            version=self.version, gpus_wanted=self.spec.gpus_per_replica,
            container="vllm" if self.spec.server == "vllm" else "model-server",
            created_at=fleet.now, startup_time=self.spec.startup_time,
            memory_base=self.spec.memory_working_set, leak_per_second=profile.leak_per_second,
            labels={"app": self.name, "pod-template-hash": self.template_hash},
        )
        self.pods.append(pod)
        fleet.add_pod(pod, self.spec.node_pool)
        return pod

    def load_time(self, pod: Pod) -> float:
        return self.spec.model_load_time

    def container_started(self, pod: Pod) -> None:
        fleet = self.fleet
        if any(gpu.lost for gpu in pod.gpus):
            lost = next(gpu for gpu in pod.gpus if gpu.lost)
            kubelet.after(fleet, pod, CUDA_INIT_TIME, lambda: kubelet.crash(
                fleet, pod, "Error",
                f"RuntimeError: CUDA error: no CUDA-capable device is detected (device {lost.index} on {lost.node.name} unavailable)"))
            return
        fleet.log(pod.ref, pod.container, f"Loading model {self.spec.model} ({pod.version}) onto {len(pod.gpus)} GPU(s)")
        kubelet.after(fleet, pod, self.load_time(pod), lambda: kubelet.mark_ready(fleet, pod))
        if pod.leak_per_second > 0:
            headroom = self.spec.memory_limit - pod.memory_base
            kubelet.during_container(fleet, pod, max(headroom / pod.leak_per_second, 1.0), lambda: self.oom(pod))

    def oom(self, pod: Pod) -> None:
        limit_gib = self.spec.memory_limit / 2**30
        if pod.node is not None:
            self.fleet.log(pod.node.ref, "kernel",
                           f"Memory cgroup out of memory: Killed process ({pod.container}) in pod {pod.namespace}/{pod.name}, limit {limit_gib:.0f}Gi",
                           level="error")
        kubelet.crash(self.fleet, pod, "OOMKilled", f"container {pod.container} exceeded its memory limit of {limit_gib:.0f}Gi")

    def gpu_lost(self, pod: Pod) -> None:
        """A GPU under a running replica failed: the server process dies within seconds."""
        if pod.state in (PodState.LOADING, PodState.READY):
            kubelet.after(self.fleet, pod, 2.0, lambda: kubelet.crash(
                self.fleet, pod, "Error", "RuntimeError: CUDA error: unspecified launch failure (GPU has fallen off the bus)"))

    def pod_ready(self, pod: Pod) -> None:
        self.reconcile()

    def pod_crashed(self, pod: Pod, reason: str) -> None:
        self.fleet.changed()

    def pod_deleted(self, pod: Pod) -> None:
        if pod in self.pods:
            self.pods.remove(pod)
        if not self._reconciling:  # deleted by reconcile itself, which accounts for it
            self.reconcile()

    def reconcile(self) -> None:
        """Create and delete pods toward ``replicas`` of the current template (maxSurge and
        maxUnavailable 25%, unhealthy old pods replaced first)."""
        self._reconciling = True
        try:
            self._reconcile()
        finally:
            self._reconciling = False

    def _reconcile(self) -> None:
        desired = self.replicas
        new = [p for p in self.pods if p.template_hash == self.template_hash]
        old = [p for p in self.pods if p.template_hash != self.template_hash]
        max_surge = math.ceil(desired * 0.25)
        max_unavailable = math.floor(desired * 0.25) or (0 if max_surge else 1)
        while len(new) + len(old) < desired + max_surge and len(new) < desired:
            new.append(self.new_pod())
        for pod in [p for p in old if not p.ready]:
            kubelet.delete(self.fleet, pod, "replaced by the rollout")
            old.remove(pod)
        available = sum(1 for p in self.pods if p.ready)
        for pod in [p for p in old if p.ready]:
            if available - 1 < desired - max_unavailable and new:
                break
            kubelet.delete(self.fleet, pod, "replaced by the rollout")
            old.remove(pod)
            available -= 1
        if not old:
            while len(new) < desired:
                new.append(self.new_pod())
            surplus = len(new) - desired
            for pod in sorted(new, key=_deletion_order)[:max(surplus, 0)]:
                kubelet.delete(self.fleet, pod, "scaled down")
        self.fleet.changed()

    # traffic --------------------------------------------------------------------------------
    def step(self, dt: float) -> TrafficStep:
        """Traffic of the interval ending now (rates per second); updates GPU utilisation."""
        fleet = self.fleet
        spec = self.spec
        rng = fleet.streams.get(f"traffic/{self.name}")
        noise = min(max(1 + spec.traffic.noise * rng.gauss(0.0, 1.0), 0.5), 1.5)
        offered = daily_rate(spec.traffic, fleet.seconds_of_day()) * noise
        for multiplier in self.demand.values():
            offered *= multiplier(fleet.now)
        result = TrafficStep(offered=offered)
        result.shed = offered * self.shed_fraction
        rest = offered - result.shed
        endpoints = [p for p in self.pods if p.ready]
        if not endpoints:
            result.no_endpoints = rest
            self.last = result
            return result
        serving = [p for p in endpoints if p.serving]
        per_endpoint = rest / len(endpoints)
        result.bad_gateway = per_endpoint * (len(endpoints) - len(serving))
        store_down = any(store.down for store in self.stores)
        extra = sum(store.added_latency for store in self.stores)
        shares: dict[tuple[str, float], tuple[tuple, float]] = {}
        for pod in serving:
            traffic = self._pod_traffic(pod, per_endpoint, extra, store_down, shares)
            result.pods.append(traffic)
            result.ok += traffic.ok
            if store_down:
                result.dependency_errors += traffic.errors
            else:
                result.timeouts += traffic.errors
        result.utilisation = sum(p.utilisation for p in result.pods) / len(result.pods) if result.pods else 0.0
        self.last = result
        return result

    def _pod_traffic(self, pod: Pod, load: float, extra_latency: float, store_down: bool,
                     shares: dict[tuple[str, float], tuple[tuple, float]]) -> PodTraffic:
        """A serving replica's traffic. Replicas of one version on equally fast GPUs get the same
        share of a step: it is computed once per step, in ``shares``."""
        speed = min((gpu.speed for gpu in pod.gpus), default=1.0)
        key = (pod.version, speed)
        share = shares.get(key)
        if share is None:
            share = shares[key] = self._share(self.profile(pod.version), speed, load, extra_latency, store_down)
        fields, busy = share
        for gpu in pod.gpus:
            gpu.busy = busy
        return PodTraffic(pod, *fields)

    def _share(self, profile: VersionProfile, speed: float, load: float, extra_latency: float,
               store_down: bool) -> tuple[tuple, float]:
        """What one replica does with ``load``: the fields of its PodTraffic after ``pod``, and
        how busy its GPUs are."""
        spec = self.spec
        capacity = spec.capacity_rps * speed / profile.latency_factor
        utilisation = load / capacity
        served = min(load, capacity)
        overflow = load - served
        wait = queue_wait_ratio(utilisation, spec.concurrency)
        service_median = spec.latency.p50 * profile.latency_factor / speed
        service_mean = service_median * math.exp(self.sigma**2 / 2)
        latency = LatencyShape(service_median * (1 + wait) + extra_latency, self.sigma)
        ttft = None
        if spec.server == "vllm":
            ttft_p50 = (spec.latency.time_to_first_token_p50 or spec.latency.p50 / 10) * profile.latency_factor / speed
            ttft = LatencyShape(ttft_p50 + wait * service_mean + extra_latency, 0.6)
        busy = min(1.0, 0.05 + 0.93 * min(utilisation, 1.0))
        if store_down:
            return (0.0, load, latency, ttft, 0.0, 0.0, utilisation), busy
        late = served * (1 - latency.cdf(spec.latency.timeout))
        running = min(spec.concurrency, served * service_mean)
        waiting = min(served * wait * service_mean + overflow * spec.latency.timeout, 20.0 * spec.concurrency)
        return (served - late, late + overflow, latency, ttft, running, waiting, utilisation), busy


def _deletion_order(pod: Pod) -> tuple[int, float]:
    """Kubernetes deletes unscheduled, then not-ready, then the newest pods first."""
    rank = 0 if pod.state is PodState.PENDING else 1 if not pod.ready else 2
    return rank, -pod.created_at
