"""The incident of a recorded drill: what a responder's incident tool would hold, read off the timeline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from tabletop.drill.command_line import CHAOS
from tabletop.drill.timeline import Event, Header
from tabletop.drill.timeline_reader import RecordedTimeline
from tabletop.durations import format_clock
from tabletop.export.document import (
    Acknowledgement, Category, Drill, Entry, Incident, Moment, Page, Resolution, Role, Severity,
    SeverityChange, StatusUpdate, Term, Times,
)
from tabletop.scenario.model import Scenario
from tabletop.scoring.describe import describe
from tabletop.scoring.milestones import Mark, find_milestones

CATEGORIES: dict[str, Category] = {
    "alert.firing": "alert",
    "alert.resolved": "alert",
    "slo.breach_start": "impact",
    "slo.breach_end": "impact",
    "page.triggered": "page",
    "page.resolved": "page",
    "page.acknowledged": "acknowledgement",
    "page.escalated": "escalation",
    "page.reassigned": "reassignment",
    "page.handoff": "handoff",
    "role.assigned": "role",
    "severity.set": "severity",
    "note": "note",
    "hypothesis": "hypothesis",
    "mitigation.applied": "mitigation",
    "status.update": "status_update",
    "incident.resolved": "resolution",
}
"""The timeline event kinds the incident's timeline keeps, and what each is."""

DECLARED = frozenset({"role.assigned", "severity.set", "status.update", "incident.resolved"})
"""Kinds by which responders declare an incident even when nothing alerted."""


class NoIncident(ValueError):
    """The drill recorded nothing an incident tool would hold."""


class Clock:
    """Drill time → wall time in the drill's world, as the timeline writes ``at``."""

    def __init__(self, start: str) -> None:
        self.start = datetime.fromisoformat(start.replace("Z", "+00:00"))

    def at(self, t: float) -> str:
        return (self.start + timedelta(seconds=round(t, 3))).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    def moment(self, event: Event) -> dict[str, Any]:
        return {"at": self.at(event.t), "t": event.t, "seq": event.seq}

    def mark(self, mark: Mark | None) -> Moment | None:
        return Moment(at=self.at(mark.t), t=mark.t, seq=mark.seq) if mark else None


def extract_incident(scenario: Scenario, recorded: RecordedTimeline) -> Incident:
    """The incident of ``recorded`` (played on ``scenario``); raises NoIncident when it has none."""
    events = recorded.events
    kept = [e for e in events if e.kind in CATEGORIES and not (e.kind == "mitigation.applied" and e.actor == CHAOS)]
    if not any(e.kind in ("alert.firing", "page.triggered", "slo.breach_start") or e.kind in DECLARED for e in kept):
        last = format_clock(events[-1].t) if events else "T+00:00:00"
        raise NoIncident(f"no incident to export: in {len(events)} events up to {last} no alert fired, no SLO was "
                         "breached, nobody was paged and no responder declared one")
    clock = Clock(recorded.header.start)
    marks = find_milestones(events, scenario.ground_truth.root_cause.fault)
    resolved = next((e for e in events if e.kind == "incident.resolved"), None)
    acks = [Acknowledgement(**clock.moment(e), page=str(e.data.get("page")), by=str(e.data.get("by")),
                            level=int(e.data.get("level") or 1)) for e in events if e.kind == "page.acknowledged"]
    return Incident(
        title=scenario.metadata.title,
        summary=" ".join(scenario.metadata.summary.split()),
        status="resolved" if resolved else "acknowledged" if acks else "triggered",
        drill=_drill(recorded.header, events, clock),
        severity=Severity(
            level=next((str(e.data.get("level")) for e in reversed(events) if e.kind == "severity.set"), None),
            changes=[SeverityChange(**clock.moment(e), level=str(e.data.get("level")), previous=e.data.get("previous"),
                                    by=e.actor) for e in events if e.kind == "severity.set"],
        ),
        times=Times(
            started=clock.mark(marks.impact_start), detected=clock.mark(marks.detected), paged=clock.mark(marks.paged),
            acknowledged=clock.mark(marks.acknowledged), mitigated=clock.mark(marks.mitigated),
            resolved=clock.mark(marks.resolved),
        ),
        participants=list(scenario.participants),
        roles=_roles(events, clock),
        pages=_pages(events, clock),
        acknowledgements=acks,
        status_updates=[StatusUpdate(**clock.moment(e), by=e.actor, text=str(e.data.get("text", "")))
                        for e in events if e.kind == "status.update"],
        timeline=[Entry(**clock.moment(e), kind=e.kind, category=CATEGORIES[e.kind], actor=e.actor, text=text(e))
                  for e in kept],
        resolution=Resolution(**clock.moment(resolved), by=resolved.actor, text=str(resolved.data.get("text") or ""))
        if resolved else None,
    )


