"""A sweep's plan: every grid point's document checked before any run starts, and its runs.

Each grid point is the scenario (or fleet) file's data with the parameters' values set at their
paths, checked by the same code that loads the file, against the file's own line positions.
A problem it has is reported at the sweep file's line of the value that caused it, quoting the
scenario's own located problem; so is a path that leads nowhere and a metric that does not exist.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Protocol

from tabletop.scenario.problems import InputError, PathPart, Problem, format_path, has_errors, sorted_problems
from tabletop.scenario.validation import hint
from tabletop.scenario.yaml_source import Source, parse_yaml, read_file
from tabletop.sweep import metrics
from tabletop.sweep.paths import PathError, assign, parse_path, resolve
from tabletop.sweep.run import DrillTarget, FleetTarget, Target
from tabletop.sweep.spec import SweepSpec, read_spec
from tabletop.sweep.store import run_key

Kind = Literal["scenario", "fleet"]
PROBE_DAYS = 1.0
"""A fleet's columns are those of a short probe run (its causes, whatever the fleet names)."""


@dataclass(frozen=True)
class Run:
    point: int
    """Index of the grid point in ``Plan.points``."""
    parameters: dict[str, Any]
    seed: int

    @property
    def key(self) -> str:
        return run_key(self.parameters, self.seed)


@dataclass
class Plan:
    spec: SweepSpec
    path: Path
    spec_text: str
    kind: Kind
    document: Path
    parameters: list[str]
    """Parameter column names, in spec order."""
    columns: list[str]
    """Metric columns, in order."""
    points: list[dict[str, Any]]
    """Each grid point's parameter values (column → value as written)."""
    targets: list[Target]
    runs: list[Run]
    identity: dict[str, Any]
    """What rows of another sweep must share to count for this one (see ``store``)."""
    warnings: list[Problem] = field(default_factory=list)
    closed_forms: list[dict[str, float | None]] = field(default_factory=list)
    """Fleets: each grid point's closed forms (``tabletop.reliability.theory``); drills: none."""


def plan_sweep(path: Path) -> Plan:
    """Read the sweep file and check every grid point; raises InputError with every problem."""
    spec, source, problems = read_spec(path)
    kind: Kind = "scenario" if spec.scenario is not None else "fleet"
    document = Path(os.path.normpath(path.parent / str(spec.scenario if kind == "scenario" else spec.fleet)))
    raw, reason = read_file(document)
    if raw is None:
        raise InputError(problems + [source.problem((kind,), f"{reason}: {document}")])
    base, found = parse_yaml(raw, str(document))
    problems += found
    if base is None or has_errors(found):
        raise InputError(problems)
    check: _Check = _DrillCheck(document, raw, spec, source) if kind == "scenario" else _FleetCheck(raw, spec)
    base_target, found = check(base, ())
    if base_target is None:
        raise InputError(problems + found)
    known = set(found)
    paths, found = _resolve_parameters(spec, source, base)
    columns, more = _columns(spec, source, kind, check.columns(base_target))
    problems += found + more
    if has_errors(found):  # without every path, the grid points cannot be made
        raise InputError(problems)
    points = _points(spec)
    targets: list[Target] = []
    for values in points:
        data = copy.deepcopy(base.data)
        for where, (_, value) in zip(paths, values):
            assign(data, where, value)
        target, found = check(Source(base.file, base.text, data, base.spans), tuple(columns))
        problems += _at_values([p for p in found if p not in known], spec, source, paths, values)
        targets += [target] if target is not None else []
    if has_errors(problems):
        raise InputError(problems)
    names = [p.column for p in spec.parameters]
    rows = [dict(zip(names, (value for _, value in values))) for values in points]
    runs = [Run(i, point, seed) for i, point in enumerate(rows) for seed in spec.seeds]
    identity = {
        "kind": kind,
        "document": str(document),
        "document_sha256": check.digest(base_target),
        "responder": check.responder(),
        "parameters": [{"name": p.column, "path": p.path} for p in spec.parameters],
        "metrics": columns,
        "days": spec.days,
    }
    closed = [check.closed_form(target) for target in targets] if kind == "fleet" else []
    return Plan(spec, path, source.text, kind, document, names, columns, rows, targets, runs, identity,
                sorted_problems(problems), closed)


