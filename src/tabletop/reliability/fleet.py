"""The fleet file format (``apiVersion: tabletop/v1``, ``kind: ReliabilityFleet``) and its loading.

Rates are written the way they are published: as a ``count`` of interruptions observed over a
``reference`` run (Llama 3's Table 5: 148 faulty GPUs in 54 days on 2,048 hosts) or as failures
``per_1000_node_days`` (Kokolis et al.'s r_f). Both become a rate per node and second, so a
fleet of another size or length scales them.

Defaults are those of Llama 3 405B pre-training (The Llama 3 Herd of Models, 2024, sec. 3.3.4):
16,384 GPUs in hosts of 8, a 54-day window. The recovery policy defaults (checkpoint interval and
write time, restart overhead, repair time) are not published there; they are the assumptions of
``scenarios/fleets/llama3-405b.yaml``, chosen so that they give the paper's "effective training
time above 90%", and that file states them. Detection defaults to half of the 5-minute
health-check interval of Meta's research clusters (Kokolis et al., HPCA 2025).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError

from tabletop.scenario.problems import InputError, PathPart, Problem, has_errors
from tabletop.scenario.types import Duration, Model, Name
from tabletop.scenario.validation import validate
from tabletop.scenario.yaml_source import Source, parse_yaml, read_file

DAY = 86400.0
HEALTH_CHECK = 300.0
"""Kokolis et al.: health checks run every 5 minutes on Meta's research clusters."""


class Metadata(Model):
    id: Name
    title: str
    source: str = ""
    """Where the figures come from (paper, section, table)."""


class Job(Model):
    """The training job: how many GPUs, in nodes of how many."""

    gpus: Annotated[int, Field(ge=1)] = 16384
    """Llama 3 405B: 16,384 H100 GPUs."""
    gpus_per_node: Annotated[int, Field(ge=1, le=16)] = 8
    """Llama 3 405B: 2,048 hosts x 8 GPUs."""


class Reference(Model):
    """The run the ``count`` rates were observed over."""

    days: Annotated[float, Field(gt=0)]
    nodes: Annotated[int, Field(ge=1)]


class Checkpoint(Model):
    interval: Annotated[Duration, Field(gt=0)] = 600.0
    """Training time between checkpoints (the write starts when it ends)."""
    write: Duration = 10.0
    """Time the job stops training to write one checkpoint."""


class FailureClass(Model):
    """One root cause of unexpected interruptions: a Poisson process on every node of the job."""

    cause: Name
    title: str = ""
    """How reports name it (default: the cause)."""
    count: Annotated[float, Field(ge=0)] | None = None
    """Interruptions observed over ``reference`` (its days on its nodes)."""
    per_1000_node_days: Annotated[float, Field(ge=0)] | None = None
    """Failures per 1,000 node-days (Kokolis et al.'s r_f)."""
    takes_out: Literal["node", "job"] = "node"
    """node: the node is lost until repaired and the job needs a replacement; job: the job crashes
    and restarts on the same nodes (a software bug, a timeout)."""
    detection: Duration | None = None
    """Time from the failure until the job is found stopped (default: the fleet's ``detection``)."""
    repair: Duration | None = None
    """Time a lost node takes to come back (default: the fleet's ``repair``)."""


class Planned(Model):
    """Planned interruptions (firmware upgrades, config or dataset updates): evenly spaced; the
    job writes a checkpoint before it stops, so no work is lost."""

    cause: Name
    title: str = ""
    count: Annotated[float, Field(gt=0)] | None = None
    """How many over ``reference.days`` (spaced evenly)."""
    every: Annotated[Duration, Field(gt=0)] | None = None
    """Or: one every this long."""
    downtime: Duration = 0.0
    """How long the planned work holds the job, before the restart."""


