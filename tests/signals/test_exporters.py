"""Simulated exporters: real metric names and labels, up/staleness, counters and histograms."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import simpy
import yaml

from tabletop.scenario.model import Scenario
from tabletop.signals.exporters._common import format_le
from tabletop.signals.scraper import Scraper, families
from tabletop.signals.store import STALE, SeriesStore, Series
from tabletop.sim import kubelet, node_controller
from tabletop.sim.fleet import Fleet
from tabletop.sim.pod import PodState
from tabletop.sim.rng import Streams
from tests.sim.fleets import TRAINING

BUNDLED = Path(__file__).resolve().parents[2] / "scenarios" / "serving-gpu-node-failure.yaml"
INTERVAL = 15.0

class Drill:
    """The bundled scenario's fleet, scraped every 15 s like the drill does."""

    def __init__(self, seed: int = 1, **fleet_changes: Any) -> None:
        data = yaml.safe_load(BUNDLED.read_text())
        data["fleet"].update(fleet_changes)
        scenario = Scenario.model_validate(data)
        self.env = simpy.Environment()
        self.fleet = Fleet(self.env, scenario.fleet, start=scenario.metadata.start, streams=Streams(seed),
                           emit=lambda kind, data: None)
        self.store = SeriesStore()
        self.scraper = Scraper(self.store, self.fleet)

    def scrape(self) -> None:
        for deployment in self.fleet.deployments.values():
            deployment.step(INTERVAL)
        self.scraper.scrape()

    def advance(self, seconds: float) -> None:
        """Run the clock in scrape intervals, stepping traffic and scraping at each."""
        end = self.env.now + seconds
        while self.env.now + INTERVAL <= end + 1e-9:
            self.env.run(until=self.env.now + INTERVAL)
            self.scrape()

    def run(self, seconds: float) -> None:
        self.env.run(until=self.env.now + seconds)

    def series(self, name: str, **labels: str) -> list[Series]:
        return [s for s in self.store.with_name(name) if all(s.labels.get(k) == v for k, v in labels.items())]

    def live(self, name: str, **labels: str) -> dict[tuple, float]:
        """Values of matching series at the newest scrape, by label set (stale or absent ones left out)."""
        t = self.fleet.now
        return {tuple(sorted(s.labels.items())): s.vs[-1] for s in self.series(name, **labels)
                if s.ts and s.ts[-1] == t and s.vs[-1] is not STALE}

    def value(self, name: str, **labels: str) -> float:
        values = list(self.live(name, **labels).values())
        assert len(values) == 1, f"{name}{labels}: {len(values)} live series"
        return values[0]


@pytest.fixture
def drill() -> Drill:
    d = Drill()
    d.scrape()
    return d


def test_every_family_is_published_with_the_job_and_instance_of_its_exporter(drill: Drill) -> None:
    expected_jobs = {
        "DCGM_FI_DEV_GPU_UTIL": "nvidia-dcgm-exporter", "DCGM_FI_DEV_XID_ERRORS": "nvidia-dcgm-exporter",
        "kube_pod_status_phase": "kube-state-metrics", "kube_node_status_condition": "kube-state-metrics",
        "kube_deployment_status_replicas_available": "kube-state-metrics",
        "node_load1": "node-exporter", "node_filesystem_avail_bytes": "node-exporter",
        "container_memory_working_set_bytes": "kubelet",
        "nginx_ingress_controller_requests": "ingress-nginx",
        "feature_store_requests_total": "feature-store", "feature_drift_psi": "feature-pipeline",
        "model_online_accuracy_ratio": "model-monitor",
        "vllm:e2e_request_latency_seconds_bucket": "chat-llm", "vllm:num_requests_running": "chat-llm",
        "http_request_duration_seconds_bucket": "ranker",
    }
    for name, job in expected_jobs.items():
        live = drill.live(name)
        assert live, name
        assert {dict(key)["job"] for key in live} == {job}, name
    for series in drill.store:
        assert series.labels.get("job") and series.labels.get("instance"), series.labels
        assert all(value != "" for value in series.labels.values()), series.labels
    # Every published name belongs to a described family (histograms by their base name).
    described = {name for name, _, _ in families()}
    for name in drill.store.names():
        base = next((name[: -len(s)] for s in ("_bucket", "_sum", "_count") if name.endswith(s) and name[: -len(s)] in described), name)
        assert base in described, name