def _points(spec: SweepSpec) -> list[list[tuple[int, Any]]]:
    """Each grid point as (value index, value) per parameter."""
    lists = [list(enumerate(p.values)) for p in spec.parameters]
    if spec.combine == "zip":
        return [list(values) for values in zip(*lists)] if lists else [[]]
    return [list(values) for values in itertools.product(*lists)]


def _resolve_parameters(spec: SweepSpec, source: Source, base: Source) -> tuple[list[tuple[PathPart, ...]], list[Problem]]:
    resolved: list[tuple[PathPart, ...]] = []
    problems: list[Problem] = []
    for index, parameter in enumerate(spec.parameters):
        where = ("parameters", index, "path")
        try:
            concrete = resolve(base.data, parse_path(parameter.path), base.file)
        except PathError as error:
            problems.append(source.problem(where, str(error)))
            resolved.append(())
            continue
        if concrete in resolved:
            other = resolved.index(concrete)
            problems.append(source.problem(where, f"sets {format_path(concrete)}, which parameters[{other}] sets already"))
        resolved.append(concrete)
    return resolved, problems


def _columns(spec: SweepSpec, source: Source, kind: Kind, available: list[str]) -> tuple[list[str], list[Problem]]:
    """The columns the spec's metrics (or the default ones) select, and each name that selects none."""
    requested = spec.metrics or list(metrics.DEFAULT_SCENARIO if kind == "scenario" else metrics.DEFAULT_FLEET)
    columns: list[str] = []
    problems: list[Problem] = []
    for index, name in enumerate(requested):
        found = metrics.selected(name, available)
        columns += [c for c in found if c not in columns]
        if not found:
            problems.append(source.problem(("metrics", index) if spec.metrics else (), _unknown(name, kind, available)))
    return columns, problems


def _unknown(name: str, kind: Kind, available: list[str]) -> str:
    parent = name.split(".", 1)[0]
    family = metrics.selected(parent, available)
    if parent != name and family:
        return f"unknown metric {name!r}{hint(name, family)}; {parent} has {', '.join(family)}"
    listed = f"metrics here: {', '.join(metrics.names(available))}"
    if parent in (metrics.FLEET_METRICS if kind == "scenario" else metrics.SCENARIO_METRICS):
        return f"{name!r} is a {'fleet' if kind == 'scenario' else 'drill'} metric; this sweep runs a {kind}; {listed}"
    return f"unknown metric {name!r}{hint(name, available + metrics.names(available))}; {listed}"


def _at_values(found: list[Problem], spec: SweepSpec, source: Source, paths: list[tuple[PathPart, ...]],
               values: list[tuple[int, Any]]) -> list[Problem]:
    """The problems of one grid point's document, each at the sweep file's line of the value
    that caused it (of the grid point's first value when no single parameter did)."""
    located: list[Problem] = []
    for problem in found:
        owner = next((i for i, path in enumerate(paths) if _under(problem.path, format_path(path))), None)
        if owner is None and not values:
            located.append(problem)
            continue
        verb = "warns about" if problem.severity == "warning" else "rejects"
        quoted = replace(problem, severity="error").format()
        if owner is not None:
            what = f"the {_document(spec)} {verb} {values[owner][1]!r}"
        else:
            setting = ", ".join(f"{p.column}={v!r}" for p, (_, v) in zip(spec.parameters, values))
            what = f"with {setting}, the {_document(spec)} {verb} it"
        index = owner or 0
        located.append(source.problem(("parameters", index, "values", values[index][0]),
                                      f"{what}: {quoted}", severity=problem.severity))
    return located