class ReliabilityFleet(Model):
    """A training job, the failures that interrupt it and how it recovers."""

    api_version: Annotated[Literal["tabletop/v1"], Field(alias="apiVersion")]
    kind: Literal["ReliabilityFleet"]
    metadata: Metadata
    job: Job = Job()
    days: Annotated[float, Field(gt=0, le=3650)] = 54.0
    """Days to simulate (Llama 3's snapshot: 54 days)."""
    reference: Reference | None = None
    """Needed by ``count`` rates: the days and nodes they were observed over."""
    checkpoint: Checkpoint = Checkpoint()
    restart: Duration = 240.0
    """Restart overhead u0: rescheduling, initialisation, loading the last checkpoint."""
    detection: Duration = HEALTH_CHECK / 2
    """Default detection time of a failure class: half the 5-minute health-check interval."""
    repair: Duration = 2 * DAY
    """Default time a lost node takes to be repaired and come back."""
    spare_nodes: Annotated[int, Field(ge=0)] | None = None
    """Nodes kept free to replace a lost one at once; the job waits for a repair when none is
    free. Absent: a replacement is always available (a large shared cluster)."""
    failures: list[FailureClass] = []
    planned: list[Planned] = []

    @property
    def nodes(self) -> int:
        return self.job.gpus // self.job.gpus_per_node

    def node_rate(self, failure: FailureClass) -> float:
        """Failures of this class per node and second."""
        if failure.per_1000_node_days is not None:
            return failure.per_1000_node_days / 1000 / DAY
        assert self.reference is not None and failure.count is not None  # checked on loading
        return failure.count / (self.reference.days * DAY * self.reference.nodes)

    def period(self, planned: Planned) -> float:
        """Seconds between two planned interruptions of this kind."""
        if planned.every is not None:
            return planned.every
        assert self.reference is not None and planned.count is not None  # checked on loading
        return self.reference.days * DAY / planned.count

    def title(self, cause: str) -> str:
        for item in [*self.failures, *self.planned]:
            if item.cause == cause:
                return item.title or item.cause
        return cause


def _cross_checks(fleet: ReliabilityFleet) -> Iterator[tuple[tuple[PathPart, ...], str]]:
    """What the model alone cannot say: (key path, what was expected)."""
    if fleet.job.gpus % fleet.job.gpus_per_node:
        yield ("job", "gpus"), f"expected a multiple of gpus_per_node ({fleet.job.gpus_per_node}), got {fleet.job.gpus}"
    seen: set[str] = set()
    counted_without_reference = 0
    groups: list[tuple[str, list[Any], str, str]] = [
        ("failures", list(fleet.failures), "count", "per_1000_node_days"),
        ("planned", list(fleet.planned), "count", "every"),
    ]
    for section, items, counted, other in groups:
        for index, item in enumerate(items):
            if item.cause in seen:
                yield (section, index, "cause"), f"cause {item.cause!r} is named twice; each cause is one line"
            seen.add(item.cause)
            given = [key for key in (counted, other) if getattr(item, key) is not None]
            if len(given) != 1:
                yield (section, index), f"expected exactly one of {counted!r} or {other!r}, got {len(given) or 'neither'}"
            elif given == ["count"] and fleet.reference is None:
                counted_without_reference += 1
                if counted_without_reference == 1:  # one answer for them all, at the first
                    yield (section, index, "count"), ("a count needs the top-level 'reference' (the days and nodes "
                                                      "it was observed over), e.g. reference: {days: 54, nodes: 2048}")


def check_fleet(source: Source, path: tuple[PathPart, ...] = ()) -> tuple[ReliabilityFleet | None, list[Problem]]:
    """The fleet at ``path`` of ``source`` and every problem of it, located in the file."""
    fleet, problems = validate(ReliabilityFleet, source, path)
    if fleet is None:
        return None, problems
    problems = [source.problem(path + where, message) for where, message in _cross_checks(fleet)]
    return (None if problems else fleet), problems


def load_fleet(path: str | Path) -> ReliabilityFleet:
    """Read and check a fleet file; raises InputError with all of its problems."""
    data, reason = read_file(Path(path))
    if data is None:
        raise InputError([Problem(str(path), 1, 1, "", reason or "cannot read the file")])
    source, problems = parse_yaml(data, str(path))
    fleet, found = check_fleet(source) if source is not None else (None, [])
    if fleet is None or has_errors(problems + found):
        raise InputError(problems + found)
    return fleet


def fleet_from_data(data: dict[str, Any], file: str = "<fleet data>") -> ReliabilityFleet:
    """The fleet of already parsed data (a sweep's grid point); raises InputError whose problems
    are located in the data written out as YAML under the name ``file``."""
    try:
        fleet = ReliabilityFleet.model_validate(data, by_alias=True, by_name=False)
    except ValidationError:
        fleet = None
    if fleet is not None and next(_cross_checks(fleet), None) is None:
        return fleet
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    source, problems = parse_yaml(text, file)
    found = check_fleet(source)[1] if source is not None else []
    raise InputError(problems + found)
