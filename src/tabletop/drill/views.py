"""Read-only, kubectl-like views of the simulated fleet (``get`` and ``describe``)."""

from __future__ import annotations

from tabletop.durations import format_duration
from tabletop.sim.deployment import Deployment
from tabletop.sim.features import FeaturePipeline, FeatureStore
from tabletop.sim.fleet import Fleet
from tabletop.sim.node import Node
from tabletop.sim.pod import Pod, PodState
from tabletop.sim.training import TrainingJob

KIND_ALIASES = {
    "pod": "pods", "po": "pods", "node": "nodes", "no": "nodes", "deployment": "deployments", "deploy": "deployments",
    "job": "jobs", "featurestore": "featurestores", "pipeline": "pipelines",
}
KINDS = ("pods", "nodes", "deployments", "jobs", "featurestores", "pipelines")


class ViewError(Exception):
    pass


def _age(fleet: Fleet, since: float | None) -> str:
    return "<none>" if since is None else format_duration(max(0.0, fleet.now - since))


def pod_status(pod: Pod) -> str:
    """The STATUS column of ``get pods``, as kubectl shows it."""
    if pod.state is PodState.TERMINATING:
        return "Terminating"
    if pod.node is not None and pod.node.ready_condition != "True" and pod.alive:
        return "Unknown" if pod.state is PodState.READY else pod.state.value
    if pod.state in (PodState.LOADING, PodState.READY):
        return "Running"
    return pod.state.value


def _pod_row(fleet: Fleet, pod: Pod) -> dict[str, str]:
    return {
        "NAMESPACE": pod.namespace, "NAME": pod.name, "READY": "1/1" if pod.ready else "0/1",
        "STATUS": pod_status(pod), "RESTARTS": str(pod.restarts), "AGE": _age(fleet, pod.created_at),
        "NODE": pod.node.name if pod.node else "<none>",
    }


def _node_row(fleet: Fleet, node: Node) -> dict[str, str]:
    status = {"True": "Ready", "Unknown": "NotReady", "False": "NotReady"}[node.ready_condition]
    if node.cordoned:
        status += ",SchedulingDisabled"
    return {
        "NAME": node.name, "STATUS": status, "GPUS": f"{node.healthy_gpu_count()}/{len(node.gpus)}",
        "GPUS-FREE": str(len(node.free_gpus())), "PODS": str(sum(1 for p in node.pods if p.alive)), "POOL": node.pool.name,
    }


def _deployment_row(fleet: Fleet, d: Deployment) -> dict[str, str]:
    ready = sum(1 for p in d.pods if p.ready)
    updated = sum(1 for p in d.pods if p.template_hash == d.template_hash)
    return {
        "NAMESPACE": d.namespace, "NAME": d.name, "READY": f"{ready}/{d.replicas}", "UP-TO-DATE": str(updated),
        "AVAILABLE": str(ready), "VERSION": d.version, "RPS": f"{d.last.offered:.1f}",
        "ERRORS": f"{d.last.errors / d.last.offered:.1%}" if d.last.offered else "0.0%",
    }


def _job_row(fleet: Fleet, job: TrainingJob) -> dict[str, str]:
    return {
        "NAMESPACE": job.namespace, "NAME": job.name, "STATE": job.state, "STEP": str(int(job.current_step(fleet.now))),
        "LAST-CHECKPOINT": str(int(job.last_checkpoint_step)), "RESTARTS": str(job.restarts),
        "WORKERS": f"{sum(1 for p in job.pods if p.ready)}/{job.spec.gang_size}",
    }


def _store_row(fleet: Fleet, store: FeatureStore) -> dict[str, str]:
    state = "FailingOver" if store.failing_over else {"ok": "Healthy", "down": "Unavailable", "slow": "Degraded"}[store.mode]
    return {"NAME": store.name, "STATE": state, "READS/S": f"{store.read_rate():.0f}"}


def _pipeline_row(fleet: Fleet, pipeline: FeaturePipeline) -> dict[str, str]:
    return {
        "NAME": pipeline.name, "STORE": pipeline.store.name, "LAST-SUCCESS": _age(fleet, pipeline.last_success) + " ago",
        "PSI": f"{pipeline.psi(fleet.now):.3f}", "PINNED": str(pipeline.pinned).lower(),
    }


def rows(fleet: Fleet, kind: str, name: str | None = None) -> list[dict[str, str]]:
    kind = KIND_ALIASES.get(kind, kind)
    if kind not in KINDS:
        raise ViewError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
    table = {
        "pods": (fleet.pods, _pod_row), "nodes": (fleet.nodes, _node_row), "deployments": (fleet.deployments, _deployment_row),
        "jobs": (fleet.jobs, _job_row), "featurestores": (fleet.stores, _store_row), "pipelines": (fleet.pipelines, _pipeline_row),
    }[kind]
    objects, make_row = table
    if name is not None:
        if name not in objects:
            raise ViewError(f"{kind} {name!r} not found")
        return [make_row(fleet, objects[name])]  # type: ignore[operator]
    return [make_row(fleet, obj) for _, obj in sorted(objects.items())]  # type: ignore[operator]


def render_table(table: list[dict[str, str]]) -> str:
    if not table:
        return "No resources found."
    headers = list(table[0])
    widths = [max(len(h), *(len(r[h]) for r in table)) for h in headers]
    lines = ["   ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["   ".join(r[h].ljust(w) for h, w in zip(headers, widths)).rstrip() for r in table]
    return "\n".join(lines)


def describe(fleet: Fleet, target: str) -> str:
    obj = fleet.lookup(target)
    if obj is None:
        raise ViewError(f"{target} not found")
    events = [e for e in fleet.recent_events if e[1] == target][-10:]
    if isinstance(obj, Pod):
        lines = [
            f"Name:         {obj.name}", f"Namespace:    {obj.namespace}", f"Node:         {obj.node.name if obj.node else '<none>'}",
            f"Status:       {pod_status(obj)}", f"IP:           {obj.ip or '<none>'}", f"Version:      {obj.version}",
            f"Restarts:     {obj.restarts}", f"Last State:   Terminated (Reason: {obj.last_terminated_reason})" if obj.last_terminated_reason else "Last State:   <none>",
            f"GPUs:         {', '.join(f'{g.index} ({g.uuid})' + (' LOST' if g.lost else '') for g in obj.gpus) or '<none>'}",
            f"Ready:        {str(obj.ready).lower()}",
        ]
    elif isinstance(obj, Node):
        lines = [
            f"Name:          {obj.name}", f"Pool:          {obj.pool.name} ({obj.pool.gpu_model})", f"InternalIP:    {obj.ip}",
            f"Ready:         {obj.ready_condition}", f"Unschedulable: {str(obj.cordoned).lower()}",
            "GPUs:",
            *(f"  {g.index}  {g.uuid}  {'LOST (Xid ' + str(g.last_xid) + ')' if g.lost else 'ok'}  {('pod ' + g.pod.name) if g.pod else 'free'}" for g in obj.gpus),
            "Pods:", *(f"  {p.namespace}/{p.name}  {pod_status(p)}" for p in obj.pods),
        ]
    else:
        lines = [render_table(rows(fleet, {Deployment: "deployments", TrainingJob: "jobs", FeatureStore: "featurestores", FeaturePipeline: "pipelines"}[type(obj)], obj.name))]
    if events:
        lines += ["Events:", *(f"  {format_duration(fleet.now - t)} ago  {reason}  {message}" for t, _, reason, message in events)]
    return "\n".join(lines)