def _document(spec: SweepSpec) -> str:
    return "scenario" if spec.scenario is not None else "fleet"


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((prefix + ".", prefix + "["))


class _Check(Protocol):
    def __call__(self, doc: Source, columns: tuple[str, ...]) -> tuple[Target | None, list[Problem]]:
        """The grid point's target and its problems (warnings included)."""

    def columns(self, target: Any) -> list[str]:
        """Every column a run of ``target`` reports."""

    def digest(self, target: Any) -> str:
        """Digest of the document and every file it refers to."""

    def responder(self) -> str | None:
        """Who works the drill, as ``store`` compares it."""

    def closed_form(self, target: Any) -> dict[str, float | None]:
        """What the closed forms predict for ``target``."""


class _DrillCheck:
    """A grid point's scenario loaded as ``tabletop.scenario.loader`` loads the file."""

    def __init__(self, document: Path, raw: bytes, spec: SweepSpec, source: Source) -> None:
        self.document, self.raw, self.spec, self.source = document, raw, spec, source
        self.script = None if spec.responder in ("expert", "novice") else Path(source.file).parent / spec.responder

    def __call__(self, doc: Source, columns: tuple[str, ...]) -> tuple[Target | None, list[Problem]]:
        from tabletop.scenario.loader import load_script, scenario_from_source

        loaded, problems = scenario_from_source(self.document, self.raw, doc)
        if loaded is None or has_errors(problems):
            return None, problems
        responder: Any = self.spec.responder
        if self.script is not None:
            if not self.script.is_file():
                message = f"expected expert, novice or a responder script; no file {self.script}"
                return None, [self.source.problem(("responder",), message)]
            try:
                responder = load_script(self.script, loaded.scenario)
            except InputError as error:
                return None, error.problems
        return DrillTarget(loaded, responder, columns), problems

    def columns(self, target: Any) -> list[str]:
        return metrics.scenario_columns(target.loaded)

    def digest(self, target: Any) -> str:
        return str(target.loaded.sha256)

    def closed_form(self, target: Any) -> dict[str, float | None]:
        return {}

    def responder(self) -> str | None:
        if self.script is None:
            return self.spec.responder
        return f"{self.spec.responder} sha256:{hashlib.sha256(self.script.read_bytes()).hexdigest()}"


class _FleetCheck:
    """A grid point's fleet checked as ``tabletop.reliability.fleet`` checks the file."""

    def __init__(self, raw: bytes, spec: SweepSpec) -> None:
        self.raw, self.spec = raw, spec

    def __call__(self, doc: Source, columns: tuple[str, ...]) -> tuple[Target | None, list[Problem]]:
        from tabletop.reliability.fleet import check_fleet

        fleet, problems = check_fleet(doc)
        if fleet is None or has_errors(problems):
            return None, problems
        return FleetTarget(doc.data, self.spec.days, columns), problems

    def columns(self, target: Any) -> list[str]:
        from tabletop.reliability.run import simulate_fleet

        return list(simulate_fleet(target.fleet, days=PROBE_DAYS, seed=0))

    def digest(self, target: Any) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    def responder(self) -> str | None:
        return None

    def closed_form(self, target: Any) -> dict[str, float | None]:
        """Kokolis et al.'s E[ETTR], the job MTTF 1/(N r) and Young's and Daly's checkpoint intervals."""
        from tabletop.reliability import theory
        from tabletop.reliability.fleet import fleet_from_data

        fleet = fleet_from_data(target.fleet)
        mttf = theory.job_mttf(fleet)
        return {
            "ettr": theory.expected_ettr(fleet),
            "job_mttf_unexpected_hours": None if mttf is None else mttf / 3600,
            "young_interval_seconds": theory.young_interval(fleet),
            "daly_interval_seconds": theory.daly_interval(fleet),
        }
