"""Which metrics each fault kind of the catalog moves: data only, for scenario validation.

``MOVES[kind]`` holds the names of the series (as a rule's selector names them: ``_bucket``,
``_sum`` and ``_count`` for histograms) whose samples a fault of that kind can change,
directly or downstream, in any fleet: a GPU that fails crashes the serving replica or the
training worker on it, so the deployment's request, latency and error series move, and the
kube-state-metrics series of its pods and deployment. ``TELLTALE[kind]`` are the few most
telling of them (the "Leaves:" of each fault class's docstring in ``tabletop.faults``), named
in validation messages. ``SERIES_LABELS`` are the label names the exporters write, which an
alert can carry from the series its expression selects.

``tabletop validate`` warns when the root-cause fault of a scenario moves no metric its alert
rules read, so this module must not import the simulation, and it must be kept in step with
the fault catalog (``tabletop.faults``) and the exporters (``tabletop.signals.exporters``):
``tests/scenario/test_drill_warnings.py`` runs every kind against a fleet and fails when a
series moves (or a label appears) that is not listed here, or when a listed metric is not
exported.
"""

from __future__ import annotations


def _histogram(name: str) -> frozenset[str]:
    return frozenset({f"{name}_bucket", f"{name}_sum", f"{name}_count"})


SERVING = frozenset({
    "up",  # model-server targets go down while their pods are not Ready
    "vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:gpu_cache_usage_perc",
    "vllm:request_success_total", "http_requests_total", "nginx_ingress_controller_requests",
}) | _histogram("vllm:e2e_request_latency_seconds") | _histogram("vllm:time_to_first_token_seconds") \
   | _histogram("http_request_duration_seconds")
"""Requests, latency and errors of a deployment (model server and ingress-nginx)."""

PODS = frozenset({
    "kube_pod_info", "kube_pod_owner", "kube_pod_status_phase", "kube_pod_status_ready",
    "kube_pod_status_scheduled", "kube_pod_deletion_timestamp", "kube_pod_container_resource_requests",
    "kube_pod_container_status_restarts_total", "kube_pod_container_status_ready",
    "kube_pod_container_status_running", "kube_pod_container_status_waiting",
    "kube_pod_container_status_waiting_reason", "kube_pod_container_status_last_terminated_reason",
})
"""kube-state-metrics' pod series: pods that crash, restart, are replaced or rescheduled."""

DEPLOYMENT = frozenset({
    "kube_deployment_status_replicas", "kube_deployment_status_replicas_available",
    "kube_deployment_status_replicas_unavailable", "kube_deployment_status_replicas_updated",
})
"""kube-state-metrics' deployment status (``spec_replicas`` moves only when someone scales)."""

ROLLOUT = DEPLOYMENT | {"kube_deployment_metadata_generation", "kube_deployment_status_observed_generation"}
"""A new pod template: the generation counters move too."""

CONTAINERS = frozenset({
    "container_memory_working_set_bytes", "container_spec_memory_limit_bytes",
    "node_memory_MemAvailable_bytes", "node_filesystem_avail_bytes",
})
"""Containers starting, stopping or growing: cAdvisor's series and the node's free memory and disk."""

GPU_USE = frozenset({
    "DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_GPU_TEMP",
    "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_SM_CLOCK", "node_load1",
})
"""How hard the GPUs work (load follows traffic and what runs on them)."""

DCGM = GPU_USE | {
    "DCGM_FI_DEV_XID_ERRORS", "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL",
    "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS",
}
"""Every DCGM field: a GPU's series carry the pod it serves, so a pod moving moves them all."""

NODE = frozenset({
    "node_load1", "node_memory_MemTotal_bytes", "node_memory_MemAvailable_bytes", "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes", "node_boot_time_seconds", "kube_node_status_condition", "kube_node_spec_taint",
    "kube_node_status_allocatable",
})
"""A node's own series: node-exporter's (stale while it is down) and its kube-state-metrics status."""

TRAINING = frozenset({
    "trainer_global_step", "trainer_last_checkpoint_step", "trainer_last_checkpoint_timestamp_seconds",
    "trainer_checkpoint_failures_total", "trainer_restarts_total", "kubelet_volume_stats_capacity_bytes",
    "kubelet_volume_stats_available_bytes", "kubelet_volume_stats_used_bytes",
})
"""A training job's progress and checkpoints, and its checkpoint volume."""

STORE = frozenset({"feature_store_requests_total"}) | _histogram("feature_store_request_duration_seconds")
PIPELINE = frozenset({"feature_pipeline_last_success_timestamp_seconds", "feature_pipeline_runs_total"})
QUALITY = frozenset({"model_online_accuracy_ratio"})