def test_dcgm_labels_follow_the_exporter_and_the_pod_holding_the_gpu(drill: Drill) -> None:
    node = drill.fleet.nodes["gpu-serve-0"]
    gpu = node.gpus[3]
    labels = dict(next(iter(drill.live("DCGM_FI_DEV_GPU_UTIL", Hostname=node.name, gpu="3"))))
    assert labels["instance"] == f"{node.ip}:9400"
    assert labels["UUID"] == gpu.uuid and labels["device"] == "nvidia3"
    assert labels["modelName"] == "NVIDIA H100 80GB HBM3"
    assert labels["DCGM_FI_DRIVER_VERSION"] == "550.90.07"
    assert (labels["namespace"], labels["pod"], labels["container"]) == ("serving", gpu.pod.name, "vllm")
    # A free GPU has no pod labels, idles and holds no memory.
    free = drill.fleet.nodes["gpu-serve-4"].gpus[0]
    free_labels = dict(next(iter(drill.live("DCGM_FI_DEV_GPU_UTIL", Hostname="gpu-serve-4", gpu="0"))))
    assert "pod" not in free_labels and free.pod is None
    assert drill.value("DCGM_FI_DEV_GPU_UTIL", Hostname="gpu-serve-4", gpu="0") == 0
    assert drill.value("DCGM_FI_DEV_FB_USED", Hostname="gpu-serve-4", gpu="0") == 0
    assert drill.value("DCGM_FI_DEV_SM_CLOCK", Hostname="gpu-serve-4", gpu="0") == 345
    # A busy vLLM GPU: utilisation from the traffic step, 90% of the memory preallocated, full clocks.
    assert drill.value("DCGM_FI_DEV_GPU_UTIL", Hostname=node.name, gpu="3") == round(100 * gpu.busy)
    used = drill.value("DCGM_FI_DEV_FB_USED", Hostname=node.name, gpu="3")
    assert used == pytest.approx(0.9 * gpu.model.memory_mib + 500, abs=1)
    assert used + drill.value("DCGM_FI_DEV_FB_FREE", Hostname=node.name, gpu="3") == gpu.model.memory_mib
    assert drill.value("DCGM_FI_DEV_SM_CLOCK", Hostname=node.name, gpu="3") == 1980
    assert drill.value("DCGM_FI_DEV_GPU_TEMP", Hostname=node.name, gpu="3") > drill.value("DCGM_FI_DEV_GPU_TEMP", Hostname="gpu-serve-4", gpu="0")
    assert drill.value("DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", Hostname=node.name, gpu="3") == 0
    # Thermal throttling: the GPU runs at its throttled temperature with HW+SW thermal reasons.
    gpu.throttled_temp_c, gpu.speed = 91.0, 0.6
    drill.advance(INTERVAL)
    assert drill.value("DCGM_FI_DEV_GPU_TEMP", Hostname=node.name, gpu="3") in (91, 92)
    assert drill.value("DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", Hostname=node.name, gpu="3") == 0x40 | 0x20
    assert drill.value("DCGM_FI_DEV_SM_CLOCK", Hostname=node.name, gpu="3") == pytest.approx(1980 * 0.6)


