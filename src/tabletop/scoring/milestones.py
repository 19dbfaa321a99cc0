"""Incident milestones (impact begins, detected, paged, ...) derived from the timeline.

Scoring and the postmortem read these instead of re-deriving them, so both agree on when
the incident started and ended.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tabletop.drill.command_line import CHAOS
from tabletop.drill.timeline import Event

LABELS: dict[str, str] = {
    "impact_start": "Impact begins",
    "detected": "Detected",
    "paged": "Paged",
    "acknowledged": "Acknowledged",
    "mitigated": "Mitigated",
    "resolved": "Resolved",
}
"""Milestone name → label, in incident order."""


@dataclass(frozen=True)
class Mark:
    """When a milestone was reached and the event that establishes it."""

    t: float
    seq: int


@dataclass(frozen=True)
class Milestones:
    impact_start: Mark | None
    detected: Mark | None
    paged: Mark | None
    acknowledged: Mark | None
    mitigated: Mark | None
    """Customer impact ended for good (None while it lasts or when it cannot be told)."""
    resolved: Mark | None

    def reached(self) -> list[tuple[str, Mark]]:
        """(name, mark) of the milestones reached, in ``LABELS`` order."""
        marks = ((name, getattr(self, name)) for name in LABELS)
        return [(name, mark) for name, mark in marks if mark is not None]


def _first(events: Sequence[Event], kind: str) -> Mark | None:
    event = next((e for e in events if e.kind == kind), None)
    return Mark(event.t, event.seq) if event else None


def _mitigated(events: Sequence[Event], root_cause_fault: str) -> Mark | None:
    """When the impact ended for good: the last breach end when no breach stays open, or the
    root fault's mitigation if that came later (or there were no breaches)."""
    open_breaches: set[str] = set()
    last_end: Event | None = None
    breached = False
    for event in events:
        if event.kind == "slo.breach_start":
            breached = True
            open_breaches.add(event.data.get("slo", ""))
        elif event.kind == "slo.breach_end":
            open_breaches.discard(event.data.get("slo", ""))
            last_end = event
    fixed = next((e for e in events if e.kind == "fault.mitigated" and e.data.get("fault") == root_cause_fault), None)
    if breached:
        if last_end is None or open_breaches:
            return None
        latest = fixed if fixed is not None and fixed.seq > last_end.seq else last_end
        return Mark(latest.t, latest.seq)
    return Mark(fixed.t, fixed.seq) if fixed else None


def _experiment_acted(events: Sequence[Event]) -> Mark | None:
    """The first experiment start that went on to act: not one a headless run left unrun, nor
    one refused (a dry run changes nothing)."""
    idle = {e.data.get("experiment") for e in events
            if e.kind == "chaos.experiment.refused" or (e.kind == "chaos.experiment.ended" and e.data.get("status") == "not_run")}
    started = next((e for e in events if e.kind == "chaos.experiment.started" and e.data.get("experiment") not in idle), None)
    return Mark(started.t, started.seq) if started else None


def _impact_start(events: Sequence[Event]) -> Mark | None:
    """The first SLO breach that began before anyone changed the fleet (a breach the team's own
    changes set off says nothing of when the fault's impact began), else the first fault."""
    changed = next((e.seq for e in events if e.kind == "mitigation.applied" and e.actor != CHAOS), None)
    breach = next((e for e in events if e.kind == "slo.breach_start"), None)
    if breach is not None and (changed is None or breach.seq < changed):
        return Mark(breach.t, breach.seq)
    return _first(events, "fault.injected") or _experiment_acted(events) or (Mark(breach.t, breach.seq) if breach else None)


def find_milestones(events: Sequence[Event], root_cause_fault: str) -> Milestones:
    return Milestones(
        impact_start=_impact_start(events),
        detected=_first(events, "alert.firing"),
        paged=_first(events, "page.triggered"),
        acknowledged=_first(events, "page.acknowledged"),
        mitigated=_mitigated(events, root_cause_fault),
        resolved=_first(events, "incident.resolved"),
    )