def _drill(header: Header, events: Sequence[Event], clock: Clock) -> Drill:
    ended = next((e for e in events if e.kind == "drill.ended"), None)
    return Drill(
        scenario=header.scenario_id, scenario_path=header.scenario_path, scenario_sha256=header.scenario_sha256,
        seed=header.seed, responder=header.responder, start=header.start,
        ended=Moment(**clock.moment(ended)) if ended else None, tabletop_version=header.tabletop_version,
    )


def _roles(events: Sequence[Event], clock: Clock) -> list[Role]:
    terms: dict[str, list[Term]] = {}
    for event in events:
        if event.kind != "role.assigned":
            continue
        held = terms.setdefault(str(event.data.get("role")), [])
        since = Moment(**clock.moment(event))
        if held and held[-1].until is None:
            held[-1] = held[-1].model_copy(update={"until": since})
        held.append(Term(participant=str(event.data.get("to")), since=since, until=None, assigned_by=event.actor))
    return [Role(role=role, holder=held[-1].participant, terms=held) for role, held in terms.items()]


def _pages(events: Sequence[Event], clock: Clock) -> list[Page]:
    pages = []
    for started in (e for e in events if e.kind == "page.triggered"):
        page = started.data.get("page")
        ours = [e for e in events if e.kind.startswith("page.") and e.data.get("page") == page]
        ack = next((e for e in ours if e.kind == "page.acknowledged"), None)
        done = next((e for e in ours if e.kind == "page.resolved"), None)
        notified = dict.fromkeys(str(t) for e in ours if e.kind == "page.notified" for t in e.data.get("targets") or [])
        pages.append(Page(
            id=str(page), title=str(started.data.get("title", "")), policy=str(started.data.get("policy", "")),
            alerts=[str(a) for a in started.data.get("alerts") or []], triggered=Moment(**clock.moment(started)),
            notified=list(notified), escalations=sum(1 for e in ours if e.kind == "page.escalated"),
            acknowledged=Moment(**clock.moment(ack)) if ack else None, acknowledged_by=str(ack.data.get("by")) if ack else None,
            resolved=Moment(**clock.moment(done)) if done else None,
        ))
    return pages


def text(event: Event) -> str:
    """The entry's words in full (``describe`` shortens long texts for evidence lists)."""
    d = event.data
    if event.kind in ("note", "status.update"):
        return str(d.get("text", ""))
    if event.kind == "hypothesis":
        return f"hypothesis: {d.get('cause')} on {d.get('target')}" + (f": {d['text']}" if d.get("text") else "")
    if event.kind == "mitigation.applied":
        changes = "; ".join(str(c) for c in d.get("changes") or [])
        return f"{d.get('action')} {d.get('target')}" + (f": {changes}" if changes else "")
    if event.kind == "page.handoff":
        note = d.get("note") or {}
        parts = [f"{key}: {note[key]}" for key in ("status", "actions", "next") if note.get(key)]
        pages = ", ".join(str(p) for p in d.get("pages") or [])
        return f"{d.get('from')} handed {pages or 'the pager'} over to {d.get('to')}" + (
            f" ({'; '.join(parts)})" if parts else " with no note")
    if event.kind == "alert.firing":
        summary = (d.get("annotations") or {}).get("summary")
        return f"alert {d.get('alertname')} firing" + (f": {summary}" if summary else "")
    if event.kind == "page.acknowledged":
        return f"page {d.get('page')} acknowledged by {d.get('by')} (level {d.get('level')})"
    if event.kind == "incident.resolved":
        return "incident resolved" + (f": {d['text']}" if d.get("text") else "")
    return describe(event)