def test_a_lost_gpu_keeps_only_its_xid_series(drill: Drill) -> None:
    node = drill.fleet.nodes["gpu-serve-2"]
    gpu = node.gpus[5]
    drill.advance(2 * INTERVAL)
    before = {s.labels["__name__"]: s for s in drill.store if s.labels.get("UUID") == gpu.uuid and s.vs[-1] is not STALE}
    assert len(before) == 10
    gpu.last_xid = 79
    drill.fleet.gpu_lost(gpu)
    drill.run(5)
    drill.scrape()
    t = drill.fleet.now
    assert drill.value("DCGM_FI_DEV_XID_ERRORS", UUID=gpu.uuid) == 79
    for name, series in before.items():
        if name == "DCGM_FI_DEV_XID_ERRORS":
            assert series.ts[-1] == t and series.vs[-1] == 79
        else:
            assert series.ts[-1] == t and series.vs[-1] is STALE, name
    # The rest of the node is still scraped, and the stale series get no more samples.
    assert drill.value("up", job="nvidia-dcgm-exporter", instance=f"{node.ip}:9400") == 1
    assert drill.value("DCGM_FI_DEV_GPU_UTIL", UUID=node.gpus[4].uuid) is not None
    drill.advance(INTERVAL)
    assert before["DCGM_FI_DEV_GPU_UTIL"].ts[-1] == t
    assert before["DCGM_FI_DEV_XID_ERRORS"].ts[-1] == drill.fleet.now
    # The device plugin stops offering it.
    assert drill.value("kube_node_status_allocatable", node=node.name, resource="nvidia_com_gpu") == 7
    assert drill.value("kube_node_status_capacity", node=node.name, resource="nvidia_com_gpu") == 8


def test_a_dead_node_fails_its_scrapes_and_its_series_go_stale(drill: Drill) -> None:
    node = drill.fleet.nodes["gpu-serve-2"]
    dcgm_up = {"job": "nvidia-dcgm-exporter", "instance": f"{node.ip}:9400"}
    node_up = {"job": "node-exporter", "instance": f"{node.ip}:9100"}
    assert drill.value("up", **dcgm_up) == 1 and drill.value("up", **node_up) == 1
    exposed = [s for s in drill.store if s.vs and s.vs[-1] is not STALE and s.name != "up"
               and s.labels.get("instance") in (dcgm_up["instance"], node_up["instance"])]
    assert len(exposed) == 8 * 10 + 6
    node_controller.node_down(drill.fleet, node, "test")
    drill.run(5)
    drill.scrape()
    t = drill.fleet.now
    assert drill.value("up", **dcgm_up) == 0 and drill.value("up", **node_up) == 0
    assert set(drill.live("up", job="kubelet", node=node.name).values()) == {0.0}
    assert all(s.ts[-1] == t and s.vs[-1] is STALE for s in exposed)
    # Its vLLM targets fail too; other nodes are unaffected.
    for pod in node.pods:
        assert drill.value("up", job="chat-llm", pod=pod.name) == 0
    assert drill.value("up", job="nvidia-dcgm-exporter", instance=f"{drill.fleet.nodes['gpu-serve-1'].ip}:9400") == 1
    # The control plane notices 40 s later: kube-state-metrics lags reality.
    assert drill.value("kube_node_status_condition", node=node.name, condition="Ready", status="true") == 1
    drill.advance(4 * INTERVAL)
    assert drill.value("kube_node_status_condition", node=node.name, condition="Ready", status="true") == 0
    assert drill.value("kube_node_status_condition", node=node.name, condition="Ready", status="unknown") == 1
    assert drill.value("kube_node_spec_taint", node=node.name, key="node.kubernetes.io/unreachable", effect="NoExecute") == 1
    for pod in node.pods:
        assert drill.value("kube_pod_status_ready", pod=pod.name, condition="false") == 1
    # Evicted pods stay Terminating (with a deletion timestamp) while the node is gone.
    drill.advance(300)
    start = drill.fleet.start.timestamp()
    for pod in node.pods:
        assert pod.state is PodState.TERMINATING
        assert drill.value("kube_pod_deletion_timestamp", pod=pod.name) == start + pod.deleted_at


