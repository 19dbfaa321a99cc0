"""The simulated fleet as Kubernetes objects: what each kind looks like in JSON and in a table.

Every kind lists the fleet objects it shows (``items``: key, a cheap fingerprint that changes
whenever what the API shows of the object changes, and the object) and ``render``s one to JSON
plus table cells. Rendering only reads the fleet; it runs in the drill's thread. Identity and time are
deterministic: uids of objects the simulation does not number come from their names, and
timestamps are the drill's world clock (scenario start + drill seconds), so the same drill
shows the same objects.

Besides the simulated workloads the twin shows what a GPU cluster has and tools expect to find:
the usual namespaces and, in ``kube-system``, the NVIDIA device plugin and DCGM exporter
DaemonSets with one pod per node (read-only: the simulation does not model them).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from tabletop.drill.views import pod_status
from tabletop.sim.deployment import Deployment, Template
from tabletop.sim.disruption import budget_status
from tabletop.sim.kubelet import TERMINATION_GRACE
from tabletop.sim.node import EVICTION_TOLERATION, NODE_MONITOR_GRACE, Node
from tabletop.sim.pod import Pod, PodState
from tabletop.sim.training import TrainingJob
from tabletop.twin.tables import Age

if TYPE_CHECKING:
    from tabletop.drill.engine import Drill

REGISTRY = "registry.tabletop.local"
KUBELET_VERSION = "v1.29.6"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
REVISION = "deployment.kubernetes.io/revision"
POOL_LABEL = "tabletop.dev/node-pool"
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
DAEMONSETS = {
    "nvidia-device-plugin-daemonset": ("nvcr.io/nvidia/k8s-device-plugin:v0.15.0", "nvidia-device-plugin-ctr"),
    "nvidia-dcgm-exporter": ("nvcr.io/nvidia/k8s/dcgm-exporter:3.3.5-3.4.1-ubuntu22.04", "nvidia-dcgm-exporter"),
}
"""kube-system DaemonSets of a GPU cluster: name -> (image, container)."""
DAY = 86400.0
_AGES = {"namespace": 400 * DAY, "node": 200 * DAY, "daemonset": 200 * DAY, "deployment": 90 * DAY, "job": 9 * DAY}
"""How long before the drill objects that were already there were created."""

Key = tuple[str, str]
"""(namespace, name); namespace "" for cluster-scoped objects."""


@dataclass
class Rendered:
    obj: dict[str, Any]
    cells: list[Any]
    created: float
    """Drill seconds (negative: before the drill)."""


class World:
    """What rendering needs besides the object: the drill's clock and stable identities."""

    def __init__(self, drill: "Drill") -> None:
        self.drill = drill
        self.fleet = drill.fleet
        self.start = drill.scenario.metadata.start.astimezone(timezone.utc)
        self._scope = f"{drill.scenario.metadata.id}/{drill.seed}"
        self.default_namespace = next((d.namespace for d in drill.scenario.fleet.deployments), "default")
        self.begin()

    @property
    def now(self) -> float:
        return self.drill.now

    def stamp(self, t: float) -> str:
        moment = self.start + timedelta(seconds=int(t // 1))
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def time_of(self, stamp: str) -> float:
        return (datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) - self.start).total_seconds()

    def uid(self, *parts: str) -> str:
        return str(uuid.UUID(bytes=hashlib.sha256("/".join((self._scope, *parts)).encode()).digest()[:16], version=4))

    def begin(self) -> None:
        """A new sync: counts of pods are taken afresh."""
        self._census: dict[int, dict[str, tuple[int, int]]] = {}

    def census(self, owner: Deployment | TrainingJob) -> dict[str, tuple[int, int]]:
        """(alive, ready) pods of ``owner`` by template hash ("" for all), once per sync."""
        counts = self._census.get(id(owner))
        if counts is None:
            counts = self._census[id(owner)] = _census(owner.pods)
        return counts

    def daemon_pods(self) -> list["DaemonPod"]:
        nodes = self.fleet.nodes
        if len(getattr(self, "_daemon_pods", ())) != len(DAEMONSETS) * len(nodes):
            self._daemon_pods = [DaemonPod(name, node) for name in DAEMONSETS for node in nodes.values()]
        return self._daemon_pods

    def namespaces(self) -> list[str]:
        fleet = self.fleet
        found = [*SYSTEM_NAMESPACES, *(d.namespace for d in fleet.deployments.values()),
                 *(j.namespace for j in fleet.jobs.values())]
        return sorted(set(found))


def meta(world: World, kind: str, name: str, namespace: str, created: float, uid: str | None = None,
         **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    if namespace:
        out["namespace"] = namespace
    out["uid"] = uid or world.uid(kind, namespace, name)
    out["creationTimestamp"] = world.stamp(created)
    out.update({k: v for k, v in extra.items() if v})
    return out


def _quantity(n: float) -> str:
    for unit, size in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if n >= size and n % size == 0:
            return f"{int(n // size)}{unit}"
    return str(int(n))


def _hash(text: str, length: int = 5, alphabet: str = "bcdfghjklmnpqrstvwxz2456789") -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


# pods -------------------------------------------------------------------------------------------------
def _container(name: str, image: str, gpus: int, memory_limit: float | None, memory_request: float | None,
               port: int | None, args: list[str] | None = None) -> dict[str, Any]:
    limits: dict[str, str] = {}
    requests: dict[str, str] = {}
    if memory_limit:
        limits["memory"] = _quantity(memory_limit)
    if memory_request:
        requests["memory"] = _quantity(memory_request)
    if gpus:
        limits["nvidia.com/gpu"] = requests["nvidia.com/gpu"] = str(gpus)
    container: dict[str, Any] = {"name": name, "image": image}
    if args:
        container["args"] = args
    if port:
        container["ports"] = [{"name": "http", "containerPort": port, "protocol": "TCP"}]
    container["resources"] = {k: v for k, v in (("limits", limits), ("requests", requests)) if v}
    if port:
        container["readinessProbe"] = {"httpGet": {"path": "/health", "port": port, "scheme": "HTTP"}, "timeoutSeconds": 1,
                                       "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
    container.update({"terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                      "imagePullPolicy": "IfNotPresent"})
    return container


def _pod_spec(containers: list[dict[str, Any]], pool: str | None, gpus: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": containers, "restartPolicy": "Always",
                            "terminationGracePeriodSeconds": int(TERMINATION_GRACE), "dnsPolicy": "ClusterFirst"}
    if pool:
        spec["nodeSelector"] = {POOL_LABEL: pool}
    spec.update({"serviceAccountName": "default", "securityContext": {}, "schedulerName": "default-scheduler"})
    if gpus:
        spec["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    return spec


def deployment_image(d: Deployment, version: str) -> str:
    return f"{REGISTRY}/{d.namespace}/{d.name}:{version}"


def version_of(image: str) -> str:
    """The model version in an image reference (its tag)."""
    last = image.rsplit("/", 1)[-1]
    return last.partition(":")[2].partition("@")[0] if ":" in last else ""


def _deployment_container(d: Deployment, version: str) -> dict[str, Any]:
    spec = d.spec
    vllm = spec.server == "vllm"
    args = ["--model", spec.model] + (["--tensor-parallel-size", str(spec.gpus_per_replica)] if vllm and spec.gpus_per_replica > 1 else [])
    return _container("vllm" if vllm else "model-server", deployment_image(d, version), spec.gpus_per_replica,
                      spec.memory_limit, spec.memory_working_set, 8000 if vllm else 8080, args)


def restart_time(d: Deployment, template: Template) -> float | None:
    """When the restart that made ``template`` happened (None: never restarted)."""
    if template.restarts == 0:
        return None
    return next((t.since for t in d.templates if t.restarts == template.restarts and t.since is not None), None)


def pod_template(world: World, d: Deployment, template: Template, with_hash: bool) -> dict[str, Any]:
    labels = {"app": d.name}
    if with_hash:
        labels["pod-template-hash"] = template.hash
    metadata: dict[str, Any] = {"labels": labels}
    restarted = restart_time(d, template)
    if restarted is not None:
        metadata["annotations"] = {RESTARTED_AT: world.stamp(restarted)}
    return {"metadata": metadata, "spec": _pod_spec([_deployment_container(d, template.version)], d.spec.node_pool,
                                                    d.spec.gpus_per_replica)}


def _job_container(job: TrainingJob) -> dict[str, Any]:
    return _container("trainer", f"{REGISTRY}/{job.namespace}/{job.name}:trainer", job.gpus_per_worker, None, None, None,
                      ["--resume-from", f"/checkpoints/{job.name}"])


def _job_template(job: TrainingJob) -> dict[str, Any]:
    spec = _pod_spec([_job_container(job)], job.spec.node_pool, job.gpus_per_worker)
    spec["restartPolicy"] = "Never"
    return {"metadata": {"labels": {"job-name": job.name}}, "spec": spec}


class DaemonPod:
    """A kube-system DaemonSet's pod on one node (not simulated: it follows its node)."""

    def __init__(self, daemonset: str, node: Node) -> None:
        self.daemonset = daemonset
        self.node = node
        self.name = f"{daemonset}-{_hash(daemonset + '/' + node.name)}"


def _pod_created(pod: Pod) -> float:
    started = pod.container_started_at
    return min(pod.created_at, started) if started is not None else pod.created_at


def _default_tolerations() -> list[dict[str, Any]]:
    return [{"key": f"node.kubernetes.io/{taint}", "operator": "Exists", "effect": "NoExecute",
             "tolerationSeconds": int(EVICTION_TOLERATION)} for taint in ("not-ready", "unreachable")]


def _api_access(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    volume_name = f"kube-api-access-{_hash(name)}"
    volume = {"name": volume_name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
    ]}}
    mount = {"name": volume_name, "readOnly": True, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}
    return volume, mount


def _container_status(world: World, pod: Pod, container: dict[str, Any]) -> dict[str, Any] | None:
    state = pod.state
    if state is PodState.PENDING:
        return None
    image = container["image"]
    running = state in (PodState.LOADING, PodState.READY) or (state is PodState.TERMINATING and pod.container_started_at is not None)
    status: dict[str, Any] = {"name": container["name"], "ready": pod.ready, "restartCount": pod.restarts, "image": image,
                              "imageID": "", "started": running}
    if pod.image_pulled:
        status["imageID"] = f"{image.partition(':')[0]}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"
    if running and pod.container_started_at is not None:
        status["containerID"] = f"containerd://{hashlib.sha256(f'{pod.uid}/{pod.restarts}'.encode()).hexdigest()}"
        status["state"] = {"running": {"startedAt": world.stamp(pod.container_started_at)}}
    elif state is PodState.BACKOFF:
        status["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message":
                                       f"back-off restarting failed container={container['name']} pod={pod.name}_{pod.namespace}({pod.uid})"}}
    else:
        status["state"] = {"waiting": {"reason": "ContainerCreating"}}
    if pod.last_terminated_reason:
        code = {"OOMKilled": 137, "Unknown": 255}.get(pod.last_terminated_reason, 1)
        status["lastState"] = {"terminated": {"exitCode": code, "reason": pod.last_terminated_reason}}
    else:
        status["lastState"] = {}
    return status


class Pods:
    resource = "pods"

    def __init__(self, world: World) -> None:
        self.world = world

    def items(self) -> Iterable[tuple[Key, Hashable, Any]]:
        gone = PodState.GONE
        for pod in self.world.fleet.pods.values():
            if pod.state is not gone:
                node = pod.node
                yield (pod.namespace, pod.name), (
                    pod.uid, pod.state, node.name if node else None, node.ready_condition if node else None, pod.restarts,
                    pod.last_terminated_reason, pod.container_started_at, pod.ready_since, pod.deleted_at, pod.ip), pod
        for daemon in self.world.daemon_pods():
            yield ("kube-system", daemon.name), daemon.node.ready_condition, daemon

    def render(self, pod: Any) -> Rendered:
        if isinstance(pod, DaemonPod):
            return self._render_daemon(pod)
        world = self.world
        owner = pod.owner
        if isinstance(owner, Deployment):
            template = next((t for t in owner.templates if t.hash == pod.template_hash), None)
            template = template or Template(pod.template_hash, pod.version, 0, None)
            shape = pod_template(world, owner, template, with_hash=True)
            rs = f"{owner.name}-{pod.template_hash}"
            owners = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "uid": world.uid("replicaset", pod.namespace, rs),
                       "controller": True, "blockOwnerDeletion": True}]
        else:
            job: TrainingJob = owner  # type: ignore[assignment]
            shape = _job_template(job)
            owners = [{"apiVersion": "batch/v1", "kind": "Job", "name": job.name, "uid": world.uid("job", job.namespace, job.name),
                       "controller": True, "blockOwnerDeletion": True}]
        created = _pod_created(pod)
        metadata = meta(world, "pod", pod.name, pod.namespace, created, pod.uid,
                        generateName=pod.name.rsplit("-", 1)[0] + "-", labels=dict(pod.labels),
                        annotations=shape["metadata"].get("annotations"), ownerReferences=owners)
        if pod.deleted_at is not None:
            metadata["deletionTimestamp"] = world.stamp(pod.deleted_at + TERMINATION_GRACE)
            metadata["deletionGracePeriodSeconds"] = int(TERMINATION_GRACE)
        spec = shape["spec"]
        volume, mount = _api_access(pod.name)
        spec["containers"][0]["volumeMounts"] = [mount]
        spec["volumes"] = [volume]
        spec["tolerations"] = spec.get("tolerations", []) + _default_tolerations()
        spec.update({"priority": 0, "enableServiceLinks": True, "preemptionPolicy": "PreemptLowerPriority"})
        if pod.node is not None:
            spec["nodeName"] = pod.node.name
        obj = {"kind": "Pod", "apiVersion": "v1", "metadata": metadata, "spec": spec,
               "status": self._status(pod, spec["containers"][0], created)}
        return Rendered(obj, self._cells(pod), created)

    def _status(self, pod: Pod, container: dict[str, Any], created: float) -> dict[str, Any]:
        world = self.world
        node = pod.node
        status: dict[str, Any] = {"phase": pod.phase}
        scheduled = world.stamp(created)
        conditions = [{"type": "PodScheduled", "status": "True" if node else "False", "lastProbeTime": None,
                       "lastTransitionTime": scheduled}]
        if node is None:
            conditions[0].update(reason="Unschedulable", message="0 nodes are available to run the pod")
        else:
            since = world.stamp(pod.ready_since if pod.ready and pod.ready_since is not None else (pod.container_started_at or created))
            ready = "True" if pod.ready else "False"
            conditions = [{"type": "Initialized", "status": "True", "lastProbeTime": None, "lastTransitionTime": scheduled},
                          {"type": "Ready", "status": ready, "lastProbeTime": None, "lastTransitionTime": since},
                          {"type": "ContainersReady", "status": ready, "lastProbeTime": None, "lastTransitionTime": since},
                          conditions[0]]
            if not pod.ready:
                reason = "NodeNotReady" if node.ready_condition != "True" else "ContainersNotReady"
                for condition in conditions[1:3]:
                    condition["reason"] = reason
            status["hostIP"] = node.ip
            status["hostIPs"] = [{"ip": node.ip}]
            if pod.ip:
                status["podIP"] = pod.ip
                status["podIPs"] = [{"ip": pod.ip}]
            status["startTime"] = scheduled
        status["conditions"] = conditions
        container_status = _container_status(world, pod, container)
        if container_status is not None:
            status["containerStatuses"] = [container_status]
        status["qosClass"] = "Burstable"
        return status

    def _cells(self, pod: Pod) -> list[Any]:
        return [pod.name, f"{1 if pod.ready else 0}/1", pod_status(pod), pod.restarts, Age(_pod_created(pod)),
                pod.ip or "<none>", pod.node.name if pod.node else "<none>", "<none>", "<none>"]

    def _render_daemon(self, pod: DaemonPod) -> Rendered:
        world = self.world
        node = pod.node
        image, container_name = DAEMONSETS[pod.daemonset]
        created = -_AGES["node"] + 600.0
        ready = node.ready_condition == "True"
        labels = {"app.kubernetes.io/name": pod.daemonset, "controller-revision-hash": _hash(pod.daemonset, 10),
                  "pod-template-generation": "1"}
        owners = [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": pod.daemonset,
                   "uid": world.uid("daemonset", "kube-system", pod.daemonset), "controller": True, "blockOwnerDeletion": True}]
        container = _container(container_name, image, 0, None, None, None)
        volume, mount = _api_access(pod.name)
        container["volumeMounts"] = [mount]
        spec = _pod_spec([container], None, 0)
        spec.update({"nodeName": node.name, "volumes": [volume], "priorityClassName": "system-node-critical", "priority": 2000001000,
                     "tolerations": [{"operator": "Exists"}]})
        stamp = world.stamp(created)
        condition = "True" if ready else "False"
        status = {
            "phase": "Running", "hostIP": node.ip, "podIP": node.ip, "startTime": stamp, "qosClass": "BestEffort",
            "conditions": [{"type": t, "status": s, "lastProbeTime": None, "lastTransitionTime": stamp}
                           for t, s in (("Initialized", "True"), ("Ready", condition), ("ContainersReady", condition),
                                        ("PodScheduled", "True"))],
            "containerStatuses": [{"name": container_name, "ready": ready, "restartCount": 0, "image": image, "started": True,
                                   "imageID": f"{image.partition(':')[0]}@sha256:{hashlib.sha256(image.encode()).hexdigest()}",
                                   "containerID": f"containerd://{hashlib.sha256(pod.name.encode()).hexdigest()}",
                                   "state": {"running": {"startedAt": stamp}}, "lastState": {}}],
        }
        metadata = meta(world, "pod", pod.name, "kube-system", created, generateName=f"{pod.daemonset}-", labels=labels,
                        ownerReferences=owners)
        obj = {"kind": "Pod", "apiVersion": "v1", "metadata": metadata, "spec": spec, "status": status}
        cells = [pod.name, f"{1 if ready else 0}/1", "Running" if ready else "Unknown", 0, Age(created), node.ip, node.name,
                 "<none>", "<none>"]
        return Rendered(obj, cells, created)


# nodes ----------------------------------------------------------------------------------------------
class Nodes:
    resource = "nodes"

    def __init__(self, world: World) -> None:
        self.world = world

    def items(self) -> Iterable[tuple[Key, Hashable, Any]]:
        return ((("", node.name), (node.ready_condition, node.cordoned, node.healthy_gpu_count(), node.down_since), node)
                for node in self.world.fleet.nodes.values())

    def render(self, node: Node) -> Rendered:
        world = self.world
        created = -_AGES["node"]
        pool = node.pool
        labels = {"kubernetes.io/arch": "amd64", "kubernetes.io/hostname": node.name, "kubernetes.io/os": "linux",
                  "nvidia.com/gpu.count": str(len(node.gpus)), "nvidia.com/gpu.present": "true",
                  "nvidia.com/gpu.product": pool.gpu_model, POOL_LABEL: pool.name, **pool.labels}
        spec: dict[str, Any] = {"podCIDR": f"10.244.{node.number}.0/24", "podCIDRs": [f"10.244.{node.number}.0/24"],
                                "providerID": f"tabletop://{pool.name}/{node.name}"}
        taints = []
        if node.cordoned:
            spec["unschedulable"] = True
            taints.append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"})
        unknown = node.ready_condition != "True"
        if unknown:
            lost = (node.down_since or 0.0) + NODE_MONITOR_GRACE
            taints += [{"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"},
                       {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": world.stamp(lost)}]
        if taints:
            spec["taints"] = taints
        heartbeat = world.stamp(node.down_since if unknown and node.down_since is not None else created)
        since = world.stamp((node.down_since or 0.0) + NODE_MONITOR_GRACE if unknown else created)
        conditions = []
        for kind, good, reason, message in (
            ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ):
            if unknown:
                good, reason, message = "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."
            conditions.append({"type": kind, "status": good, "lastHeartbeatTime": heartbeat, "lastTransitionTime": since,
                               "reason": reason, "message": message})
        capacity = {"cpu": "224", "ephemeral-storage": "7499362560Ki", "memory": "2113464320Ki",
                    "nvidia.com/gpu": str(len(node.gpus)), "pods": "110"}
        allocatable = {**capacity, "cpu": "223", "memory": "2112415744Ki", "nvidia.com/gpu": str(node.healthy_gpu_count())}
        machine = hashlib.sha256(node.name.encode()).hexdigest()[:32]
        status = {
            "capacity": capacity, "allocatable": allocatable, "conditions": conditions,
            "addresses": [{"type": "InternalIP", "address": node.ip}, {"type": "Hostname", "address": node.name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"machineID": machine, "systemUUID": str(uuid.UUID(machine)), "bootID": world.uid("boot", node.name),
                         "kernelVersion": "5.15.0-107-generic", "osImage": "Ubuntu 22.04.4 LTS",
                         "containerRuntimeVersion": "containerd://1.7.16", "kubeletVersion": KUBELET_VERSION,
                         "kubeProxyVersion": KUBELET_VERSION, "operatingSystem": "linux", "architecture": "amd64"},
        }
        obj = {"kind": "Node", "apiVersion": "v1",
               "metadata": meta(world, "node", node.name, "", created, labels=labels,
                                annotations={"node.alpha.kubernetes.io/ttl": "0",
                                             "volumes.kubernetes.io/controller-managed-attach-detach": "true"}),
               "spec": spec, "status": status}
        state = "NotReady" if unknown else "Ready"
        if node.cordoned:
            state += ",SchedulingDisabled"
        cells = [node.name, state, "<none>", Age(created), KUBELET_VERSION, node.ip, "<none>", "Ubuntu 22.04.4 LTS",
                 "5.15.0-107-generic", "containerd://1.7.16"]
        return Rendered(obj, cells, created)


# deployments and replica sets -----------------------------------------------------------------------------
def _census(pods: Iterable[Pod]) -> dict[str, tuple[int, int]]:
    """(alive, ready) pods by template hash, and for all under ""."""
    counts: dict[str, list[int]] = {"": [0, 0]}
    dead = (PodState.TERMINATING, PodState.GONE)
    ready_state = PodState.READY
    for pod in pods:
        if pod.state in dead:
            continue
        ready = pod.state is ready_state and pod.node is not None and pod.node.ready_condition == "True"
        for key in ("", pod.template_hash):
            entry = counts.get(key)
            if entry is None:
                entry = counts[key] = [0, 0]
            entry[0] += 1
            entry[1] += ready
    return {k: (v[0], v[1]) for k, v in counts.items()}


def revisions(d: Deployment) -> dict[str, int]:
    """Revision of each template hash: its last rollout, numbered from 1."""
    return {t.hash: number for number, t in enumerate(d.templates, start=1)}


def template_created(d: Deployment, template_hash: str) -> float:
    first = next(i for i, t in enumerate(d.templates) if t.hash == template_hash)
    since = d.templates[first].since
    if since is not None:
        return since
    before = sum(1 for t in d.templates if t.since is None)
    return -(before - first) * 7 * DAY


class Deployments:
    resource = "deployments"

    def __init__(self, world: World) -> None:
        self.world = world

    def items(self) -> Iterable[tuple[Key, Hashable, Any]]:
        census = self.world.census
        for d in self.world.fleet.deployments.values():
            counts = census(d)
            yield (d.namespace, d.name), (d.replicas, d.template_hash, d.generation, len(d.templates), counts[""],
                                          counts.get(d.template_hash)), d

    def render(self, d: Deployment) -> Rendered:
        world = self.world
        created = -_AGES["deployment"]
        current = d.templates[-1]
        counts = world.census(d)
        alive, ready = counts[""]
        updated = counts.get(d.template_hash, (0, 0))[0]
        status: dict[str, Any] = {"observedGeneration": d.generation, "replicas": alive, "updatedReplicas": updated,
                                  "readyReplicas": ready, "availableReplicas": ready,
                                  "unavailableReplicas": max(0, max(d.replicas, alive) - ready)}
        status = {k: v for k, v in status.items() if v}
        surge = -(-d.replicas * 25 // 100)
        unavailable = d.replicas * 25 // 100 or (0 if surge else 1)
        since = world.stamp(current.since if current.since is not None else template_created(d, current.hash))
        rs = f"{d.name}-{d.template_hash}"
        available = ready >= d.replicas - unavailable
        done = updated == d.replicas and alive == d.replicas and ready == d.replicas
        status["conditions"] = [
            {"type": "Available", "status": "True" if available else "False", "lastUpdateTime": since, "lastTransitionTime": since,
             "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
             "message": "Deployment has minimum availability." if available else "Deployment does not have minimum availability."},
            {"type": "Progressing", "status": "True", "lastUpdateTime": since, "lastTransitionTime": since,
             "reason": "NewReplicaSetAvailable" if done else "ReplicaSetUpdated",
             "message": f'ReplicaSet "{rs}" has successfully progressed.' if done else f'ReplicaSet "{rs}" is progressing.'},
        ]
        spec = {"replicas": d.replicas, "selector": {"matchLabels": {"app": d.name}},
                "template": pod_template(world, d, current, with_hash=False),
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600}
        metadata = meta(world, "deployment", d.name, d.namespace, created, generation=d.generation, labels={"app": d.name},
                        annotations={REVISION: str(revisions(d)[d.template_hash])})
        obj = {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": metadata, "spec": spec, "status": status}
        container = spec["template"]["spec"]["containers"][0]
        cells = [d.name, f"{ready}/{d.replicas}", updated, ready, Age(created), container["name"], container["image"], f"app={d.name}"]
        return Rendered(obj, cells, created)


@dataclass(frozen=True)
class ReplicaSetOf:
    deployment: Deployment
    template: Template


class ReplicaSets:
    resource = "replicasets"

    def __init__(self, world: World) -> None:
        self.world = world

    def items(self) -> Iterable[tuple[Key, Hashable, Any]]:
        for d in self.world.fleet.deployments.values():
            counts = self.world.census(d)
            numbers = revisions(d)
            seen: dict[str, Template] = {}
            for template in d.templates:
                seen.setdefault(template.hash, template)
            for template in seen.values():
                fingerprint = (numbers[template.hash], d.template_hash == template.hash and d.replicas, counts.get(template.hash))
                yield (d.namespace, f"{d.name}-{template.hash}"), fingerprint, ReplicaSetOf(d, template)

    def render(self, rs: ReplicaSetOf) -> Rendered:
        world = self.world
        d, template = rs.deployment, rs.template
        name = f"{d.name}-{template.hash}"
        created = template_created(d, template.hash)
        alive, ready = world.census(d).get(template.hash, (0, 0))
        desired = d.replicas if d.template_hash == template.hash else alive
        surge = -(-d.replicas * 25 // 100)
        owners = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": d.name, "uid": world.uid("deployment", d.namespace, d.name),
                   "controller": True, "blockOwnerDeletion": True}]
        annotations = {"deployment.kubernetes.io/desired-replicas": str(d.replicas),
                       "deployment.kubernetes.io/max-replicas": str(d.replicas + surge), REVISION: str(revisions(d)[template.hash])}
        labels = {"app": d.name, "pod-template-hash": template.hash}
        metadata = meta(world, "replicaset", name, d.namespace, created, generation=1, labels=labels, annotations=annotations,
                        ownerReferences=owners)
        spec = {"replicas": desired, "selector": {"matchLabels": labels}, "template": pod_template(world, d, template, with_hash=True)}
        status = {k: v for k, v in {"replicas": alive, "fullyLabeledReplicas": alive, "readyReplicas": ready,
                                      "availableReplicas": ready, "observedGeneration": 1}.items() if v}
        status.setdefault("replicas", 0)
        obj = {"kind": "ReplicaSet", "apiVersion": "apps/v1", "metadata": metadata, "spec": spec, "status": status}
        container = spec["template"]["spec"]["containers"][0]
        selector = ",".join(f"{k}={v}" for k, v in labels.items())
        cells = [name, desired, alive, ready, Age(created), container["name"], container["image"], selector]
        return Rendered(obj, cells, created)


class DisruptionBudgets:
    """A deployment's ``disruption_budget`` as the PodDisruptionBudget of the same name."""

    resource = "poddisruptionbudgets"

    def __init__(self, world: World) -> None:
        self.world = world

    def items(self) -> Iterable[tuple[Key, Hashable, Any]]:
        for d in self.world.fleet.deployments.values():
            status = budget_status(d)
            if status is not None:
                yield (d.namespace, d.name), status, d

    def render(self, d: Deployment) -> Rendered:
        budget = d.spec.disruption_budget
        status = budget_status(d)
        assert budget is not None and status is not None
        created = -_AGES["deployment"]
        spec: dict[str, Any] = {"selector": {"matchLabels": {"app": d.name}}}
        if budget.min_available is not None:
            spec["minAvailable"] = budget.min_available
        else:
            spec["maxUnavailable"] = budget.max_unavailable
        allowed = status.disruptions_allowed
        since = self.world.stamp(created)
        obj = {
            "kind": "PodDisruptionBudget", "apiVersion": "policy/v1",
            "metadata": meta(self.world, "poddisruptionbudget", d.name, d.namespace, created, generation=1),
            "spec": spec,
            "status": {"observedGeneration": 1, "disruptionsAllowed": allowed, "currentHealthy": status.current_healthy,
                       "desiredHealthy": status.desired_healthy, "expectedPods": status.expected,
                       "conditions": [{"type": "DisruptionAllowed", "status": "True" if allowed else "False",
                                       "reason": "SufficientPods" if allowed else "InsufficientPods", "message": "",
                                       "observedGeneration": 1, "lastTransitionTime": since}]},
        }
        cells = [d.name, spec.get("minAvailable", "N/A"), spec.get("maxUnavailable", "N/A"), allowed, Age(created)]
        return Rendered(obj, cells, created)


# daemon sets, jobs, namespaces ---------------------------------------------------------------------------
class DaemonSets:
    resource = "daemonsets"

    def __init__(self, world: World) -> None:
        self.world = world

    def items(self) -> Iterable[tuple[Key, Hashable, Any]]:
        counts = self._counts()
        return ((("kube-system", name), counts, name) for name in DAEMONSETS)

    def _counts(self) -> tuple[int, int]:
        nodes = self.world.fleet.nodes.values()
        return len(nodes), sum(1 for n in nodes if n.ready_condition == "True")

    def render(self, name: str) -> Rendered:
        world = self.world
        created = -_AGES["daemonset"]
        total, ready = self._counts()
        image, container_name = DAEMONSETS[name]
        labels = {"app.kubernetes.io/name": name}
        spec = {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": {
                    **_pod_spec([_container(container_name, image, 0, None, None, None)], None, 0),
                    "priorityClassName": "system-node-critical", "tolerations": [{"operator": "Exists"}]}},
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
                "revisionHistoryLimit": 10}
        status = {"currentNumberScheduled": total, "numberMisscheduled": 0, "desiredNumberScheduled": total, "numberReady": ready,
                  "observedGeneration": 1, "updatedNumberScheduled": total, "numberAvailable": ready}
        if total - ready:
            status["numberUnavailable"] = total - ready
        obj = {"kind": "DaemonSet", "apiVersion": "apps/v1",
               "metadata": meta(world, "daemonset", name, "kube-system", created, generation=1, labels=labels,
                                annotations={"deprecated.daemonset.template.generation": "1"}),
               "spec": spec, "status": status}
        cells = [name, total, total, ready, total, ready, "<none>", Age(created), container_name, image,
                 f"app.kubernetes.io/name={name}"]
        return Rendered(obj, cells, created)


class Jobs:
    resource = "jobs"

    def __init__(self, world: World) -> None:
        self.world = world

    def items(self) -> Iterable[tuple[Key, Hashable, Any]]:
        census = self.world.census
        return (((j.namespace, j.name), (j.restarts, census(j)[""]), j) for j in self.world.fleet.jobs.values())

    def render(self, job: TrainingJob) -> Rendered:
        world = self.world
        created = -_AGES["job"]
        alive, ready = world.census(job)[""]
        template = _job_template(job)
        spec = {"parallelism": job.spec.gang_size, "completions": job.spec.gang_size, "completionMode": "Indexed",
                "backoffLimit": 6, "suspend": False, "selector": {"matchLabels": {"job-name": job.name}}, "template": template}
        status = {"startTime": world.stamp(created), "active": alive, "ready": ready, "uncountedTerminatedPods": {}}
        obj = {"kind": "Job", "apiVersion": "batch/v1",
               "metadata": meta(world, "job", job.name, job.namespace, created, generation=1, labels={"job-name": job.name}),
               "spec": spec, "status": {k: v for k, v in status.items() if v or k == "ready"}}
        container = template["spec"]["containers"][0]
        cells = [job.name, "Running", f"0/{job.spec.gang_size}", Age(created), Age(created), container["name"], container["image"],
                 f"job-name={job.name}"]
        return Rendered(obj, cells, created)


class Namespaces:
    resource = "namespaces"

    def __init__(self, world: World) -> None:
        self.world = world

    def items(self) -> Iterable[tuple[Key, Hashable, Any]]:
        return ((("", name), name, name) for name in self.world.namespaces())

    def render(self, name: str) -> Rendered:
        created = -_AGES["namespace"]
        obj = {"kind": "Namespace", "apiVersion": "v1",
               "metadata": meta(self.world, "namespace", name, "", created, labels={"kubernetes.io/metadata.name": name}),
               "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
        return Rendered(obj, [name, "Active", Age(created)], created)


# events -----------------------------------------------------------------------------------------------
_SOURCES = {
    "Scheduled": "default-scheduler", "FailedScheduling": "default-scheduler", "ScalingReplicaSet": "deployment-controller",
    "NodeNotReady": "node-controller", "TaintManagerEviction": "taint-eviction-controller",
    "TrainingJobRestarting": "job-controller", "TrainingJobRunning": "job-controller", "CheckpointFailed": "trainer",
}
_KINDS = {"pod": ("Pod", "v1"), "node": ("Node", "v1"), "deployment": ("Deployment", "apps/v1"), "job": ("Job", "batch/v1")}


def render_event(world: World, seq: int, t: float, data: dict[str, Any], pod_index: dict[str, tuple[str, str]]) -> Rendered | None:
    """A timeline ``fleet.event`` as a core/v1 Event (None for objects Kubernetes has no kind for)."""
    kind_name, _, name = str(data.get("object", "")).partition("/")
    if kind_name not in _KINDS:
        return None
    fleet = world.fleet
    kind, api_version = _KINDS[kind_name]
    if kind_name == "pod":
        namespace, uid = pod_index.get(name, (world.default_namespace, world.uid("pod", name)))
    elif kind_name == "node":  # the kubelet names its node by name, controllers by uid (kubectl looks for both)
        namespace = ""
        uid = name if _SOURCES.get(str(data.get("reason", "")), "kubelet") == "kubelet" else world.uid("node", "", name)
    else:
        owner = fleet.deployments.get(name) if kind_name == "deployment" else fleet.jobs.get(name)
        namespace = owner.namespace if owner is not None else world.default_namespace
        uid = world.uid(kind_name, namespace, name)
    reason = str(data.get("reason", ""))
    component = _SOURCES.get(reason, "kubelet")
    involved: dict[str, Any] = {"kind": kind, "name": name, "uid": uid, "apiVersion": api_version}
    if namespace:
        involved["namespace"] = namespace
    source: dict[str, str] = {"component": component}
    if component == "kubelet" and kind_name == "node":
        source["host"] = name
    unix_nanos = int((world.start.timestamp() + t) * 1e9) + seq
    event_name = f"{name}.{unix_nanos:x}"
    stamp = world.stamp(t)
    event_namespace = namespace or "default"
    obj = {"kind": "Event", "apiVersion": "v1",
           "metadata": meta(world, "event", event_name, event_namespace, t),
           "involvedObject": involved, "reason": reason, "message": str(data.get("message", "")), "source": source,
           "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1, "type": str(data.get("type", "Normal")),
           "eventTime": None, "reportingComponent": component, "reportingInstance": source.get("host", "")}
    cells = [Age(t), obj["type"], reason, f"{kind.lower()}/{name}", "", component, obj["message"], Age(t), 1, event_name]
    return Rendered(obj, cells, t)


# selectable fields ---------------------------------------------------------------------------------------
def _get(obj: dict[str, Any], path: str) -> str:
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, bool):
        return str(node).lower()
    return "" if node is None else str(node)


_COMMON = ("metadata.name", "metadata.namespace")
FIELDS: dict[str, tuple[str, ...]] = {
    "pods": _COMMON + ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                       "status.phase", "status.podIP", "status.nominatedNodeName"),
    "nodes": _COMMON + ("spec.unschedulable",),
    "events": _COMMON + ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                         "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                         "reason", "reportingComponent", "source", "type"),
    "namespaces": _COMMON + ("status.phase",),
    "deployments": _COMMON, "replicasets": _COMMON + ("status.replicas",), "daemonsets": _COMMON, "jobs": _COMMON + ("status.successful",),
    "poddisruptionbudgets": _COMMON,
}


def fields(resource: str, obj: dict[str, Any]) -> dict[str, str]:
    out = {path: _get(obj, path) for path in FIELDS[resource]}
    if resource == "events":
        out["source"] = _get(obj, "source.component")
    if resource == "nodes" and not out["spec.unschedulable"]:
        out["spec.unschedulable"] = "false"
    return out


KINDS = (Namespaces, Nodes, Pods, Deployments, ReplicaSets, DisruptionBudgets, DaemonSets, Jobs)
"""Kinds rendered from the fleet by fingerprint (events come from the timeline)."""
