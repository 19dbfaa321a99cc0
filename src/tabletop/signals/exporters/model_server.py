"""Model servers: every pod of a Deployment is a scrape target, as a PodMonitor finds it.

``job`` is the deployment's name; ``instance`` the pod's IP and port 8000; ``namespace``,
``pod`` and ``container`` come from the PodMonitor. A target is up only while its container
serves (Ready on a working node); while it loads its model, crash-loops, terminates or sits
on a dead node the scrape fails. Pods not yet bound to a node are not targets.

``server: vllm`` publishes vLLM's metrics (histogram buckets as vLLM defines them) and the
``http_requests_total`` of prometheus-fastapi-instrumentator for ``/v1/chat/completions``;
``server: http`` a FastAPI server instrumented with prometheus-fastapi-instrumentator
(``/predict``, with ``http_request_duration_seconds`` on prometheus_client's default buckets).

Counts are the pod's share of the interval's traffic (``PodTraffic`` rates × seconds since the
previous scrape). Counters are per container: they start at zero when a container starts and
count from when it became Ready, so a restart is a real counter reset. Requests the server
answered within the gateway timeout are 2xx and observed in the latency histograms (whose
shape is the pod's log-normal latency truncated at the timeout); requests it failed, or
answered after the gateway gave up, are 5xx.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tabletop.signals.exporters._common import DEFAULT_BUCKETS, Exporter, Histogram, picker
from tabletop.signals.store import UNSCRAPED, Block
from tabletop.sim.deployment import Deployment
from tabletop.sim.pod import Pod, PodState

if TYPE_CHECKING:
    from tabletop.signals.store import SeriesStore
    from tabletop.sim.fleet import Fleet
    from tabletop.sim.traffic import PodTraffic

PORT = 8000
VLLM_HANDLER = "/v1/chat/completions"
HTTP_HANDLER = "/predict"

E2E = Histogram("vllm:e2e_request_latency_seconds", (
    0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0,
    120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0))
TTFT = Histogram("vllm:time_to_first_token_seconds", (
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    20.0, 40.0, 80.0, 160.0, 640.0, 2560.0))
DURATION = Histogram("http_request_duration_seconds", DEFAULT_BUCKETS)

# Layout of the cumulative values of a vLLM target: e2e histogram, TTFT histogram, then counters.
_V_TTFT = E2E.size
_V_SUCCESS = _V_TTFT + TTFT.size
_V_2XX = _V_SUCCESS + 1
_V_5XX = _V_2XX + 1
# ... and of an http target: duration histogram, then counters.
_H_2XX = DURATION.size
_H_5XX = _H_2XX + 1


class _Target:
    __slots__ = ("up", "counters", "gauges", "values", "started_at", "counted_to", "kept", "block")

    def __init__(self, up: int) -> None:
        self.up = up
        self.counters: list[int] = []
        """Registered at the first successful scrape (a series exists once it has a sample)."""
        self.gauges: list[int] = []
        self.values: list[float] = []
        self.started_at: float | None = None
        self.counted_to: float | None = None
        self.kept: Callable[[list[float]], Sequence[float]] | None = None
        """Picks the values of the counters the scrape writes, when it leaves some out."""
        self.block: Block | None = None
        """The counters written, sharing their timestamps (None: written one by one)."""


class ModelServerExporter(Exporter):
    families = (
        ("vllm:e2e_request_latency_seconds", "histogram", "Histogram of e2e request latency in seconds."),
        ("vllm:time_to_first_token_seconds", "histogram", "Histogram of time to first token in seconds."),
        ("vllm:num_requests_running", "gauge", "Number of requests in model execution batches."),
        ("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed."),
        ("vllm:gpu_cache_usage_perc", "gauge", "GPU KV-cache usage. 1 means 100 percent usage."),
        ("vllm:request_success_total", "counter", "Count of successfully processed requests."),
        ("http_requests_total", "counter", "Total number of requests by method, status and handler."),
        ("http_request_duration_seconds", "histogram",
         "Latency with only few buckets by handler. Made to be only used if aggregation by handler is important."),
    )

    def __init__(self, store: SeriesStore) -> None:
        super().__init__(store)
        self._targets: dict[Pod, _Target] = {}
        self._observed = {histogram: any(store.writes(histogram.name + suffix) for suffix in ("_bucket", "_sum", "_count"))
                          for histogram in (E2E, TTFT, DURATION)}
        """Whether the scrape writes any series of each histogram (see ``SeriesStore.unscraped``)."""

    def _series(self, entry: _Target, pod: Pod, deployment: Deployment) -> None:
        sid = self.sid
        target = {"job": deployment.name, "instance": f"{pod.ip}:{PORT}",
                  "namespace": pod.namespace, "pod": pod.name, "container": pod.container}
        if deployment.spec.server == "vllm":
            model = {**target, "model_name": deployment.spec.model}
            http = {**target, "handler": VLLM_HANDLER, "method": "POST"}
            entry.counters = E2E.sids(self.store, model) + TTFT.sids(self.store, model) + [
                sid("vllm:request_success_total", {**model, "finished_reason": "stop"}),
                sid("http_requests_total", {**http, "status": "2xx"}),
                sid("http_requests_total", {**http, "status": "5xx"}),
            ]
            gauges = [sid("vllm:num_requests_running", model), sid("vllm:num_requests_waiting", model),
                      sid("vllm:gpu_cache_usage_perc", model)]
            entry.gauges = [] if all(g == UNSCRAPED for g in gauges) else gauges  # [] : none is scraped
        else:
            http = {**target, "handler": HTTP_HANDLER, "method": "POST"}
            entry.counters = DURATION.sids(self.store, http) + [
                sid("http_requests_total", {**http, "status": "2xx"}),
                sid("http_requests_total", {**http, "status": "5xx"}),
            ]
        entry.values = [0.0] * len(entry.counters)
        kept = [i for i, sid in enumerate(entry.counters) if sid != UNSCRAPED]
        if len(kept) < len(entry.counters):
            entry.kept = picker(kept)
        entry.block = self.store.block(entry.counters)

    def _target(self, pod: Pod, deployment: Deployment) -> _Target:
        up = self.up_sid({"job": deployment.name, "instance": f"{pod.ip}:{PORT}",
                          "namespace": pod.namespace, "pod": pod.name, "container": pod.container})
        entry = self._targets[pod] = _Target(up)
        return entry

    def collect(self, fleet: "Fleet") -> None:
        add = self.store.add
        now = fleet.now
        targets = self._targets
        observed = self._observed
        traffic: dict[Deployment, dict[Pod, "PodTraffic"]] = {}
        for pod in fleet.pods.values():
            deployment = pod.owner
            node = pod.node
            if node is None or not isinstance(deployment, Deployment) or pod.state is PodState.GONE:
                continue
            entry = targets.get(pod)
            if entry is None:
                entry = self._target(pod, deployment)
            if pod.state is not PodState.READY or not node.kubelet_up:
                add(entry.up, 0.0)
                entry.counted_to = now
                continue
            add(entry.up, 1.0)
            if not entry.counters:
                self._series(entry, pod, deployment)
            values = entry.values
            if entry.started_at != pod.container_started_at:
                entry.started_at = pod.container_started_at
                entry.counted_to = None
                values[:] = [0.0] * len(values)
            since = pod.ready_since if pod.ready_since is not None else now
            if entry.counted_to is not None and entry.counted_to > since:
                since = entry.counted_to
            entry.counted_to = now
            shares = traffic.get(deployment)
            if shares is None:
                shares = traffic[deployment] = {share.pod: share for share in deployment.last.pods}
            share = shares.get(pod)
            spec = deployment.spec
            vllm = spec.server == "vllm"
            dt = now - since
            if share is not None and dt > 0:
                ok = share.ok * dt
                errors = share.errors * dt
                latency = share.latency
                timeout = spec.latency.timeout
                if vllm:
                    if observed[E2E]:
                        E2E.observe(values, 0, ok, latency.median, latency.sigma, timeout)
                    if share.ttft is not None and observed[TTFT]:
                        TTFT.observe(values, _V_TTFT, ok, share.ttft.median, share.ttft.sigma)
                    values[_V_SUCCESS] += ok
                    values[_V_2XX] += ok
                    values[_V_5XX] += errors
                else:
                    if observed[DURATION]:
                        DURATION.observe(values, 0, ok, latency.median, latency.sigma, timeout)
                    values[_H_2XX] += ok
                    values[_H_5XX] += errors
            if entry.block is not None:
                self.store.add_block(entry.block, values if entry.kept is None else entry.kept(values))
            else:  # counters that had samples before this target (add_many leaves out the unscraped)
                self.store.add_many(entry.counters, values)
            if vllm and entry.gauges:
                running = share.running if share is not None else 0.0
                waiting = share.waiting if share is not None else 0.0
                slots = spec.concurrency
                gauges = entry.gauges
                add(gauges[0], float(round(running)))
                add(gauges[1], float(round(waiting)))
                add(gauges[2], round(min(1.0, 0.9 * min(running / slots, 1.0) + 0.1 * min(waiting / slots, 1.0)), 4))