def test_ingress_counts_502s_while_a_dead_endpoint_is_still_ready(drill: Drill) -> None:
    deployment = drill.fleet.deployments["chat-llm"]
    labels = {"ingress": "chat-llm", "namespace": "serving", "service": "chat-llm", "method": "POST"}
    drill.advance(INTERVAL)
    before = drill.value("nginx_ingress_controller_requests", status="502", **labels)
    drill.advance(INTERVAL)
    assert drill.value("nginx_ingress_controller_requests", status="502", **labels) == before
    node_controller.node_down(drill.fleet, drill.fleet.nodes["gpu-serve-2"], "test")
    ok_before = drill.value("nginx_ingress_controller_requests", status="200", **labels)
    drill.advance(INTERVAL)  # within the 40 s grace: both of its replicas are still endpoints
    step = deployment.last
    assert step.bad_gateway > 0
    after = drill.value("nginx_ingress_controller_requests", status="502", **labels)
    assert after - before == pytest.approx(step.bad_gateway * INTERVAL)
    assert after - before == pytest.approx(step.offered * 2 / 6 * INTERVAL, rel=0.01)
    assert drill.value("nginx_ingress_controller_requests", status="200", **labels) - ok_before == pytest.approx(step.ok * INTERVAL)


def test_model_server_counters_reset_when_the_container_restarts(drill: Drill) -> None:
    pod = drill.fleet.deployments["chat-llm"].pods[0]
    target = {"job": "chat-llm", "pod": pod.name}
    ok = {"handler": "/v1/chat/completions", "method": "POST", "status": "2xx", **target}
    drill.advance(2 * INTERVAL)
    v1 = drill.value("http_requests_total", **ok)
    drill.advance(INTERVAL)
    v2 = drill.value("http_requests_total", **ok)
    share = next(p for p in drill.fleet.deployments["chat-llm"].last.pods if p.pod is pod)
    assert v2 - v1 == pytest.approx(share.ok * INTERVAL)
    assert drill.value("vllm:request_success_total", finished_reason="stop", **target) == pytest.approx(v2)
    assert drill.value("vllm:e2e_request_latency_seconds_count", **target) == pytest.approx(v2)

    kubelet.crash(drill.fleet, pod, "Error", "test crash")
    drill.advance(INTERVAL)
    assert drill.value("up", **target) == 0
    assert not drill.live("http_requests_total", **ok)  # not scraped: the series is stale
    assert drill.value("kube_pod_container_status_restarts_total", pod=pod.name) == 1
    assert drill.value("kube_pod_container_status_last_terminated_reason", pod=pod.name, reason="Error") == 1
    waiting = drill.live("kube_pod_container_status_waiting_reason", pod=pod.name)
    assert [dict(k)["reason"] for k in waiting] in (["CrashLoopBackOff"], [])
    while pod.state is not PodState.READY:
        drill.advance(INTERVAL)
        if pod.state is PodState.LOADING:
            assert drill.value("up", **target) == 0
            assert not drill.live("kube_pod_container_status_waiting_reason", pod=pod.name)
    drill.advance(INTERVAL)
    v3 = drill.value("http_requests_total", **ok)
    assert 0 < v3 < v2 / 100  # a real counter reset: counting restarted from zero
    assert v3 <= share.ok * 1.5 * (drill.fleet.now - pod.ready_since)
    assert drill.value("up", **target) == 1


def _histograms(drill: Drill, family: str) -> dict[tuple, dict[str, Any]]:
    groups: dict[tuple, dict[str, Any]] = {}
    t = drill.fleet.now
    for suffix in ("_bucket", "_sum", "_count"):
        for s in drill.store.with_name(family + suffix):
            if s.ts[-1] != t or s.vs[-1] is STALE:
                continue
            key = tuple(sorted((k, v) for k, v in s.labels.items() if k not in ("le", "__name__")))
            group = groups.setdefault(key, {"buckets": {}})
            if suffix == "_bucket":
                group["buckets"][s.labels["le"]] = s
            else:
                group[suffix] = s
    return groups


