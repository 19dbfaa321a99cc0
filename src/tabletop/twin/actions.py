"""What the API's writes mean for the drill: responder commands, run in the drill thread.

A write is compared with the object as the API shows it; what the caller wants changed becomes
the drill's own commands (``mitigate delete_pod pod/P``, ``mitigate evict pod/P``, ``mitigate
cordon node/N``, ``mitigate scale deployment/D replicas=N``, ``mitigate rollout_restart ...``,
``mitigate rollback ...``), executed as the caller, so they land on the timeline exactly like
the console's and scripts' commands and replay the same. A change the simulation cannot make
is refused with 422 and nothing recorded; a command the drill refuses is recorded as refused
(like any command) and answered 409. Reading pod logs also happens here, since logs are the
fleet's.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from tabletop.sim.action_specs import ACTIONS
from tabletop.sim.deployment import Deployment
from tabletop.sim.disruption import eviction_blocked
from tabletop.sim.pod import Pod, PodState
from tabletop.twin import errors
from tabletop.twin.objects import RESTARTED_AT, deployment_image, version_of
from tabletop.twin.patch import PatchError, apply_patch, differences
from tabletop.twin.store import Entry, Store

if TYPE_CHECKING:
    from tabletop.drill.engine import Drill

MAX_REPLICAS = int(ACTIONS["scale"].params["replicas"].maximum or 0)
"""What the simulation runs at most (``mitigate scale`` refuses more)."""

_VOLATILE_METADATA = ("resourceVersion", "managedFields", "generation", "creationTimestamp", "uid", "selfLink")
"""Metadata a write may carry without asking for a change."""
_DEPLOYMENT_METADATA = (*_VOLATILE_METADATA, "annotations")
"""A deployment's annotations are the server's (its revision); ``rollout undo`` rewrites them."""


class Writes:
    """API writes and log reads against one drill (drill thread only)."""

    def __init__(self, drill: "Drill", store: Store) -> None:
        self.drill = drill
        self.store = store

    # helpers -------------------------------------------------------------------------------------
    def _run(self, actor: str, lines: list[str], resource: str, group: str, name: str) -> None:
        if self.drill.ended:  # nothing is recorded after the end
            raise errors.conflict(resource, group, name, "the drill has ended")
        for line in lines:
            result = self.drill.execute(actor, line)
            if not result.ok:
                self.store.sync(force=True)
                raise errors.conflict(resource, group, name, result.message)
        self.store.sync(force=True)

    def _current(self, resource: str, group: str, namespace: str, name: str) -> Entry:
        self.store.sync()
        entry = self.store.entry(resource, namespace, name)
        if entry is None:
            raise errors.not_found(resource, group, name)
        return entry

    def _pod(self, entry: Entry, verb: str, actor: str) -> Pod:
        pod = self.drill.fleet.pods.get(entry.name)
        if pod is None or pod.namespace != entry.namespace or pod.uid != entry.uid:
            raise errors.forbidden(actor, verb, "pods", "", entry.name, entry.namespace,
                                   "kube-system's DaemonSet pods are not part of the simulation and cannot be changed")
        return pod

    @staticmethod
    def _preconditions(entry: Entry, resource: str, group: str, uid: Any = None, rv: Any = None) -> None:
        if uid and uid != entry.uid:
            raise errors.conflict(resource, group, entry.name,
                                  f"Precondition failed: UID in precondition: {uid}, UID in object meta: {entry.uid}")
        if rv and str(rv) != str(entry.rv):
            raise errors.stale(resource, group, entry.name)

    # pods ----------------------------------------------------------------------------------------
    def delete_pod(self, actor: str, namespace: str, name: str, grace: int | None, preconditions: dict[str, Any],
                   dry_run: bool) -> Entry:
        entry = self._current("pods", "", namespace, name)
        pod = self._pod(entry, "delete", actor)
        self._preconditions(entry, "pods", "", preconditions.get("uid"), preconditions.get("resourceVersion"))
        if dry_run or not pod.alive:
            return entry
        line = f"mitigate delete_pod pod/{name}" + (f" grace={grace}" if grace is not None else "")
        self._run(actor, [line], "pods", "", name)
        return self.store.entry("pods", namespace, name) or entry

    def evict_pod(self, actor: str, namespace: str, name: str, body: Any, dry_run: bool) -> None:
        entry = self._current("pods", "", namespace, name)
        pod = self._pod(entry, "create", actor)
        if isinstance(body, dict):
            named = (body.get("metadata") or {}).get("name")
            if named and named != name:
                raise errors.bad_request(f"name in URL does not match name in Eviction object ({named!r})")
            preconditions = (body.get("deleteOptions") or {}).get("preconditions") or {}
            self._preconditions(entry, "pods", "", preconditions.get("uid"), preconditions.get("resourceVersion"))
        if not pod.alive:
            return
        blocked = eviction_blocked(pod)  # refused before it reaches the timeline: kubectl drain retries every 5 s
        if blocked is not None:
            raise errors.disruption_budget(blocked)
        if dry_run:
            return
        self._run(actor, [f"mitigate evict pod/{name}"], "pods", "", name)

    # nodes ---------------------------------------------------------------------------------------
    def write_node(self, actor: str, name: str, change: Callable[[dict[str, Any]], Any], dry_run: bool) -> Entry:
        entry = self._current("nodes", "", "", name)
        desired = self._desired(entry, change, "Node", "")
        fixed = {"metadata": _VOLATILE_METADATA, "spec": ("unschedulable", "taints"), "status": None}
        others = differences(_without(entry.obj, fixed), _without(desired, fixed))
        if others:
            raise errors.invalid("Node", "", name, [(path, "the twin can change only spec.unschedulable of a node (cordon, uncordon)")
                                                    for path in others])
        wanted = bool(_path(desired, "spec", "unschedulable"))
        node = self.drill.fleet.nodes[name]
        if dry_run or wanted == node.cordoned:
            return entry
        self._run(actor, [f"mitigate {'cordon' if wanted else 'uncordon'} node/{name}"], "nodes", "", name)
        return self.store.entry("nodes", "", name) or entry

    # deployments ---------------------------------------------------------------------------------
    def write_deployment(self, actor: str, namespace: str, name: str, change: Callable[[dict[str, Any]], Any],
                         dry_run: bool) -> Entry:
        entry = self._current("deployments", "apps", namespace, name)
        desired = self._desired(entry, change, "Deployment", "apps")
        lines = self._deployment_lines(entry, desired)
        if lines and not dry_run:
            self._run(actor, lines, "deployments", "apps", name)
        return self.store.entry("deployments", namespace, name) or entry

    def write_scale(self, actor: str, namespace: str, name: str, change: Callable[[dict[str, Any]], Any],
                    dry_run: bool) -> Entry:
        entry = self._current("deployments", "apps", namespace, name)
        current = scale_of(entry)
        try:
            desired = change(copy.deepcopy(current))
        except PatchError as error:
            raise errors.invalid("Scale", "autoscaling", name, [("", str(error))]) from None
        if not isinstance(desired, dict):
            raise errors.bad_request("the body must be a Scale object")
        self._check_identity(entry, desired, "Scale", "autoscaling")
        replicas = self._replicas(desired, name, "Scale", "autoscaling")
        deployment = self.drill.fleet.deployments[name]
        if replicas != deployment.replicas and not dry_run:
            self._run(actor, [f"mitigate scale deployment/{name} replicas={replicas}"], "deployments", "apps", name)
        return self.store.entry("deployments", namespace, name) or entry

    def _desired(self, entry: Entry, change: Callable[[dict[str, Any]], Any], kind: str, group: str) -> dict[str, Any]:
        try:
            desired = change(copy.deepcopy(entry.obj))
        except PatchError as error:
            raise errors.invalid(kind, group, entry.name, [("", str(error))]) from None
        if not isinstance(desired, dict):
            raise errors.bad_request(f"the body must be a {kind} object")
        self._check_identity(entry, desired, kind, group)
        return desired

    def _check_identity(self, entry: Entry, desired: dict[str, Any], kind: str, group: str) -> None:
        metadata = desired.get("metadata")
        if not isinstance(metadata, dict):
            raise errors.invalid(kind, group, entry.name, [("metadata", "Required value")])
        if metadata.get("name", entry.name) != entry.name:
            raise errors.bad_request(f"the name of the object ({metadata.get('name')}) does not match the name in the URL ({entry.name})")
        if entry.namespace and metadata.get("namespace", entry.namespace) != entry.namespace:
            raise errors.bad_request("the namespace of the object does not match the namespace on the URL")
        resource = {"Node": "nodes", "Deployment": "deployments", "Scale": "deployments"}[kind]
        self._preconditions(entry, resource, "" if kind == "Node" else "apps", metadata.get("uid"), metadata.get("resourceVersion"))

    def _replicas(self, desired: dict[str, Any], name: str, kind: str, group: str) -> int:
        spec = desired.get("spec")
        replicas = spec.get("replicas", 1) if isinstance(spec, dict) else 1
        if isinstance(replicas, bool) or not isinstance(replicas, int):
            raise errors.invalid(kind, group, name, [("spec.replicas", f"Invalid value: {replicas!r}: must be an integer")])
        if replicas < 0:
            raise errors.invalid(kind, group, name, [("spec.replicas", f"Invalid value: {replicas}: must be greater than or equal to 0")])
        if replicas > MAX_REPLICAS:
            raise errors.invalid(kind, group, name, [("spec.replicas",
                                                      f"Invalid value: {replicas}: the simulation runs at most {MAX_REPLICAS} replicas")])
        return replicas

    def _deployment_lines(self, entry: Entry, desired: dict[str, Any]) -> list[str]:
        name = entry.name
        d: Deployment = self.drill.fleet.deployments[name]
        current = entry.obj
        fixed = {"metadata": _DEPLOYMENT_METADATA, "spec": ("replicas", "template"), "status": None}
        others = differences(_without(current, fixed), _without(desired, fixed))
        if others:
            raise errors.invalid("Deployment", "apps", name, [
                (path, "the twin can change only spec.replicas, the model version (image tag) and the restart annotation")
                for path in others])
        replicas = self._replicas(desired, name, "Deployment", "apps")
        lines = [f"mitigate scale deployment/{name} replicas={replicas}"] if replicas != d.replicas else []
        return lines + self._template_lines(d, current["spec"]["template"], _path(desired, "spec", "template"))

    @staticmethod
    def _template_lines(d: Deployment, old: dict[str, Any], template: Any) -> list[str]:
        """A new pod template may roll back to the previous version (its image tag) or restart the pods."""
        def refuse(field: str, message: str) -> errors.ApiError:
            return errors.invalid("Deployment", "apps", d.name, [(field, message)])

        if not isinstance(template, dict):
            raise refuse("spec.template", "Required value")
        container = old["spec"]["containers"][0]["name"]
        containers = _path(template, "spec", "containers")
        if not isinstance(containers, list) or len(containers) != 1 or not isinstance(containers[0], dict) \
                or containers[0].get("name") != container:
            raise refuse("spec.template.spec.containers", f"the pod template has exactly one container, {container!r}")
        image = str(containers[0].get("image", ""))
        version = version_of(image)
        if image != deployment_image(d, version):
            raise refuse("spec.template.spec.containers[0].image",
                         f"Invalid value: {image!r}: only the tag (the model version) of {deployment_image(d, d.version)!r} can change")
        restarted = (_path(template, "metadata", "annotations") or {}).get(RESTARTED_AT)
        probe = copy.deepcopy(old)
        probe["spec"]["containers"][0]["image"] = image
        annotations = {k: v for k, v in (probe["metadata"].get("annotations") or {}).items() if k != RESTARTED_AT}
        if restarted is not None:
            annotations[RESTARTED_AT] = restarted
        probe["metadata"]["annotations"] = annotations
        wanted = copy.deepcopy(template)
        labels = _path(wanted, "metadata", "labels")
        if isinstance(labels, dict):
            labels.pop("pod-template-hash", None)
        others = differences(probe, wanted)
        if others:
            raise errors.invalid("Deployment", "apps", d.name, [
                (f"spec.template.{path}", "the twin can change only the model version (image tag) and kubectl.kubernetes.io/restartedAt")
                for path in others])
        if version != d.version:
            previous = d.previous_version()
            if version != previous:
                allowed = f"only to the previous version {previous!r}" if previous else "not at all (there is no previous version)"
                raise refuse("spec.template.spec.containers[0].image",
                             f"Invalid value: {image!r}: the simulation runs {d.version!r} and can roll back {allowed}")
            return [f"mitigate rollback deployment/{d.name}"]
        if restarted != (old["metadata"].get("annotations") or {}).get(RESTARTED_AT):
            return [f"mitigate rollout_restart deployment/{d.name}"]
        return []

    # logs ----------------------------------------------------------------------------------------
    def pod_log(self, namespace: str, name: str, params: dict[str, str], cursor: int = 0) -> tuple[list[str], int, bool]:
        """(lines, where the log store ends, whether the pod is still there)."""
        entry = self._current("pods", "", namespace, name)
        pod = self.drill.fleet.pods.get(name)
        store = self.drill.fleet.logs.lines
        if pod is None or pod.uid != entry.uid:
            return [], len(store), True
        container = params.get("container")
        if container and container != pod.container:
            raise errors.bad_request(f"container {container} is not valid for pod {name}")
        previous = params.get("previous", "false") == "true"
        if previous and pod.restarts == 0:
            raise errors.bad_request(f'previous terminated container "{pod.container}" in pod "{name}" not found')
        if not previous and pod.state in (PodState.PENDING, PodState.CREATING):
            reason = "ContainerCreating" if pod.state is PodState.CREATING else "PodInitializing"
            raise errors.bad_request(f'container "{pod.container}" in pod "{name}" is waiting to start: {reason}')
        started = pod.container_started_at if pod.container_started_at is not None else pod.created_at
        since = self._since(params)
        source = pod.ref
        lines = [line for line in store[cursor:] if line.source == source and line.t >= pod.created_at
                 and (line.t < started if previous else line.t >= started) and (since is None or line.t >= since)]
        if "tailLines" in params and cursor == 0:
            tail = _int(params["tailLines"], "tailLines")
            lines = lines[-tail:] if tail > 0 else []
        if params.get("timestamps", "false") == "true":
            start = self.store.world.start
            text = [f"{(start + timedelta(seconds=line.t)).strftime('%Y-%m-%dT%H:%M:%S.%f')}000Z {line.message}" for line in lines]
        else:
            text = [line.message for line in lines]
        return text, len(store), pod.alive

    def _since(self, params: dict[str, str]) -> float | None:
        if "sinceSeconds" in params:
            return self.drill.now - _int(params["sinceSeconds"], "sinceSeconds")
        if "sinceTime" in params:
            try:
                moment = datetime.fromisoformat(params["sinceTime"].replace("Z", "+00:00"))
            except ValueError:
                raise errors.bad_request(f"sinceTime: not an RFC 3339 time: {params['sinceTime']!r}") from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            return (moment - self.store.world.start).total_seconds()
        return None


def scale_of(entry: Entry) -> dict[str, Any]:
    """The ``autoscaling/v1`` Scale of a deployment entry."""
    metadata = entry.obj["metadata"]
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: metadata[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")},
            "spec": {"replicas": entry.obj["spec"]["replicas"]},
            "status": {"replicas": entry.obj["status"].get("replicas", 0), "selector": f"app={entry.name}"}}


def patcher(content_type: str, body: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda current: apply_patch(content_type, current, body)


def replacer(body: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda current: body


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise errors.bad_request(f"{name}: not a whole number: {value!r}") from None


def _path(obj: Any, *keys: str) -> Any:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def _without(obj: dict[str, Any], drop: dict[str, tuple[str, ...] | None]) -> dict[str, Any]:
    """``obj`` without the given top-level sections (None) or keys of sections."""
    out = dict(obj)
    for section, keys in drop.items():
        if keys is None:
            out.pop(section, None)
        elif isinstance(out.get(section), dict):
            out[section] = {k: v for k, v in out[section].items() if k not in keys}
    return out
