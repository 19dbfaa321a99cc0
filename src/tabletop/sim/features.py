"""The data path of online models: a feature store, the pipelines that fill it, model quality."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tabletop.scenario.fleet import FeaturePipeline as PipelineSpec
from tabletop.scenario.fleet import FeatureStore as StoreSpec

if TYPE_CHECKING:
    from tabletop.sim.deployment import Deployment
    from tabletop.sim.fleet import Fleet


class FeatureStore:
    def __init__(self, fleet: "Fleet", spec: StoreSpec) -> None:
        self.fleet = fleet
        self.spec = spec
        self.name = spec.name
        self.mode = "ok"
        """ok, down or slow."""
        self.slow_latency = 0.0
        self.failing_over = False
        self.readers: list["Deployment"] = []

    @property
    def ref(self) -> str:
        return f"featurestore/{self.name}"

    @property
    def down(self) -> bool:
        return self.mode == "down" or self.failing_over

    @property
    def added_latency(self) -> float:
        return self.slow_latency if self.mode == "slow" else 0.0

    def read_rate(self) -> float:
        return sum(d.last.offered - d.last.shed for d in self.readers)

    def failover(self, done: Callable[[], None]) -> None:
        """Promote the standby: reads fail while it is promoted, then the store is healthy."""
        self.failing_over = True
        self.fleet.log(self.ref, "sentinel", f"+switch-master {self.name}: promoting replica to primary")

        def finish() -> None:
            self.failing_over = False
            self.mode = "ok"
            self.slow_latency = 0.0
            self.fleet.event(self.ref, "FailoverComplete", f"{self.name}: standby promoted, serving reads")
            done()
            self.fleet.changed()

        self.fleet.later(self.spec.failover_time, finish)


class FeaturePipeline:
    """Materializes features every ``schedule``; a run fails while its store is down."""

    def __init__(self, fleet: "Fleet", spec: PipelineSpec, store: FeatureStore) -> None:
        self.fleet = fleet
        self.spec = spec
        self.name = spec.name
        self.store = store
        self.last_success = -spec.schedule / 3
        self.runs_ok = 0
        self.runs_failed = 0
        self.drift: dict[str, Callable[[float], float]] = {}
        """Extra population stability index by cause."""
        self.pinned = False
        fleet.later(max(0.0, spec.schedule - spec.schedule / 3 - spec.run_time), self._start_run)

    @property
    def ref(self) -> str:
        return f"pipeline/{self.name}"

    def psi(self, now: float) -> float:
        if self.pinned:
            return self.spec.drift_baseline
        return self.spec.drift_baseline + sum(extra(now) for extra in self.drift.values())

    def staleness(self, now: float) -> float:
        return now - self.last_success

    def _start_run(self) -> None:
        self.fleet.later(self.spec.run_time, self._finish_run)
        self.fleet.later(self.spec.schedule, self._start_run)

    def _finish_run(self) -> None:
        if self.pinned:
            self.fleet.log(self.ref, "materialize", "run skipped: features pinned to the last good snapshot")
        elif self.store.down:
            self.runs_failed += 1
            self.fleet.log(self.ref, "materialize", f"run failed: ConnectionError writing to {self.store.name}", level="error")
        else:
            self.runs_ok += 1
            self.last_success = self.fleet.now
            self.fleet.log(self.ref, "materialize", f"run succeeded: wrote features to {self.store.name} (psi={self.psi(self.fleet.now):.3f})")


def model_accuracy(deployment: "Deployment", pipelines: list[FeaturePipeline], now: float) -> float:
    """Online accuracy of what a deployment serves given the freshness and drift of its features:
    during a rollout or a rollback, the versions of its Ready replicas weigh by their share of traffic."""
    quality = deployment.spec.quality
    assert quality is not None
    serving = [p.version for p in deployment.pods if p.ready] or [deployment.version]
    accuracy = quality.baseline - sum(deployment.profile(v).accuracy_drop for v in serving) / len(serving)
    for pipeline in pipelines:
        accuracy -= quality.drift_sensitivity * max(0.0, pipeline.psi(now) - pipeline.spec.drift_baseline)
        overdue_hours = (pipeline.staleness(now) - 2 * pipeline.spec.schedule) / 3600
        accuracy -= quality.staleness_sensitivity * max(0.0, overdue_hours)
    return max(0.0, min(1.0, accuracy))
