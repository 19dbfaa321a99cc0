"""Cross-reference checks: every name a scenario uses must name something that exists.

Each problem is located at the referring key. Names are looked up in the raw data of the
file, so a schema error in one section hides no reference problem elsewhere: a reference is
checked whenever both it and the names it can refer to are strings in the file.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Annotated, Any

from tabletop.durations import format_duration
from tabletop.scenario.faults import TARGET_KIND
from tabletop.scenario.fleet import Fleet, NodePool
from tabletop.scenario.expressions import check_rule_groups, conditions
from tabletop.scenario.model import Scenario
from tabletop.scenario.problems import Problem, format_path
from tabletop.scenario.raw import Path_, each, strings
from tabletop.scenario.validation import hint, validate
from tabletop.scenario.yaml_source import Source
from tabletop.sim.action_specs import ACTIONS

_DEFAULT_GPUS_PER_NODE = NodePool.model_fields["gpus_per_node"].default


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def no_such(kind: str, name: str, names: Sequence[str]) -> str:
    names = list(dict.fromkeys(names))
    kinds = kind[:-1] + "ies" if kind.endswith("y") else kind + "s"
    return f"no {kind} {name!r}{hint(name, names)}; {kinds}: {', '.join(names) or 'none'}"


# -- the fleet's objects --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pool:
    name: str
    nodes: int | None
    """None: not known (the file does not say it right)."""
    gpus_per_node: int | None


class Inventory:
    """The objects of a fleet (as raw data) that targets (``kind/name``) can name."""

    def __init__(self, fleet: Any) -> None:
        self.pools: dict[str, _Pool] = {}
        for _, pool in each(fleet, "node_pools", "*"):
            if isinstance(pool, dict) and isinstance(pool.get("name"), str):
                gpus = pool.get("gpus_per_node", _DEFAULT_GPUS_PER_NODE)
                self.pools[pool["name"]] = _Pool(pool["name"], _whole(pool.get("nodes")), _whole(gpus))
        self.job_pools: dict[str, Any] = {
            job["name"]: job.get("node_pool")
            for _, job in each(fleet, "training_jobs", "*")
            if isinstance(job, dict) and isinstance(job.get("name"), str)
        }
        self.names: dict[str, list[str]] = {
            "deployment": strings(fleet, "deployments", "*", "name"),
            "job": list(self.job_pools),
            "featurestore": strings(fleet, "feature_stores", "*", "name"),
            "pipeline": strings(fleet, "feature_pipelines", "*", "name"),
        }

    def node(self, name: str) -> tuple[_Pool, int] | None:
        """The pool and index of node ``<pool>-<index>``."""
        pool_name, _, index = name.rpartition("-")
        pool = self.pools.get(pool_name)
        if pool is None or not index.isdigit() or str(int(index)) != index:
            return None
        if pool.nodes is not None and int(index) >= pool.nodes:
            return None
        return pool, int(index)

    def matches(self, kind: str, pattern: str) -> bool:
        """Whether ``pattern`` (shell wildcards allowed) names at least one object of ``kind``."""
        if kind == "node":
            return self.node(pattern) is not None or any(_pool_matches(p, pattern) for p in self.pools.values())
        if kind == "pod":
            return _pod_matches(pattern, self.names["deployment"], self.names["job"])
        return any(fnmatch.fnmatchcase(name, pattern) for name in self.names.get(kind, []))

    def missing(self, kind: str, name: str) -> str:
        """Why ``kind/name`` names nothing, with the names there are."""
        if kind == "node":
            ranges = [_node_range(p) for p in self.pools.values()]
            pool = name.rpartition("-")[0]
            near = hint(pool, self.pools) if pool not in self.pools else ""
            return f"no node {name!r}{near}; nodes are {', '.join(ranges) or 'none'}"
        if kind == "pod":
            owners = self.names["deployment"] + self.names["job"]
            return (f"no pod matches {name!r}; pods are named <deployment>-<hash>-<suffix> or "
                    f"<job>-worker-<n> ({', '.join(owners) or 'none'})")
        return no_such(kind, name, self.names.get(kind, []))


def _node_range(pool: _Pool) -> str:
    if pool.nodes is None:
        return f"{pool.name}-<n>"
    return f"{pool.name}-0" + (f" to {pool.name}-{pool.nodes - 1}" if pool.nodes > 1 else "")


def _pool_matches(pool: _Pool, pattern: str) -> bool:
    if not any(c in pattern for c in "*?["):
        return False
    count = 1000 if pool.nodes is None else min(pool.nodes, 1000)
    return any(fnmatch.fnmatchcase(f"{pool.name}-{index}", pattern) for index in range(count))


def _pod_matches(pattern: str, deployments: Iterable[str], jobs: Iterable[str]) -> bool:
    """Pods are named ``<deployment>-<hash>-<suffix>`` (random) or ``<job>-worker-<n>``.

    A pattern counts as matching an owner's pods when it matches a sample pod name, or when
    the pattern with its wildcards filled in has the pod-name form for that owner.
    """
    filled = [re.sub(r"\[[^]]*]|[*?]", fill, pattern) for fill in ("a", "a-a")]
    owners = [(name, f"{name}-6d4cf56db6-x7k2p", rf"{re.escape(name)}-[a-z0-9]+-[a-z0-9]+") for name in deployments]
    owners += [(name, f"{name}-worker-0", rf"{re.escape(name)}-worker-\d+") for name in jobs]
    return any(
        fnmatch.fnmatchcase(sample, pattern) or any(re.fullmatch(form, text) for text in filled)
        for _, sample, form in owners
    )


# -- the checks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sections:
    """The sections of a scenario that the typed checks need; None where missing or invalid."""

    metadata: Any = None
    fleet: Any = None
    faults: Any = None
    injects: Any = None
    experiments: Any = None
    rubric: Any = None

    @classmethod
    def of(cls, scenario: Scenario) -> Sections:
        return cls(**{f.name: getattr(scenario, f.name) for f in fields(cls)})

    @classmethod
    def from_source(cls, source: Source) -> Sections:
        """Each section validated on its own (its problems are left to the whole-file check)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            info = Scenario.model_fields[f.name]
            key = info.alias or f.name
            if key not in source.data:
                values[f.name] = None if info.is_required() else info.get_default(call_default_factory=True)
                continue
            tp = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
            values[f.name] = validate(tp, source, (key,))[0]
        return cls(**values)


