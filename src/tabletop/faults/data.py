"""Data-path faults: drifting features, an unavailable or slow feature store."""

from __future__ import annotations

from typing import Any

from tabletop.faults.base import ActiveFault
from tabletop.scenario.faults import FeatureDrift, FeatureStoreOutage
from tabletop.sim.features import FeaturePipeline, FeatureStore


class FeatureDriftFault(ActiveFault):
    """Effect: an upstream change makes a pipeline's features drift: PSI grows by
    ``psi_per_hour`` up to ``max_psi`` and the accuracy of models reading them falls. Leaves:
    feature_drift_psi, model_online_accuracy_ratio, pipeline log lines with the PSI. Ends: by
    itself after ``duration``; impact ends when features are pinned to the last good snapshot
    (which then grow stale)."""

    kind = "feature_drift"
    spec: FeatureDrift

    def inject(self) -> dict[str, Any]:
        pipeline: FeaturePipeline = self.target
        start, rate, cap = self.fleet.now, self.spec.psi_per_hour / 3600, self.spec.max_psi
        pipeline.drift[self.spec.id] = lambda now: min(cap, rate * (now - start))
        return {"psi_per_hour": self.spec.psi_per_hour, "max_psi": cap}

    def stop(self) -> None:
        pipeline: FeaturePipeline = self.target
        pipeline.drift.pop(self.spec.id, None)
        self.fleet.changed()

    def impact_over(self) -> bool:
        pipeline: FeaturePipeline = self.target
        return pipeline.pinned or self.spec.id not in pipeline.drift


class FeatureStoreOutageFault(ActiveFault):
    """Effect: the online feature store refuses connections (``down``: every request of the
    deployments reading it fails with 500, pipeline runs fail and features go stale) or answers
    slowly (``slow``: every request is slower by ``latency``). Leaves: feature_store_requests_total
    errors, latency histograms, connection errors in store and pipeline logs. Ends: by itself
    after ``duration``, or by failing over to the standby."""

    kind = "feature_store_outage"
    spec: FeatureStoreOutage

    @property
    def store(self) -> FeatureStore:
        return self.target

    def inject(self) -> dict[str, Any]:
        store = self.store
        store.mode = self.spec.mode
        store.slow_latency = self.spec.latency if self.spec.mode == "slow" else 0.0
        if self.spec.mode == "down":
            self.fleet.log(store.ref, "redis", "# Connection refused: primary unreachable (MASTERDOWN)", level="error")
        else:
            self.fleet.log(store.ref, "redis", f"slowlog: GET latency {self.spec.latency * 1000:.0f} ms", level="warning")
        for reader in store.readers:
            for pod in reader.pods:
                if pod.alive:
                    self.fleet.log(pod.ref, pod.container,
                                   f"feast online read from {store.name} failed: {'ConnectionError' if self.spec.mode == 'down' else 'slow response'}",
                                   level="error" if self.spec.mode == "down" else "warning")
        self.fleet.changed()
        return {"mode": self.spec.mode, "latency": self.spec.latency if self.spec.mode == "slow" else None}

    def stop(self) -> None:
        self.store.mode = "ok"
        self.store.slow_latency = 0.0
        self.fleet.changed()

    def impact_over(self) -> bool:
        return self.store.mode == "ok" and not self.store.failing_over

    def ended(self) -> str | None:
        return "recovered" if self.impact_over() else None