_GPU_FAILURE = DCGM | {"kube_node_status_allocatable"} | PODS | DEPLOYMENT | CONTAINERS | SERVING | TRAINING
"""A GPU under a replica or a training worker stops working: the workload crashes."""

MOVES: dict[str, frozenset[str]] = {
    "gpu_xid": _GPU_FAILURE,
    "hbm_ecc": _GPU_FAILURE,
    "gpu_thermal": GPU_USE | {"DCGM_FI_DEV_CLOCK_THROTTLE_REASONS"} | SERVING | TRAINING,
    "node_not_ready": DCGM | NODE | PODS | DEPLOYMENT | CONTAINERS | SERVING | TRAINING,
    "memory_leak": CONTAINERS | PODS | DEPLOYMENT | SERVING | GPU_USE,
    "bad_rollout": ROLLOUT | PODS | DCGM | CONTAINERS | SERVING | QUALITY,
    "rollout": ROLLOUT | PODS | DCGM | CONTAINERS | SERVING | QUALITY,  # quality series carry the version
    # Overload and a failing dependency leave the pods Ready in the simulation; their pod and
    # deployment series are listed all the same, as a real readiness probe could fail.
    "traffic_surge": SERVING | GPU_USE | STORE | PODS | DEPLOYMENT,
    "feature_drift": frozenset({"feature_drift_psi"}) | QUALITY,
    "feature_store_outage": STORE | PIPELINE | QUALITY | SERVING | PODS | DEPLOYMENT,
    "nccl_hang": TRAINING | PODS | DCGM | CONTAINERS | {"up"},
    "checkpoint_storage_full": TRAINING,
}
"""Fault kind → names of the series it can move."""

TELLTALE: dict[str, tuple[str, ...]] = {
    "gpu_xid": ("DCGM_FI_DEV_XID_ERRORS", "kube_pod_container_status_waiting_reason", "http_requests_total"),
    "hbm_ecc": ("DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "DCGM_FI_DEV_XID_ERRORS"),
    "gpu_thermal": ("DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", "DCGM_FI_DEV_SM_CLOCK"),
    "node_not_ready": ("kube_node_status_condition", "up", "kube_pod_status_ready"),
    "memory_leak": ("container_memory_working_set_bytes", "kube_pod_container_status_last_terminated_reason",
                    "kube_pod_container_status_restarts_total"),
    "bad_rollout": ("http_request_duration_seconds_bucket", "vllm:e2e_request_latency_seconds_bucket",
                    "model_online_accuracy_ratio"),
    "rollout": ("kube_deployment_status_replicas_updated", "kube_deployment_metadata_generation",
                "kube_pod_status_ready"),
    "traffic_surge": ("nginx_ingress_controller_requests", "http_requests_total", "vllm:num_requests_waiting"),
    "feature_drift": ("feature_drift_psi", "model_online_accuracy_ratio"),
    "feature_store_outage": ("feature_store_requests_total", "feature_pipeline_last_success_timestamp_seconds",
                             "http_requests_total"),
    "nccl_hang": ("trainer_global_step", "DCGM_FI_DEV_GPU_UTIL", "trainer_restarts_total"),
    "checkpoint_storage_full": ("kubelet_volume_stats_available_bytes", "trainer_checkpoint_failures_total",
                                "trainer_last_checkpoint_timestamp_seconds"),
}
"""Fault kind → the metrics most worth an alert rule, most telling first (each one is in MOVES)."""

EVERY_METRIC: frozenset[str] = frozenset().union(*MOVES.values())
"""Every metric name a fault can move."""

SERIES_LABELS: frozenset[str] = frozenset({
    "job", "instance", "namespace", "pod", "container", "uid", "node", "deployment", "version", "model",
    # kube-state-metrics
    "phase", "condition", "reason", "status", "resource", "unit", "key", "effect", "host_ip", "pod_ip",
    "host_network", "created_by_kind", "created_by_name", "owner_kind", "owner_name", "owner_is_controller",
    "kernel_version", "os_image", "container_runtime_version", "kubelet_version", "kubeproxy_version",
    "internal_ip", "pod_cidr", "provider_id",
    # dcgm-exporter
    "gpu", "UUID", "pci_bus_id", "device", "modelName", "Hostname", "DCGM_FI_DRIVER_VERSION",
    # node-exporter, kubelet
    "fstype", "mountpoint", "metrics_path", "persistentvolumeclaim",
    # model servers, ingress-nginx
    "model_name", "finished_reason", "handler", "method", "le", "controller_class", "controller_namespace",
    "controller_pod", "ingress", "service", "host", "path",
    # trainer, feature store and pipelines
    "training_job", "store", "pipeline",
})
"""Every label name the simulated exporters put on a series (``__name__`` aside): the labels an
alert can carry from the series its expression selects."""