_UNIQUE: tuple[tuple[Path_, str], ...] = (
    (("fleet", "node_pools"), "name"),
    (("fleet", "deployments"), "name"),
    (("fleet", "training_jobs"), "name"),
    (("fleet", "feature_stores"), "name"),
    (("fleet", "feature_pipelines"), "name"),
    (("faults",), "id"),
    (("experiments",), "id"),
    (("slos",), "id"),
    (("participants",), "id"),
    (("rotas",), "id"),
    (("escalation_policies",), "id"),
    (("injects",), "id"),
)
"""Lists whose items need distinct names: (path of the list, key of the name)."""

_POOLS = ("fleet", "node_pools", "*", "name")
_STORES = ("fleet", "feature_stores", "*", "name")
_POLICIES = ("escalation_policies", "*", "id")
_REFERENCES: tuple[tuple[Path_, Path_, str], ...] = (
    (("fleet", "deployments", "*", "node_pool"), _POOLS, "node pool"),
    (("fleet", "training_jobs", "*", "node_pool"), _POOLS, "node pool"),
    (("fleet", "deployments", "*", "depends_on", "*"), _STORES, "feature store"),
    (("fleet", "feature_pipelines", "*", "store"), _STORES, "feature store"),
    (("rotas", "*", "members", "*"), ("participants", "*", "id"), "participant"),
    (("routing", "policy"), _POLICIES, "escalation policy"),
    (("routing", "routes", "*", "policy"), _POLICIES, "escalation policy"),
    (("slos", "*", "deployment"), ("fleet", "deployments", "*", "name"), "deployment"),
)
"""(pattern of the referring values, pattern of the names they refer to, kind of name)."""


def check_references(source: Source, sections: Sections) -> list[Problem]:
    """All cross-reference problems of a scenario, and the warnings of its valid sections."""
    data = source.data
    problems = _unique_names(source)
    for referring, named, kind in _REFERENCES:
        names = strings(data, *named)
        for path, name in each(data, *referring):
            if isinstance(name, str) and name not in names:
                problems.append(source.problem(path, no_such(kind, name, names)))
    problems += _notify_targets(source)
    problems += _causes(source)
    inventory = Inventory(data.get("fleet"))
    problems += _fault_targets(source, inventory)
    problems += _action_refs(source, inventory)
    problems += conditions(source)
    problems += check_rule_groups(source, ("rules", "groups"))
    if sections.fleet is not None:
        problems += _gpu_demand(sections.fleet, source)
    if sections.metadata is not None:
        problems += _after_the_end(sections, source)
    return problems