@pytest.mark.parametrize("family, bounds", [
    ("vllm:e2e_request_latency_seconds", 21),
    ("vllm:time_to_first_token_seconds", 22),
    ("http_request_duration_seconds", 14),
    ("feature_store_request_duration_seconds", 14),
])
def test_histogram_buckets_are_cumulative_monotone_and_end_at_the_count(drill: Drill, family: str, bounds: int) -> None:
    drill.advance(10 * 60)  # into the overloaded morning peak, with a GPU lost on the way
    drill.fleet.gpu_lost(drill.fleet.nodes["gpu-serve-2"].gpus[5])
    drill.advance(10 * 60)
    groups = _histograms(drill, family)
    assert groups
    for key, group in groups.items():
        buckets = sorted(group["buckets"].items(), key=lambda item: float(item[0]))
        assert len(buckets) == bounds + 1 and buckets[-1][0] == "+Inf"
        values = [s.vs[-1] for _, s in buckets]
        assert all(a <= b for a, b in zip(values, values[1:])), key
        assert values[-1] == group["_count"].vs[-1] > 0
        assert group["_sum"].vs[-1] > 0
        # Over time each bucket only grows (no restart of these containers in this window).
        for _, s in buckets:
            live = [v for v in s.vs if v is not STALE]
            assert all(a <= b for a, b in zip(live, live[1:]))


def test_latency_histogram_matches_the_pods_latency_shape(drill: Drill) -> None:
    drill.advance(INTERVAL)
    deployment = drill.fleet.deployments["chat-llm"]
    pod = deployment.pods[0]
    before = {s.labels["le"]: s.vs[-1] for s in drill.series("vllm:e2e_request_latency_seconds_bucket", pod=pod.name)}
    drill.advance(INTERVAL)
    after = {s.labels["le"]: s.vs[-1] for s in drill.series("vllm:e2e_request_latency_seconds_bucket", pod=pod.name)}
    share = next(p for p in deployment.last.pods if p.pod is pod)
    total = after["+Inf"] - before["+Inf"]
    assert total == pytest.approx(share.ok * INTERVAL)
    cut = share.latency.cdf(deployment.spec.latency.timeout)
    for le in ("1.0", "2.5", "5.0", "10.0"):
        assert (after[le] - before[le]) / total == pytest.approx(share.latency.cdf(float(le)) / cut, rel=1e-6)
    assert after["60.0"] == after["+Inf"]  # nothing slower than the gateway timeout succeeded


