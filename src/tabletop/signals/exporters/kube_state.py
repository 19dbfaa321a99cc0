"""kube-state-metrics v2: the API server's view of pods, deployments and nodes.

It reports what the control plane believes, which lags reality: a hung node stays
``Ready=true`` for the 40 s grace period and its pods keep their last reported container state;
pods evicted from it stay listed (with a deletion timestamp) until it comes back. Label names
follow kube-state-metrics v2 (``namespace``, ``pod``, ``uid``, ``container``, ``node``,
``deployment``, ``resource``/``unit`` with ``nvidia.com/gpu`` sanitised to ``nvidia_com_gpu``).
Empty label values are left out, as Prometheus drops them on ingestion.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabletop.signals.exporters._common import Exporter, Row
from tabletop.signals.store import UNSCRAPED, scraped
from tabletop.sim.pod import Pod, PodState
from tabletop.sim.training import TrainingJob

if TYPE_CHECKING:
    from tabletop.signals.store import SeriesStore
    from tabletop.sim.deployment import Deployment
    from tabletop.sim.fleet import Fleet
    from tabletop.sim.node import Node

JOB = "kube-state-metrics"
INSTANCE = "10.243.0.12:8443"
"""kube-state-metrics behind kube-rbac-proxy, as kube-prometheus scrapes it."""
PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
CONDITIONS = ("true", "false", "unknown")
GPU_RESOURCE = {"resource": "nvidia_com_gpu", "unit": "integer"}
NODE_INFO = {
    "kernel_version": "5.15.0-119-generic",
    "os_image": "Ubuntu 22.04.4 LTS",
    "container_runtime_version": "containerd://1.7.20",
    "kubelet_version": "v1.30.4",
    "kubeproxy_version": "v1.30.4",
}
_WAITING = {PodState.CREATING: "ContainerCreating", PodState.BACKOFF: "CrashLoopBackOff"}


class _PodSeries:
    __slots__ = ("labels", "container_labels", "info", "owner", "phase", "ready", "scheduled", "requests",
                 "restarts", "c_ready", "c_running", "c_waiting", "deletion", "reasons", "signature", "row")

    def __init__(self, exporter: "KubeStateExporter", pod: Pod) -> None:
        sid = exporter.sid
        base = {"job": JOB, "instance": INSTANCE, "namespace": pod.namespace, "pod": pod.name, "uid": pod.uid}
        self.labels = base
        owner = pod.owner
        if isinstance(owner, TrainingJob):
            kind, owner_name = "Job", owner.name
        else:
            kind, owner_name = "ReplicaSet", f"{owner.name}-{pod.template_hash}"
        node = pod.node
        info = {**base, "host_network": "false", "created_by_kind": kind, "created_by_name": owner_name}
        if node is not None:
            info.update(node=node.name, host_ip=node.ip)
            if pod.ip:
                info["pod_ip"] = pod.ip
        self.info = sid("kube_pod_info", info)
        self.owner = sid("kube_pod_owner", {**base, "owner_kind": kind, "owner_name": owner_name, "owner_is_controller": "true"})
        self.phase = [sid("kube_pod_status_phase", {**base, "phase": phase}) for phase in PHASES]
        self.ready = [sid("kube_pod_status_ready", {**base, "condition": c}) for c in CONDITIONS]
        self.scheduled = [sid("kube_pod_status_scheduled", {**base, "condition": c}) for c in CONDITIONS]
        container = {**base, "container": pod.container}
        self.container_labels = container
        self.requests = None
        if pod.gpus_wanted:
            requests = {**container, **GPU_RESOURCE}
            if node is not None:
                requests["node"] = node.name
            self.requests = sid("kube_pod_container_resource_requests", requests)
        if node is not None:  # container statuses exist once the pod is bound
            self.restarts = sid("kube_pod_container_status_restarts_total", container)
            self.c_ready = sid("kube_pod_container_status_ready", container)
            self.c_running = sid("kube_pod_container_status_running", container)
            self.c_waiting = sid("kube_pod_container_status_waiting", container)
        self.deletion: int | None = None
        self.reasons: dict[tuple[str, str], int] = {}
        self.signature: tuple[object, ...] | None = None
        """The pod state ``row`` was computed for."""
        self.row: tuple[list[int], list[float]] = ([], [])


class _NodeSeries:
    __slots__ = ("name", "row", "taints")

    def __init__(self, exporter: "KubeStateExporter", node: "Node") -> None:
        sid = exporter.sid
        base = {"job": JOB, "instance": INSTANCE, "node": node.name}
        self.name = node.name
        self.row = Row(exporter.store, [  # in the order collect() gives the values
            sid("kube_node_info", {**base, **NODE_INFO, "internal_ip": node.ip, "pod_cidr": f"10.244.{node.number}.0/24",
                                   "provider_id": f"baremetal://{node.name}"}),
            *(sid("kube_node_status_condition", {**base, "condition": "Ready", "status": s}) for s in CONDITIONS),
            sid("kube_node_spec_unschedulable", base),
            sid("kube_node_status_capacity", {**base, **GPU_RESOURCE}),
            sid("kube_node_status_allocatable", {**base, **GPU_RESOURCE}),
        ])
        self.taints: dict[tuple[str, str], int] = {}


def _deployment_row(exporter: "KubeStateExporter", deployment: "Deployment") -> Row:
    """The series of a deployment object, in the order of ``_deployment_values``."""
    base = {"job": JOB, "instance": INSTANCE, "namespace": deployment.namespace, "deployment": deployment.name}
    return Row(exporter.store, [exporter.sid(name, base) for name in (
        "kube_deployment_spec_replicas", "kube_deployment_status_replicas", "kube_deployment_status_replicas_available",
        "kube_deployment_status_replicas_unavailable", "kube_deployment_status_replicas_updated",
        "kube_deployment_metadata_generation", "kube_deployment_status_observed_generation")])


def _taints(node: "Node") -> list[tuple[str, str]]:
    taints = []
    if node.cordoned:
        taints.append(("node.kubernetes.io/unschedulable", "NoSchedule"))
    if node.ready_condition == "Unknown":
        taints += [("node.kubernetes.io/unreachable", "NoSchedule"), ("node.kubernetes.io/unreachable", "NoExecute")]
    elif node.ready_condition == "False":
        taints += [("node.kubernetes.io/not-ready", "NoSchedule"), ("node.kubernetes.io/not-ready", "NoExecute")]
    return taints


class KubeStateExporter(Exporter):
    families = (
        ("kube_pod_info", "gauge", "Information about pod."),
        ("kube_pod_owner", "gauge", "Information about the Pod's owner."),
        ("kube_pod_status_phase", "gauge", "The pods current phase."),
        ("kube_pod_status_ready", "gauge", "Describes whether the pod is ready to serve requests."),
        ("kube_pod_status_scheduled", "gauge", "Describes the status of the scheduling process for the pod."),
        ("kube_pod_deletion_timestamp", "gauge", "Unix deletion timestamp"),
        ("kube_pod_container_resource_requests", "gauge", "The number of requested request resource by a container. It is recommended to use the kube_pod_resource_requests metric exposed by kube-scheduler instead, as it is more precise."),
        ("kube_pod_container_status_restarts_total", "counter", "The number of container restarts per container."),
        ("kube_pod_container_status_ready", "gauge", "Describes whether the containers readiness check succeeded."),
        ("kube_pod_container_status_running", "gauge", "Describes whether the container is currently in running state."),
        ("kube_pod_container_status_waiting", "gauge", "Describes whether the container is currently in waiting state."),
        ("kube_pod_container_status_waiting_reason", "gauge", "Describes the reason the container is currently in waiting state."),
        ("kube_pod_container_status_last_terminated_reason", "gauge", "Describes the last reason the container was in terminated state."),
        ("kube_deployment_spec_replicas", "gauge", "Number of desired pods for a deployment."),
        ("kube_deployment_status_replicas", "gauge", "The number of replicas per deployment."),
        ("kube_deployment_status_replicas_available", "gauge", "The number of available replicas per deployment."),
        ("kube_deployment_status_replicas_unavailable", "gauge", "The number of unavailable replicas per deployment."),
        ("kube_deployment_status_replicas_updated", "gauge", "The number of updated replicas per deployment."),
        ("kube_deployment_metadata_generation", "gauge", "Sequence number representing a specific generation of the desired state."),
        ("kube_deployment_status_observed_generation", "gauge", "The generation observed by the deployment controller."),
        ("kube_node_info", "gauge", "Information about a cluster node."),
        ("kube_node_status_condition", "gauge", "The condition of a cluster node."),
        ("kube_node_spec_unschedulable", "gauge", "Whether a node can schedule new pods."),
        ("kube_node_spec_taint", "gauge", "The taint of a cluster node."),
        ("kube_node_status_capacity", "gauge", "The capacity for different resources of a node."),
        ("kube_node_status_allocatable", "gauge", "The allocatable for different resources of a node that are available for scheduling."),
    )

    def __init__(self, store: SeriesStore) -> None:
        super().__init__(store)
        self._up = self.up_sid({"job": JOB, "instance": INSTANCE})
        self._pods: dict[tuple[Pod, "Node | None"], _PodSeries] = {}
        self._nodes: dict["Node", _NodeSeries] = {}
        self._deployments: dict["Deployment", Row] = {}

    def _reason(self, entry: _PodSeries, metric: str, reason: str) -> int:
        sid = entry.reasons.get((metric, reason))
        if sid is None:
            sid = entry.reasons[(metric, reason)] = self.sid(metric, {**entry.container_labels, "reason": reason})
        return sid

    def _pod_row(self, entry: _PodSeries, pod: Pod, start: float) -> tuple[list[int], list[float]]:
        """Series ids and values of a pod object; they change only when the pod's state does."""
        sids: list[int] = [entry.info, entry.owner]
        values: list[float] = [1.0, 1.0]

        def put(sid: int, value: float) -> None:
            sids.append(sid)
            values.append(value)

        state = pod.state
        node = pod.node
        phase = pod.phase
        for sid, name in zip(entry.phase, PHASES):
            put(sid, 1.0 if name == phase else 0.0)
        ready = pod.ready
        put(entry.ready[0], 1.0 if ready else 0.0)
        put(entry.ready[1], 0.0 if ready else 1.0)
        put(entry.ready[2], 0.0)
        scheduled = node is not None
        put(entry.scheduled[0], 1.0 if scheduled else 0.0)
        put(entry.scheduled[1], 0.0 if scheduled else 1.0)
        put(entry.scheduled[2], 0.0)
        if entry.requests is not None:
            put(entry.requests, float(pod.gpus_wanted))
        if state is PodState.TERMINATING and pod.deleted_at is not None:
            if entry.deletion is None:
                entry.deletion = self.sid("kube_pod_deletion_timestamp", entry.labels)
            put(entry.deletion, start + pod.deleted_at)
        if not scheduled:
            return sids, values  # no container statuses before the pod is bound
        put(entry.restarts, float(pod.restarts))
        running = state is PodState.LOADING or state is PodState.READY or (
            state is PodState.TERMINATING and pod.container_started_at is not None)
        put(entry.c_ready, 1.0 if state is PodState.READY else 0.0)
        put(entry.c_running, 1.0 if running else 0.0)
        waiting = _WAITING.get(state)
        put(entry.c_waiting, 0.0 if waiting is None else 1.0)
        if waiting is not None:
            put(self._reason(entry, "kube_pod_container_status_waiting_reason", waiting), 1.0)
        if pod.last_terminated_reason is not None:
            put(self._reason(entry, "kube_pod_container_status_last_terminated_reason", pod.last_terminated_reason), 1.0)
        return sids, values

    def _kept_pod_row(self, entry: _PodSeries, pod: Pod, start: float) -> tuple[list[int], list[float]]:
        """``_pod_row`` without the series the scrape leaves out."""
        sids, values = self._pod_row(entry, pod, start)
        return scraped(sids, values) if UNSCRAPED in sids else (sids, values)

    def collect(self, fleet: "Fleet") -> None:
        add = self.store.add
        add_many = self.store.add_many
        add(self._up, 1.0)
        start = fleet.start.timestamp()

        pods = self._pods
        for pod in fleet.pods.values():
            state = pod.state
            if state is PodState.GONE:
                continue
            node = pod.node
            entry = pods.get((pod, node))
            if entry is None:
                entry = pods[(pod, node)] = _PodSeries(self, pod)
            signature = (state, pod.ready, pod.restarts, pod.last_terminated_reason)
            if entry.signature != signature:
                entry.signature = signature
                entry.row = self._kept_pod_row(entry, pod, start)
            if entry.row[0]:
                add_many(*entry.row)

        for deployment in fleet.deployments.values():
            row = self._deployments.get(deployment)
            if row is None:
                row = self._deployments[deployment] = _deployment_row(self, deployment)
            if row.sids:
                row.add(_deployment_values(deployment))

        for node in fleet.nodes.values():
            entry_n = self._nodes.get(node)
            if entry_n is None:
                entry_n = self._nodes[node] = _NodeSeries(self, node)
            condition = node.ready_condition.lower()
            if entry_n.row.sids:
                entry_n.row.add([1.0, 1.0 if condition == "true" else 0.0, 1.0 if condition == "false" else 0.0,
                                 1.0 if condition == "unknown" else 0.0,  # CONDITIONS
                                 1.0 if node.cordoned else 0.0, float(len(node.gpus)), float(node.healthy_gpu_count())])
            if (node.cordoned or condition != "true") and self.store.writes("kube_node_spec_taint"):
                for key, effect in _taints(node):
                    sid = entry_n.taints.get((key, effect))
                    if sid is None:
                        sid = entry_n.taints[(key, effect)] = self.sid(
                            "kube_node_spec_taint", {"job": JOB, "instance": INSTANCE, "node": node.name, "key": key, "effect": effect})
                    add(sid, 1.0)


def _deployment_values(deployment: "Deployment") -> list[float]:
    replicas = deployment.pods
    available = sum(1 for p in replicas if p.ready)
    return [float(deployment.replicas), float(len(replicas)), float(available),
            float(max(deployment.replicas - available, 0)),
            float(sum(1 for p in replicas if p.template_hash == deployment.template_hash)),
            float(deployment.generation), float(deployment.generation)]