def _unique_names(source: Source) -> list[Problem]:
    problems: list[Problem] = []
    for path, key in _UNIQUE:
        seen: dict[str, Path_] = {}
        for where, value in each(source.data, *path, "*", key):
            if not isinstance(value, str):
                continue
            if value in seen:
                line = source.position(seen[value])[0]
                message = f"duplicate {key} {value!r} (first used by {format_path(seen[value][:-1])}, line {line})"
                problems.append(source.problem(where, message))
            else:
                seen[value] = where
    return problems


def _causes(source: Source) -> list[Problem]:
    """A scenario injects something (faults or experiments, with distinct ids), and its root
    cause names one of them."""
    data = source.data
    problems: list[Problem] = []
    faults = list(dict.fromkeys(strings(data, "faults", "*", "id")))
    experiments = list(dict.fromkeys(strings(data, "experiments", "*", "id")))
    if not data.get("experiments"):  # without experiments, faults are required as before
        if "faults" not in data:
            problems.append(source.problem((), "missing required key 'faults'", key=True))
        elif isinstance(data["faults"], list) and not data["faults"]:
            problems.append(source.problem(("faults",), "expected at least 1 item, got 0 items "
                                                        "(a scenario needs faults or Chaos Toolkit experiments)"))
    for path, name in each(data, "experiments", "*", "id"):
        if isinstance(name, str) and name in faults:
            problems.append(source.problem(path, f"{name!r} is also the id of a fault; faults and experiments need distinct ids"))
    for path, name in each(data, "ground_truth", "root_cause", "fault"):
        if isinstance(name, str) and name not in faults + experiments:
            kind = "fault or experiment" if experiments else "fault"
            names = faults + experiments
            problems.append(source.problem(path, f"no {kind} {name!r}{hint(name, names)}; "
                                                 f"faults: {', '.join(faults) or 'none'}"
                                                 + (f"; experiments: {', '.join(experiments)}" if experiments else "")))
    return problems


def _notify_targets(source: Source) -> list[Problem]:
    known = {"rota": strings(source.data, "rotas", "*", "id"), "participant": strings(source.data, "participants", "*", "id")}
    problems: list[Problem] = []
    for path, target in each(source.data, "escalation_policies", "*", "levels", "*", "notify", "*"):
        kind, _, name = target.partition("/") if isinstance(target, str) else ("", "", "")
        if kind in known and name and name not in known[kind]:
            problems.append(source.problem(path, no_such(kind, name, known[kind])))
    return problems


def _fault_targets(source: Source, inventory: Inventory) -> list[Problem]:
    problems: list[Problem] = []
    for path, fault in each(source.data, "faults", "*"):
        fault_kind = fault.get("kind") if isinstance(fault, dict) else None
        if not isinstance(fault_kind, str) or fault_kind not in TARGET_KIND or not isinstance(fault.get("target"), str):
            continue
        needed = TARGET_KIND[fault_kind]
        kind, slash, name = fault["target"].partition("/")
        where = path + ("target",)
        if not slash or not name:
            problems.append(source.problem(where, f"expected {needed}/NAME, got {fault['target']!r}"))
        elif kind != needed:
            problems.append(source.problem(where, f"a {fault_kind} fault targets a {needed} ({needed}/NAME), not a {kind}"))
        elif kind == "node":
            node = inventory.node(name)
            if node is None:
                problems.append(source.problem(where, inventory.missing("node", name)))
            else:
                problems += _gpu_indices(source, path, fault, node[0], name)
        elif name not in inventory.names[kind]:
            problems.append(source.problem(where, inventory.missing(kind, name)))
        elif fault_kind == "nccl_hang" and isinstance(fault.get("node"), str):
            problems += _nccl_node(source, path + ("node",), fault["node"], inventory.job_pools.get(name), inventory)
    return problems


