"""Faults asked for while a drill runs (Chaos Toolkit's sim provider, the control API).

A request names a catalog ``kind``, a ``target`` (``kind/name``), the kind's ``parameters``, an
optional ``duration`` and ``id``. ``runtime_fault`` checks it with the scenario's own fault
models and against the fleet as it is now, exactly as ``tabletop validate`` checks a scenario's
faults, and answers either the fault (``when.at`` = now) or every problem at once as
``(field, message)`` pairs, e.g. ``("parameters.gpu", "node gpu-serve-2 has 8 GPUs (0 to 7);
there is no GPU 9")``. Ids are the caller's or ``chaos-<kind>-<n>``, the first n not used yet.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from tabletop.durations import parse_duration
from tabletop.scenario.faults import TARGET_KIND, Fault, FaultBase
from tabletop.scenario.validation import hint, validate
from tabletop.scenario.yaml_source import parse_yaml
from tabletop.sim.fleet import Fleet

Cause = tuple[str, str]
"""(field of the request, what is wrong with it)."""

FIELDS = ("kind", "target", "parameters", "duration", "id", "description")
"""Keys of a fault request."""
_BASE = frozenset(FaultBase.model_fields)
_KINDS: dict[str, Any] = {}
_UNKNOWN_KEY = re.compile(r"^unknown key '([^']*)'")
_MISSING_KEY = re.compile(r"^missing required key '([^']*)'")


class FaultRequestError(Exception):
    """The request cannot become a fault; ``causes`` are (field, message) pairs."""

    def __init__(self, causes: list[Cause]) -> None:
        super().__init__("; ".join(f"{f}: {m}" if f else m for f, m in causes))
        self.causes = causes


def kind_models() -> dict[str, Any]:
    """Fault kind → its model class."""
    if not _KINDS:
        for member in Fault.__origin__.__args__:  # type: ignore[attr-defined]
            _KINDS[member.model_fields["kind"].annotation.__args__[0]] = member
    return _KINDS


def parameters_of(kind: str) -> list[str]:
    """The parameters a kind takes beyond the common fields (``gpu``, ``xid`` for gpu_xid)."""
    model = kind_models().get(kind)
    return [] if model is None else [name for name in model.model_fields if name not in _BASE and name != "kind"]


def next_id(kind: str, taken: Iterable[str]) -> str:
    """``chaos-<kind>-<n>`` (underscores as dashes) with the smallest n not taken."""
    used = set(taken)
    base = f"chaos-{kind.replace('_', '-')}"
    n = 1
    while f"{base}-{n}" in used:
        n += 1
    return f"{base}-{n}"


def runtime_fault(request: Any, fleet: Fleet, taken: Iterable[str]) -> FaultBase:
    """The fault a request asks for, injectable now; raises FaultRequestError with every problem.

    ``taken`` are the fault ids already used in the drill (the scenario's and those injected)."""
    if not isinstance(request, dict):
        raise FaultRequestError([("", "expected a JSON object with kind, target and optionally parameters, duration, id, description")])
    causes: list[Cause] = []
    unknown = [key for key in request if key not in FIELDS]
    causes += [(key, f"unknown field{hint(key, FIELDS)}; a fault request has {', '.join(FIELDS)}") for key in unknown]
    kind = request.get("kind")
    parameters = request.get("parameters") or {}
    if not isinstance(parameters, dict):
        causes.append(("parameters", f"expected an object of the fault kind's parameters, got {type(parameters).__name__}"))
        parameters = {}
    for key in parameters:
        if key in _BASE or key == "kind":
            causes.append((f"parameters.{key}", f"{key!r} is a field of the request itself, not a parameter"))
    taken = set(taken)
    fault_id = request.get("id")
    if fault_id is None and isinstance(kind, str) and kind in TARGET_KIND:
        fault_id = next_id(kind, taken)
    elif isinstance(fault_id, str) and fault_id in taken:
        causes.append(("id", f"the drill already has a fault {fault_id!r}; choose another id or leave it out"))
    duration = request.get("duration")
    if isinstance(duration, str):
        try:
            duration = parse_duration(duration)
        except ValueError as error:
            causes.append(("duration", str(error)))
            duration = None
    if isinstance(duration, (int, float)) and not isinstance(duration, bool) and duration <= 0:
        causes.append(("duration", f"expected a duration longer than 0s, got {duration}"))
    if causes:
        raise FaultRequestError(causes)
    data = {key: value for key, value in parameters.items()}
    data.update({"id": fault_id if fault_id is not None else "fault", "kind": kind, "target": request.get("target"),
                 "when": {"at": fleet.now}, "description": request.get("description") or ""})
    if duration is not None:
        data["duration"] = duration
    source, problems = parse_yaml(json.dumps(data), "request")
    spec = None
    if source is not None:
        spec, problems = validate(Fault, source)
    causes += [_cause(p.path, p.message, kind) for p in problems]
    if spec is None:
        raise FaultRequestError(causes or [("", "not a fault")])
    causes += _against_fleet(spec, fleet)
    if causes:
        raise FaultRequestError(causes)
    return spec


def _cause(path: str, message: str, kind: Any) -> Cause:
    top = re.split(r"[.\[]", path, maxsplit=1)[0] if path else ""
    unknown = _UNKNOWN_KEY.match(message)
    if unknown:
        name = unknown.group(1)
        takes = parameters_of(str(kind))
        return (f"parameters.{name}", f"{kind} has no parameter {name!r}{hint(name, takes)}; "
                + (f"its parameters are {', '.join(takes)}" if takes else "it takes no parameters"))
    missing = _MISSING_KEY.match(message)
    if missing:
        name = missing.group(1)
        return (name if name in FIELDS else f"parameters.{name}", f"{kind} needs {name!r}")
    if top in FIELDS:
        return path, message
    return (f"parameters.{path}" if path else "parameters"), message


def _against_fleet(spec: FaultBase, fleet: Fleet) -> list[Cause]:
    """What ``tabletop validate`` checks of a scenario fault's target, against the live fleet."""
    kind = spec.kind  # type: ignore[attr-defined]
    needed = TARGET_KIND[kind]
    target_kind, slash, name = spec.target.partition("/")
    if not slash or not name:
        return [("target", f"expected {needed}/NAME, got {spec.target!r}")]
    if target_kind != needed:
        return [("target", f"a {kind} fault targets a {needed} ({needed}/NAME), not a {target_kind}")]
    found = fleet.lookup(spec.target)
    if found is None:
        names = sorted(_names(fleet, needed))
        return [("target", f"there is no {needed} {name!r}{hint(name, names)}"
                 + (f"; {needed}s: {', '.join(names[:12])}{' ...' if len(names) > 12 else ''}" if names else f"; the fleet has no {needed}s"))]
    causes: list[Cause] = []
    if needed == "node":
        count = len(found.gpus)
        gpus = getattr(spec, "gpus", None)
        indices = [("gpu", getattr(spec, "gpu", None))] + ([("gpus", g) for g in gpus] if isinstance(gpus, list) else [])
        for field, gpu in indices:
            if isinstance(gpu, int) and gpu >= count:
                causes.append((f"parameters.{field}", f"node {name} has {count} GPUs (0 to {count - 1}); there is no GPU {gpu}"))
    node = getattr(spec, "node", None)
    if kind == "nccl_hang" and node is not None:
        workers = sorted({p.node.name for p in found.pods if p.node is not None})
        if node not in workers:
            causes.append(("parameters.node", f"job {name} has no worker on node {node!r}"
                           + (f"; its workers run on {', '.join(workers)}" if workers else "")))
    return causes


def _names(fleet: Fleet, kind: str) -> Iterable[str]:
    table = {"node": fleet.nodes, "pod": fleet.pods, "deployment": fleet.deployments, "job": fleet.jobs,
             "featurestore": fleet.stores, "pipeline": fleet.pipelines}
    return table.get(kind, {}).keys()
