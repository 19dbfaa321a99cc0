"""The Kubernetes Python client (what chaostoolkit-kubernetes uses) reads every kind the twin serves.

Its models check required fields when they decode, so a list call per kind is a schema check;
watches, the scale subresource, logs and patches are driven the way chaosk8s drives them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from tabletop.scenario.loader import load_scenario
from tests.twin.live import BUNDLED, LiveTwin, with_fleet

TRAINING_POOLS = [
    {"name": "gpu-serve", "gpu_model": "H100-SXM-80GB", "nodes": 5, "labels": {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}},
    {"name": "gpu-train", "gpu_model": "H100-SXM-80GB", "nodes": 4},
]
TRAINING_JOBS = [{
    "name": "llm-pretrain", "node_pool": "gpu-train", "gang_size": 4, "step_time": "10s", "checkpoint_interval": "30m",
    "checkpoint_write_time": "2m", "restart_overhead": "10m", "checkpoint_size": "1Ti",
    "storage": {"capacity": "20Ti", "used": "8Ti", "keep_last": 5},
}]


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveTwin]:
    loaded = with_fleet(load_scenario(BUNDLED), node_pools=TRAINING_POOLS, training_jobs=TRAINING_JOBS)
    with LiveTwin(tmp_path, loaded) as twin:
        yield twin


@pytest.fixture
def api(live: LiveTwin) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(live.kubeconfig))


def test_every_kind_decodes(live: LiveTwin, api: client.ApiClient) -> None:
    core, apps, batch = client.CoreV1Api(api), client.AppsV1Api(api), client.BatchV1Api(api)
    pods = core.list_pod_for_all_namespaces().items
    assert {p.metadata.namespace for p in pods} == {"serving", "training", "kube-system"}
    worker = next(p for p in pods if p.metadata.namespace == "training")
    assert worker.metadata.owner_references[0].kind == "Job" and worker.spec.containers[0].resources.limits["nvidia.com/gpu"] == "8"
    assert len(core.list_node().items) == 9
    assert {n.metadata.name for n in core.list_namespace().items} >= {"default", "kube-system", "serving", "training"}
    assert {d.metadata.name for d in apps.list_deployment_for_all_namespaces().items} == {"chat-llm", "ranker"}
    assert len(apps.list_namespaced_replica_set("serving").items) == 4
    assert {d.metadata.name for d in apps.list_namespaced_daemon_set("kube-system").items} == {
        "nvidia-device-plugin-daemonset", "nvidia-dcgm-exporter"}
    job = batch.read_namespaced_job("llm-pretrain", "training")
    assert job.spec.parallelism == 4 and job.status.active == 4
    core.delete_namespaced_pod(worker.metadata.name, "training")
    events = core.list_event_for_all_namespaces().items
    assert {e.reason for e in events} >= {"Killing", "TrainingJobRestarting"} and all(e.involved_object.name for e in events)
    scale = apps.read_namespaced_deployment_scale("ranker", "serving")
    assert scale.spec.replicas == 4 and scale.status.selector == "app=ranker"


def test_selectors_and_reads(live: LiveTwin, api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    node = live.call(lambda d: d.fleet.pods[sorted(n for n in d.fleet.pods if n.startswith("ranker-"))[0]].node.name)
    on_node = core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node}").items
    assert {p.spec.node_name for p in on_node} == {node} and any(p.metadata.namespace == "kube-system" for p in on_node)
    assert len(core.list_namespaced_pod("serving", label_selector="app in (ranker)").items) == 4
    assert len(core.list_namespaced_pod("serving", label_selector="app!=ranker,app").items) == 6
    assert len(core.list_namespaced_pod("serving", field_selector="status.phase=Running").items) == 10
    assert core.list_node(field_selector="metadata.name=gpu-train-0").items[0].metadata.name == "gpu-train-0"
    with pytest.raises(ApiException) as bad:
        core.list_namespaced_pod("serving", field_selector="spec.containers=x")
    assert bad.value.status == 400
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_pod("nope", "serving")
    assert missing.value.status == 404


def test_patches_watch_and_logs_as_chaosk8s_sends_them(live: LiveTwin, api: client.ApiClient) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    apps.patch_namespaced_deployment("ranker", "serving", {"spec": {"replicas": 5}})
    assert live.call(lambda d: d.fleet.deployments["ranker"].replicas) == 5
    stream = watch.Watch()
    seen = []
    for event in stream.stream(apps.list_namespaced_deployment, namespace="serving", field_selector="metadata.name=ranker",
                               _request_timeout=20):
        seen.append((event["type"], event["object"].status.ready_replicas))
        if event["object"].status.ready_replicas == 5:
            stream.stop()
    assert seen[0] == ("ADDED", 4) and seen[-1] == ("MODIFIED", 5)

    apps.patch_namespaced_deployment_scale("ranker", "serving", {"spec": {"replicas": 3}})
    core.patch_node("gpu-serve-1", {"spec": {"unschedulable": True}})
    apps.patch_namespaced_deployment("chat-llm", "serving", {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2026-11-28T00:00:00+00:00Z"}}}}})
    assert live.call(lambda d: (d.fleet.deployments["ranker"].replicas, d.fleet.nodes["gpu-serve-1"].cordoned,
                                d.fleet.deployments["chat-llm"].restarts)) == (3, True, 1)

    worker = "llm-pretrain-worker-0"
    live.wait_for(lambda d: d.fleet.pods[worker].ready, what="the training worker")
    core.delete_namespaced_pod(worker, "training", body=client.V1DeleteOptions(grace_period_seconds=5))
    live.wait_for(lambda d: d.fleet.jobs["llm-pretrain"].restarts == 1, what="the gang restart")
    lines = [c["data"]["line"] for c in live.commands("alice")]
    assert lines == ["mitigate scale deployment/ranker replicas=5", "mitigate scale deployment/ranker replicas=3",
                     "mitigate cordon node/gpu-serve-1", "mitigate rollout_restart deployment/chat-llm",
                     f"mitigate delete_pod pod/{worker} grace=5"]
    live.wait_for(lambda d: d.fleet.pods.get(worker) is not None and d.fleet.pods[worker].container_started_at is not None
                  and d.fleet.pods[worker].container_started_at > 0, what="the new worker to start")
    response = core.read_namespaced_pod_log(worker, "training", timestamps=True, _preload_content=False)
    assert response.status == 200
    with pytest.raises(ApiException) as no_previous:
        core.read_namespaced_pod_log("llm-pretrain-worker-1", "training", previous=True)
    assert no_previous.value.status == 400