def _gpu_indices(source: Source, path: Path_, fault: dict[str, Any], pool: _Pool, node: str) -> list[Problem]:
    count = pool.gpus_per_node
    if count is None:
        return []
    indices = list(each(fault, "gpus", "*")) + list(each(fault, "gpu"))
    return [
        source.problem(path + where, f"node {node} has {count} GPUs (0 to {count - 1}); there is no GPU {gpu}")
        for where, gpu in indices
        if _whole(gpu) is not None and gpu >= count
    ]


def _nccl_node(source: Source, where: Path_, node: str, job_pool: Any, inventory: Inventory) -> list[Problem]:
    found = inventory.node(node)
    if found is None:
        return [source.problem(where, inventory.missing("node", node))]
    if isinstance(job_pool, str) and found[0].name != job_pool:
        return [source.problem(where, f"node {node} is not in pool {job_pool!r}, where the job runs")]
    return []


def _action_refs(source: Source, inventory: Inventory) -> list[Problem]:
    """``ground_truth.fixes`` and ``harmful``: known actions on targets that match something."""
    problems: list[Problem] = []
    for group in ("fixes", "harmful"):
        for path, ref in each(source.data, "ground_truth", group, "*"):
            action, target = (ref.get("action"), ref.get("target")) if isinstance(ref, dict) else (None, None)
            if not isinstance(action, str):
                continue
            spec = ACTIONS.get(action)
            if spec is None:
                message = f"unknown action {action!r}{hint(action, ACTIONS)}; actions: {', '.join(ACTIONS)}"
                problems.append(source.problem(path + ("action",), message))
                continue
            if not isinstance(target, str):
                continue
            kind, slash, pattern = target.partition("/")
            if not slash or not pattern or kind != spec.target_kind:
                message = f"{action} takes a {spec.target_kind} target ({spec.target_kind}/NAME), got {target!r}"
                problems.append(source.problem(path + ("target",), message))
            elif not inventory.matches(kind, pattern):
                problems.append(source.problem(path + ("target",), inventory.missing(kind, pattern)))
    return problems


def _gpu_demand(fleet: Fleet, source: Source) -> list[Problem]:
    """Warnings for workloads that cannot all be scheduled at the start of the drill."""
    problems: list[Problem] = []
    pools = {p.name: p for p in fleet.node_pools}
    demand = dict.fromkeys(pools, 0)
    for index, deployment in enumerate(fleet.deployments):
        pool = pools.get(deployment.node_pool)
        if pool is None:
            continue
        demand[pool.name] += deployment.replicas * deployment.gpus_per_replica
        if deployment.gpus_per_replica > pool.gpus_per_node:
            message = (f"a replica needs {deployment.gpus_per_replica} GPUs but nodes of pool {pool.name!r} have "
                       f"{pool.gpus_per_node}; its pods can never be scheduled")
            problems.append(source.problem(("fleet", "deployments", index, "gpus_per_replica"), message, severity="warning"))
    for index, job in enumerate(fleet.training_jobs):
        pool = pools.get(job.node_pool)
        if pool is None:
            continue
        demand[pool.name] += job.gang_size * pool.gpus_per_node
        if job.gang_size > pool.nodes:
            message = f"the gang needs {job.gang_size} nodes but pool {pool.name!r} has {pool.nodes}; the job can never start"
            problems.append(source.problem(("fleet", "training_jobs", index, "gang_size"), message, severity="warning"))
    for index, pool in enumerate(fleet.node_pools):
        have = pool.nodes * pool.gpus_per_node
        if demand[pool.name] > have:
            message = (f"the workloads on this pool need {demand[pool.name]} GPUs at the start but it has {have}; "
                       "some pods will stay Pending")
            problems.append(source.problem(("fleet", "node_pools", index), message, severity="warning"))
    return problems


def _after_the_end(s: Sections, source: Source) -> list[Problem]:
    """Warnings for faults, injects and experiments that cannot happen before the drill ends."""
    problems: list[Problem] = []
    for section in ("faults", "injects", "experiments"):
        for index, item in enumerate(getattr(s, section) or []):
            when = item.when
            key, moment = ("at", when.at) if when.at is not None else ("after", when.after)
            if moment > s.metadata.duration:
                message = f"happens after the drill ends (metadata.duration is {format_duration(s.metadata.duration)})"
                problems.append(source.problem((section, index, "when", key), message, severity="warning"))
    return problems
