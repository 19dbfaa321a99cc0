"""Model-serving faults: a memory leak, a bad model rollout, a routine rollout, a traffic surge."""

from __future__ import annotations

from typing import Any

from tabletop.faults.base import ActiveFault
from tabletop.scenario.faults import BadRollout, MemoryLeak, Rollout, TrafficSurge
from tabletop.sim import kubelet
from tabletop.sim.deployment import Deployment


def _replaced(deployment: Deployment, bad: str) -> bool:
    """No pod of version ``bad`` is left and the deployment serves at full strength again."""
    pods = deployment.pods
    return not any(p.version == bad and p.alive for p in pods) and sum(1 for p in pods if p.ready) >= deployment.replicas


class MemoryLeakFault(ActiveFault):
    """Effect: model-server containers of one version leak ``rate_per_hour`` until the kernel
    OOM-kills them; each restart reloads the model and the kubelet's back-off grows
    (CrashLoopBackOff), so capacity drops in waves. Leaves: container_memory_working_set_bytes
    climbing to the limit, OOMKilled terminations, cgroup OOM kernel lines, restarts. Ends: only
    by running another version (rollback); restarting pods buys time."""

    kind = "memory_leak"
    spec: MemoryLeak

    @property
    def deployment(self) -> Deployment:
        return self.target

    def inject(self) -> dict[str, Any]:
        deployment = self.deployment
        self.version = self.spec.version or deployment.version
        per_second = self.spec.rate_per_hour / 3600
        deployment.profile(self.version).leak_per_second = per_second
        headroom = deployment.spec.memory_limit - deployment.spec.memory_working_set
        for pod in deployment.pods:
            if pod.version == self.version and pod.alive:
                pod.leak_per_second = per_second
                pod.leak_start = self.fleet.now
                kubelet.during_container(self.fleet, pod, headroom / per_second, lambda pod=pod: deployment.oom(pod))
        return {"version": self.version, "rate_per_hour": self.spec.rate_per_hour}

    def impact_over(self) -> bool:
        deployment = self.deployment
        return deployment.version != self.version and _replaced(deployment, self.version)

    def ended(self) -> str | None:
        return "mitigation" if self.impact_over() else None


class BadRolloutFault(ActiveFault):
    """Effect: a new version rolls out (25% at a time) whose replicas are slower
    (``latency_factor``: higher latency, lower capacity) and/or less accurate. Leaves: a
    ScalingReplicaSet event, latency histograms and model_online_accuracy_ratio shifting with
    the new pods. Ends: only by rolling back."""

    kind = "bad_rollout"
    spec: BadRollout

    def inject(self) -> dict[str, Any]:
        deployment: Deployment = self.target
        profile = deployment.profile(self.spec.new_version)
        profile.latency_factor = self.spec.latency_factor
        profile.accuracy_drop = self.spec.accuracy_drop
        self.from_version = deployment.version
        deployment.roll_to(self.spec.new_version)
        return {"from_version": self.from_version, "new_version": self.spec.new_version,
                "latency_factor": self.spec.latency_factor, "accuracy_drop": self.spec.accuracy_drop}

    def impact_over(self) -> bool:
        deployment: Deployment = self.target
        return deployment.version != self.spec.new_version and _replaced(deployment, self.spec.new_version)

    def ended(self) -> str | None:
        return "mitigation" if self.impact_over() else None


class RolloutFault(ActiveFault):
    """Effect: a new version rolls out (25% at a time) that serves exactly as the old one did;
    capacity dips only while each new replica loads its model. Leaves: a ScalingReplicaSet
    event, new pods and their logs, the generation counters. Ends: once the old version's pods
    are all replaced (``completed``), or a rollback is back at full strength (``mitigation``)."""

    kind = "rollout"
    spec: Rollout

    def inject(self) -> dict[str, Any]:
        deployment: Deployment = self.target
        deployment.profile(self.spec.new_version)
        self.from_version = deployment.version
        deployment.roll_to(self.spec.new_version)
        return {"from_version": self.from_version, "new_version": self.spec.new_version}

    def ended(self) -> str | None:
        deployment: Deployment = self.target
        if deployment.version == self.spec.new_version:
            return "completed" if _replaced(deployment, self.from_version) else None
        return "mitigation" if _replaced(deployment, self.spec.new_version) else None


class TrafficSurgeFault(ActiveFault):
    """Effect: offered load ramps up to ``factor`` times normal over ``ramp``. Leaves: request
    rates, utilisation, queueing latency and, past capacity, 504s. Ends: by itself after
    ``duration``; scaling out or shedding load limit the damage meanwhile."""

    kind = "traffic_surge"
    spec: TrafficSurge

    def inject(self) -> dict[str, Any]:
        deployment: Deployment = self.target
        start, factor, ramp = self.fleet.now, self.spec.factor, max(self.spec.ramp, 1e-9)
        deployment.demand[self.spec.id] = lambda now: 1 + (factor - 1) * min(1.0, (now - start) / ramp)
        return {"factor": factor, "ramp": self.spec.ramp}

    def stop(self) -> None:
        deployment: Deployment = self.target
        deployment.demand.pop(self.spec.id, None)
        self.fleet.changed()
