"""The data path of online models: feature store, feature pipelines and model quality.

* ``job="feature-store"``: the feature server in front of each store (it stays up while its
  backend is down and counts the failed reads): reads by status and a read-latency histogram
  (log-normal from the store's p50/p99, shifted by any added latency; successful reads only).
* ``job="feature-pipeline"``: the materialization scheduler's metrics per pipeline: last
  success time, runs by outcome, population stability index of the features written.
* ``job="model-monitor"``: online accuracy per deployment with a ``quality`` section, from
  delayed labels, with the deployment's current ``version``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from tabletop.signals.exporters._common import DEFAULT_BUCKETS, Exporter, Histogram
from tabletop.sim.features import model_accuracy
from tabletop.sim.traffic import Z99

if TYPE_CHECKING:
    from tabletop.signals.store import SeriesStore
    from tabletop.sim.deployment import Deployment
    from tabletop.sim.features import FeaturePipeline, FeatureStore
    from tabletop.sim.fleet import Fleet

STORE_JOB = "feature-store"
PIPELINE_JOB = "feature-pipeline"
PIPELINE_INSTANCE = "10.243.0.41:9102"
MONITOR_JOB = "model-monitor"
MONITOR_INSTANCE = "10.243.0.42:8080"
STORE_PORT = 6566
SERVER_UPTIME = 4 * 86400.0
"""Seconds the feature servers had been running at T+0."""

READ_DURATION = Histogram("feature_store_request_duration_seconds", DEFAULT_BUCKETS)
_OK = READ_DURATION.size
_ERROR = _OK + 1


class FeaturesExporter(Exporter):
    families = (
        ("feature_store_requests_total", "counter", "Online feature reads by outcome."),
        ("feature_store_request_duration_seconds", "histogram", "Latency of successful online feature reads in seconds."),
        ("feature_pipeline_last_success_timestamp_seconds", "gauge", "Unix time the pipeline last wrote features successfully."),
        ("feature_pipeline_runs_total", "counter", "Pipeline runs by outcome."),
        ("feature_drift_psi", "gauge", "Population stability index of the features the pipeline serves, against the training data."),
        ("model_online_accuracy_ratio", "gauge", "Online accuracy of the model measured from delayed labels (0..1)."),
    )

    def __init__(self, store: SeriesStore) -> None:
        super().__init__(store)
        self._stores: dict["FeatureStore", tuple[int, list[int], list[float]]] = {}
        self._pipelines: dict["FeaturePipeline", tuple[int, int, int, int]] = {}
        self._accuracy: dict[tuple["Deployment", str], int] = {}
        self._pipeline_up = self.up_sid({"job": PIPELINE_JOB, "instance": PIPELINE_INSTANCE})
        self._monitor_up = self.up_sid({"job": MONITOR_JOB, "instance": MONITOR_INSTANCE})
        self._last: float | None = None

    def _store(self, store: "FeatureStore", index: int) -> tuple[int, list[int], list[float]]:
        target = {"job": STORE_JOB, "instance": f"10.243.1.{index + 10}:{STORE_PORT}"}
        labels = {**target, "store": store.name}
        sids = READ_DURATION.sids(self.store, labels) + [
            self.sid("feature_store_requests_total", {**labels, "status": "ok"}),
            self.sid("feature_store_requests_total", {**labels, "status": "error"}),
        ]
        entry = self._stores[store] = (self.up_sid(target), sids, [0.0] * len(sids))
        return entry

    def _pipeline(self, pipeline: "FeaturePipeline") -> tuple[int, int, int, int]:
        labels = {"job": PIPELINE_JOB, "instance": PIPELINE_INSTANCE, "pipeline": pipeline.name}
        entry = self._pipelines[pipeline] = (
            self.sid("feature_pipeline_last_success_timestamp_seconds", labels),
            self.sid("feature_pipeline_runs_total", {**labels, "status": "success"}),
            self.sid("feature_pipeline_runs_total", {**labels, "status": "failure"}),
            self.sid("feature_drift_psi", labels),
        )
        return entry

    def collect(self, fleet: "Fleet") -> None:
        add = self.store.add
        now = fleet.now
        start = fleet.start.timestamp()
        dt = now - self._last if self._last is not None else SERVER_UPTIME + now
        self._last = now

        for index, store in enumerate(fleet.stores.values()):
            entry = self._stores.get(store) or self._store(store, index)
            up, sids, values = entry
            add(up, 1.0)
            reads = store.read_rate() * dt if dt > 0 else 0.0
            if store.down:
                values[_ERROR] += reads
            else:
                spec = store.spec
                sigma = math.log(spec.latency_p99 / spec.latency_p50) / Z99
                READ_DURATION.observe(values, 0, reads, spec.latency_p50 + store.added_latency, sigma)
                values[_OK] += reads
            self.store.add_many(sids, values)

        add(self._pipeline_up, 1.0)
        for pipeline in fleet.pipelines.values():
            p = self._pipelines.get(pipeline) or self._pipeline(pipeline)
            add(p[0], start + pipeline.last_success)
            add(p[1], float(pipeline.runs_ok))
            add(p[2], float(pipeline.runs_failed))
            add(p[3], round(pipeline.psi(now), 4))

        add(self._monitor_up, 1.0)
        for deployment in fleet.deployments.values():
            if deployment.spec.quality is None:
                continue
            version = deployment.version
            sid = self._accuracy.get((deployment, version))
            if sid is None:
                sid = self._accuracy[(deployment, version)] = self.sid("model_online_accuracy_ratio", {
                    "job": MONITOR_JOB, "instance": MONITOR_INSTANCE, "namespace": deployment.namespace,
                    "deployment": deployment.name, "model": deployment.spec.model, "version": version})
            feeding = [p for p in fleet.pipelines.values() if p.store in deployment.stores]
            add(sid, round(model_accuracy(deployment, feeding, now), 4))