def test_kube_state_metrics_describe_pods_deployments_and_nodes(drill: Drill) -> None:
    fleet = drill.fleet
    pod = fleet.deployments["chat-llm"].pods[0]
    info = dict(next(iter(drill.live("kube_pod_info", pod=pod.name))))
    assert info["node"] == pod.node.name and info["host_ip"] == pod.node.ip and info["pod_ip"] == pod.ip
    assert info["created_by_kind"] == "ReplicaSet" and info["created_by_name"] == f"chat-llm-{pod.template_hash}"
    assert info["uid"] == pod.uid and info["instance"] and info["job"] == "kube-state-metrics"
    phases = {dict(k)["phase"]: v for k, v in drill.live("kube_pod_status_phase", pod=pod.name).items()}
    assert phases == {"Pending": 0, "Running": 1, "Succeeded": 0, "Failed": 0, "Unknown": 0}
    assert drill.value("kube_pod_status_ready", pod=pod.name, condition="true") == 1
    assert drill.value("kube_pod_container_resource_requests", pod=pod.name, resource="nvidia_com_gpu", unit="integer") == 4
    assert not drill.live("kube_pod_container_status_waiting_reason")
    assert not drill.live("kube_pod_deletion_timestamp")
    dep = {"namespace": "serving", "deployment": "chat-llm"}
    for name, expected in [("kube_deployment_spec_replicas", 6), ("kube_deployment_status_replicas", 6),
                           ("kube_deployment_status_replicas_available", 6), ("kube_deployment_status_replicas_unavailable", 0),
                           ("kube_deployment_status_replicas_updated", 6)]:
        assert drill.value(name, **dep) == expected, name
    assert drill.value("kube_deployment_metadata_generation", **dep) == drill.value("kube_deployment_status_observed_generation", **dep)
    # Scaling up: a pod that cannot be scheduled is Pending, unscheduled, with no container statuses.
    fleet.deployments["chat-llm"].scale(10)  # 16 more GPUs wanted, 12 free
    drill.run(1)
    drill.advance(INTERVAL)
    pending = [p for p in fleet.pods.values() if p.state is PodState.PENDING]
    assert pending
    assert drill.value("kube_pod_status_phase", pod=pending[0].name, phase="Pending") == 1
    assert drill.value("kube_pod_status_scheduled", pod=pending[0].name, condition="false") == 1
    assert not drill.live("kube_pod_container_status_restarts_total", pod=pending[0].name)
    assert drill.value("kube_deployment_spec_replicas", **dep) == 10
    assert drill.value("kube_deployment_status_replicas", **dep) == 10
    assert drill.value("kube_deployment_status_replicas_unavailable", **dep) == 4
    # Cordoning shows in the node's spec.
    fleet.nodes["gpu-serve-1"].cordoned = True
    drill.advance(INTERVAL)
    assert drill.value("kube_node_spec_unschedulable", node="gpu-serve-1") == 1
    assert drill.value("kube_node_spec_taint", node="gpu-serve-1", key="node.kubernetes.io/unschedulable") == 1


def test_training_metrics_and_checkpoint_volume() -> None:
    drill = Drill(**TRAINING)
    drill.scrape()
    job = drill.fleet.jobs["llm-pretrain"]
    rank0 = job.pods[0]
    labels = {"job": "trainer", "training_job": "llm-pretrain", "pod": rank0.name}
    assert drill.value("up", job="trainer", instance=f"{rank0.ip}:9090") == 1
    step0 = drill.value("trainer_global_step", **labels)
    drill.advance(20 * 60)  # the first checkpoint is written 15-17 min in
    assert drill.value("trainer_global_step", **labels) > step0
    assert drill.value("trainer_last_checkpoint_step", **labels) == int(job.last_checkpoint_step) > 0
    assert drill.value("trainer_last_checkpoint_timestamp_seconds", **labels) == drill.fleet.start.timestamp() + job.last_checkpoint_time
    assert drill.value("trainer_restarts_total", **labels) == 0
    assert not [s for s in drill.store.with_name("trainer_global_step") if s.labels["job"] != "trainer"]
    pvc = drill.live("kubelet_volume_stats_used_bytes", namespace="training", persistentvolumeclaim="checkpoints")
    assert len(pvc) == 4 and {dict(k)["job"] for k in pvc} == {"kubelet"}
    assert {dict(k)["metrics_path"] for k in pvc} == {"/metrics"}
    node = rank0.node.name
    capacity = drill.value("kubelet_volume_stats_capacity_bytes", node=node)
    assert drill.value("kubelet_volume_stats_used_bytes", node=node) + drill.value("kubelet_volume_stats_available_bytes", node=node) == capacity
    # Training GPUs are busy; a hung gang spins at 100% while the step stays put.
    assert drill.value("DCGM_FI_DEV_GPU_UTIL", pod=rank0.name, gpu="0") == 97
    job.hang(node)
    drill.advance(INTERVAL)
    hung_step = drill.value("trainer_global_step", **labels)
    drill.advance(5 * INTERVAL)
    assert drill.value("trainer_global_step", **labels) == hung_step
    assert drill.value("DCGM_FI_DEV_GPU_UTIL", pod=rank0.name, gpu="0") == 100


