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


def not_applicable(summary: str, evidence: list[int] | None = None) -> Assessment:
    """A criterion the drill gave no occasion for; the summary says why."""
    return Assessment("N/A", None, summary, evidence or [])


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
    def incident_start(self) -> Event | None:
        """When the incident began for the team: the first page; in a drill that paged nobody,
        the first signal anyone watching could see (a firing alert, an SLO breach), else the
        start of the impact. None when there was no incident at all."""
        page = self.first("page.triggered")
        if page is not None:
            return page
        signal = next((e for e in self.events if e.kind in ("alert.firing", "slo.breach_start")), None)
        if signal is not None:
            return signal
        mark = self.milestones.impact_start
        return next((e for e in self.events if e.seq == mark.seq), None) if mark else None

    @cached_property
    def close(self) -> Event | None:
        """Where the incident stops being run: its resolution, else the drill's end (or last event)."""
        return self.first("incident.resolved") or self.ended or (self.events[-1] if self.events else None)


def start_label(event: Event) -> str:
    """What an incident start (``Context.incident_start``) or acknowledgement was, for summaries."""
    if event.kind == "page.acknowledged":
        return f"the first acknowledgement ({clock(event.t)})"
    if event.kind == "page.triggered":
        return f"the first page ({clock(event.t)})"
    if event.kind == "alert.firing":
        return f"the first firing alert, {event.data.get('alertname')} ({clock(event.t)}; no page was sent)"
    if event.kind == "slo.breach_start":
        return f"the first SLO breach ({clock(event.t)}; no page was sent)"
    return f"the start of the impact ({clock(event.t)}; no page was sent)"


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
