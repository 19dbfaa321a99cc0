"""What a measure gets (the drill's facts) and what it returns (a rating with evidence)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from tabletop.drill.timeline import Event
from tabletop.durations import format_clock, format_duration
from tabletop.scenario.chaos import root_cause
from tabletop.scenario.faults import FaultBase
from tabletop.scenario.model import Scenario
from tabletop.scenario.runbook import Runbook
from tabletop.scoring.milestones import Milestones, find_milestones
from tabletop.scoring.rubric import Rating


@dataclass(frozen=True)
class Assessment:
    rating: Rating
    value: float | None
    """The measured number (seconds, percent, count, ...); None when nothing could be measured."""
    summary: str
    """One sentence for the trainee, with the numbers and drill times behind the rating."""
    evidence: list[int]
    """Seqs of the events that justify the rating; empty only when it rates something that never happened."""


@dataclass(frozen=True)
class Context:
    scenario: Scenario
    runbooks: Sequence[Runbook]
    events: Sequence[Event]

    @cached_property
    def milestones(self) -> Milestones:
        return find_milestones(self.events, self.scenario.ground_truth.root_cause.fault)

    @cached_property
    def root_fault(self) -> FaultBase:
        """The root-cause fault (an experiment named as the root cause stands in as one)."""
        return root_cause(self.scenario)

    def of_kind(self, *kinds: str) -> list[Event]:
        return [e for e in self.events if e.kind in kinds]

    def first(self, kind: str, **data: Any) -> Event | None:
        """The first event of ``kind`` whose data has all the given values."""
        return next((e for e in self.events if e.kind == kind and all(e.data.get(k) == v for k, v in data.items())), None)

    @cached_property
    def ended(self) -> Event | None:
        """``drill.ended``; None when the drill was killed."""
        return self.first("drill.ended")

    @cached_property
    def close(self) -> Event | None:
        """Where the incident stops being run: its resolution, else the drill's end (or last event)."""
        return self.first("incident.resolved") or self.ended or (self.events[-1] if self.events else None)


def clock(t: float) -> str:
    return format_clock(t)


def took(start: float, end: float) -> float:
    """Seconds between two drill times, to the millisecond the timeline records."""
    return round(end - start, 3)


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 page``, ``2 pages``; ``many`` for irregular plurals."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def span(seconds: float) -> str:
    return format_duration(seconds)


def rate(value: float, limits: tuple[float, float, float]) -> Rating:
    """P up to limits[0], S up to limits[1], M up to limits[2], else U."""
    for rating, limit in zip(("P", "S", "M"), limits):
        if value <= limit + 1e-9:
            return rating  # type: ignore[return-value]
    return "U"
