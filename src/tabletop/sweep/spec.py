"""The sweep file (``apiVersion: tabletop/v1``, ``kind: Sweep``)::

    apiVersion: tabletop/v1
    kind: Sweep
    scenario: ../serving-gpu-node-failure.yaml     # or  fleet: ../fleets/llama3-405b.yaml
    responder: novice                              # expert | novice | a responder script (scenarios)
    parameters:
      - name: ack_timeout                          # the column's name (default: the path)
        path: escalation_policies[id=serving-oncall].levels[0].ack_timeout
        values: [2m, 5m, 10m, 15m]
    combine: grid                                  # every combination; zip: the i-th values together
    seeds: 1-20                                    # or a list: [1, 2, 3] or ["1-10", 42]
    metrics: [score, time_to_acknowledge, time_to_mitigate, slo_budget_spent]
    days: 54                                       # fleets: the days simulated (default: the fleet's)

Paths are relative to the sweep file.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from tabletop.scenario.problems import InputError, Problem, has_errors
from tabletop.scenario.types import Model
from tabletop.scenario.validation import validate
from tabletop.scenario.yaml_source import Source, parse_yaml, read_file

_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
MAX_SEEDS = 1_000_000


def _seeds(value: Any) -> Any:
    items = value if isinstance(value, list) else [value]
    seeds: list[int] = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool) and item >= 0:
            seeds.append(item)
            continue
        found = _RANGE.match(item) if isinstance(item, str) else None
        if found is None:
            raise ValueError(f"expected seeds as a list of whole numbers or ranges such as 1-20, got {item!r}")
        first, last = int(found.group(1)), int(found.group(2))
        if last < first or last - first >= MAX_SEEDS:
            raise ValueError(f"the range {item!r} must run from a seed to a later one, at most {MAX_SEEDS:,} seeds")
        seeds.extend(range(first, last + 1))
    if not seeds:
        raise ValueError("expected at least one seed")
    repeated = [seed for seed, times in Counter(seeds).items() if times > 1]
    if repeated:
        raise ValueError(f"seed {repeated[0]} is listed twice; each run needs its own seed")
    return tuple(seeds)


Seeds = Annotated[
    tuple[int, ...],
    BeforeValidator(_seeds),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": r"^\d+-\d+$"},
                              {"type": "array", "items": {"anyOf": [{"type": "integer", "minimum": 0},
                                                                    {"type": "string", "pattern": r"^\d+-\d+$"}]}}],
                    "description": "Seeds: a range such as 1-20, or a list of seeds and ranges"}),
]


class Parameter(Model):
    path: str
    """Where in the scenario or fleet document, e.g. ``fleet.deployments[name=chat-llm].replicas``."""
    values: Annotated[list[Any], Field(min_length=1)]
    """Values as they would be written there (durations as ``5m``)."""
    name: str | None = None
    """The column's name in the rows and the summary (default: the path)."""

    @property
    def column(self) -> str:
        return self.name or self.path


class SweepSpec(Model):
    api_version: Annotated[Literal["tabletop/v1"], Field(alias="apiVersion")]
    kind: Literal["Sweep"]
    scenario: str | None = None
    """A scenario file, relative to the sweep file."""
    fleet: str | None = None
    """Or a reliability fleet file (``kind: ReliabilityFleet``)."""
    parameters: list[Parameter] = []
    combine: Literal["grid", "zip"] = "grid"
    seeds: Seeds = (1,)
    responder: str = "expert"
    """Scenarios: expert, novice or a responder script (relative to the sweep file)."""
    metrics: Annotated[list[str], Field(min_length=1)] | None = None
    """What to collect (default: the headline metrics of a scenario or a fleet)."""
    days: Annotated[float, Field(gt=0)] | None = None
    """Fleets: days of training simulated per run (default: the fleet file's own)."""


def read_spec(path: Path) -> tuple[SweepSpec, Source, list[Problem]]:
    """The sweep file, checked on its own (``plan`` checks the scenario or fleet it names).

    Raises InputError when it cannot be read as a sweep at all; returns the other problems it
    has (warnings, or errors ``plan`` reports with its own)."""
    data, reason = read_file(path)
    if data is None:
        raise InputError([Problem(str(path), 1, 1, "", reason or "cannot read the file")])
    source, problems = parse_yaml(data, str(path))
    spec, found = validate(SweepSpec, source) if source is not None else (None, [])
    problems += found
    if spec is None or source is None or has_errors(problems):
        raise InputError(problems)
    if (spec.scenario is None) == (spec.fleet is None):
        message = "expected exactly one of 'scenario' (a drill) or 'fleet' (a reliability fleet)"
        raise InputError([source.problem((), message)])
    return spec, source, problems + _shape(spec, source)


def _shape(spec: SweepSpec, source: Source) -> list[Problem]:
    """What the model alone cannot say."""
    problems: list[Problem] = []
    if spec.fleet is not None and "responder" in source.data:
        message = "a fleet sweep has no responder (fleets run without people)"
        problems.append(source.problem(("responder",), message, key=True))
    if spec.scenario is not None and spec.days is not None:
        message = "'days' applies to fleet sweeps; a drill's length is metadata.duration"
        problems.append(source.problem(("days",), message, key=True))
    columns: dict[str, int] = {}
    for index, parameter in enumerate(spec.parameters):
        name = parameter.column
        if name == "seed" or name in columns:
            other = "the seed column" if name == "seed" else f"parameters[{columns[name]}]"
            where = ("parameters", index, "name" if parameter.name else "path")
            problems.append(source.problem(where, f"the column {name!r} is already {other}; give it another name"))
        columns.setdefault(name, index)
    if spec.combine == "zip" and len({len(p.values) for p in spec.parameters}) > 1:
        counts = ", ".join(str(len(p.values)) for p in spec.parameters)
        message = f"zip pairs the i-th values of every parameter, so each needs as many values (they have {counts})"
        problems.append(source.problem(("combine",), message))
    return problems