def test_features_pipelines_and_model_quality(drill: Drill) -> None:
    store = drill.fleet.stores["online-features"]
    ok = {"job": "feature-store", "store": "online-features", "status": "ok"}
    error = {**ok, "status": "error"}
    drill.advance(INTERVAL)
    ok1, err1 = drill.value("feature_store_requests_total", **ok), drill.value("feature_store_requests_total", **error)
    drill.advance(INTERVAL)
    assert drill.value("feature_store_requests_total", **ok) - ok1 == pytest.approx(store.read_rate() * INTERVAL)
    store.mode = "down"
    drill.advance(INTERVAL)
    assert drill.value("feature_store_requests_total", **error) > err1
    assert drill.value("up", job="feature-store") == 1
    pipeline = drill.fleet.pipelines["user-features"]
    assert drill.value("feature_pipeline_last_success_timestamp_seconds", pipeline="user-features") == \
        drill.fleet.start.timestamp() + pipeline.last_success
    assert drill.value("feature_drift_psi", pipeline="user-features") == pytest.approx(pipeline.psi(drill.fleet.now))
    accuracy = drill.live("model_online_accuracy_ratio", deployment="ranker")
    assert [dict(k)["version"] for k in accuracy] == ["v118"] and 0 < next(iter(accuracy.values())) <= 1
    assert not drill.live("model_online_accuracy_ratio", deployment="chat-llm")  # no quality section


def test_cadvisor_reports_running_containers_only(drill: Drill) -> None:
    pod = drill.fleet.deployments["ranker"].pods[0]
    labels = {"job": "kubelet", "metrics_path": "/metrics/cadvisor", "pod": pod.name, "container": "model-server"}
    assert drill.value("container_memory_working_set_bytes", **labels) == pod.memory(drill.fleet.now)
    assert drill.value("container_spec_memory_limit_bytes", **labels) == 16 * 2**30
    kubelet.crash(drill.fleet, pod, "OOMKilled", "test")
    drill.run(1)
    drill.scrape()  # in its 10 s back-off: no running container
    assert pod.state is PodState.BACKOFF
    assert not drill.live("container_memory_working_set_bytes", **labels)
    assert drill.value("up", job="kubelet", metrics_path="/metrics/cadvisor", node=pod.node.name) == 1
    drill.advance(INTERVAL)  # restarted: the same series again, from a new container
    assert pod.state is PodState.LOADING
    assert drill.value("container_memory_working_set_bytes", **labels) == pod.memory(drill.fleet.now)


def test_scrapes_are_deterministic() -> None:
    def run() -> list[tuple[tuple, list]]:
        d = Drill(seed=7)
        d.scrape()
        d.advance(5 * 60)
        d.fleet.gpu_lost(d.fleet.nodes["gpu-serve-2"].gpus[5])
        d.advance(5 * 60)
        return [(tuple(sorted(s.labels.items())), list(zip(s.ts, s.vs))) for s in d.store]

    assert run() == run()


def test_le_is_formatted_like_prometheus() -> None:
    assert [format_le(b) for b in (0.005, 0.3, 1, 2.5, 60, 7680, 1e6, math.inf)] == \
        ["0.005", "0.3", "1.0", "2.5", "60.0", "7680.0", "1e+06", "+Inf"]


def test_scrape_cost_and_size_of_the_bundled_scenario(drill: Drill) -> None:
    """A scrape writes one sample per exposed series and nothing else; no series is registered
    without a sample."""
    before = drill.store.sample_count()
    drill.advance(INTERVAL)
    live = sum(1 for s in drill.store if s.ts[-1] == drill.fleet.now)
    assert drill.store.sample_count() - before == live
    assert 1000 < live < 1400
    assert all(s.ts for s in drill.store)
