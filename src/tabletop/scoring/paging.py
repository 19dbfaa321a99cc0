"""Measures of how pages were owned: escalation and hand-off notes."""

from __future__ import annotations

from tabletop.drill.timeline import Event
from tabletop.scoring.context import Assessment, Context, clock, not_applicable, plural
from tabletop.scoring.rubric import Escalation, HandoffNote, Rating

_PARTS = ("status", "actions", "next")
_BY_COUNT: dict[int, Rating] = {0: "P", 1: "S", 2: "M"}


def escalation(criterion: Escalation, ctx: Context) -> Assessment:
    """A page that cleared by itself before any acknowledgement timeout is not held against anyone."""
    pages = ctx.of_kind("page.triggered")
    if not pages:
        return not_applicable("No page was sent, so there was no page to own or escalate.")
    timeouts = [e for e in ctx.of_kind("page.escalated") if e.data.get("reason") == "ack_timeout"]
    timed_out = {e.data.get("page") for e in timeouts}
    firsts = {p.data.get("page"): ctx.first("page.acknowledged", page=p.data.get("page")) for p in pages}
    cleared = {p.data.get("page"): ctx.first("page.resolved", page=p.data.get("page")) for p in pages}
    unowned = []
    for page in pages:
        pid = page.data.get("page")
        if firsts[pid] is None and (pid in timed_out or cleared[pid] is None):
            unowned.append(page)
    if unowned:
        names = ", ".join(f"{p.data.get('page')} ({clock(p.t)})" for p in unowned)
        summary = f"{plural(len(unowned), 'page')} never acknowledged: {names}."
        return Assessment("U", len(timeouts), summary, [p.seq for p in unowned] + [e.seq for e in timeouts])
    if not timeouts:
        owned = [e for e in firsts.values() if e is not None]
        quiet = [cleared[pid] for pid, ack in firsts.items() if ack is None]
        if not owned:
            return not_applicable(f"Every page ({len(pages)}) cleared by itself before its acknowledgement timeout, "
                                  "so none needed owning or escalating.", [e.seq for e in quiet if e is not None])
        summary = f"Every acknowledged page ({len(owned)}) was acknowledged at the level first notified"
        summary += f"; {plural(len(quiet), 'page')} cleared before anyone had to." if quiet else "."
        return Assessment("P", 0, summary, [e.seq for e in owned + quiet if e is not None])
    times = ", ".join(f"{e.data.get('page')} at {clock(e.t)} to level {e.data.get('to_level')}" for e in timeouts)
    summary = f"{plural(len(timeouts), 'escalation')} because nobody acknowledged in time: {times}."
    return Assessment(_BY_COUNT.get(len(timeouts), "U"), len(timeouts), summary, [e.seq for e in timeouts])


def _open_interval(ctx: Context) -> tuple[float, float] | None:
    start = ctx.incident_start
    if start is None:
        return None
    resolved = ctx.first("incident.resolved")
    return start.t, resolved.t if resolved else float("inf")


def _handoffs(ctx: Context) -> list[Event]:
    """Explicit hand-offs during the incident, plus shift-change reassignments no hand-off covered."""
    interval = _open_interval(ctx)
    if interval is None:
        return []
    handed: set[tuple[str, str]] = set()
    found: list[Event] = []
    for event in ctx.events:
        if not interval[0] <= event.t <= interval[1]:
            continue
        if event.kind == "page.handoff":
            found.append(event)
            handed.update((str(page), str(event.data.get("from"))) for page in event.data.get("pages") or [])
        elif event.kind == "page.reassigned" and event.data.get("reason") == "shift_change":
            if (str(event.data.get("page")), str(event.data.get("from"))) not in handed:
                found.append(event)
    return found


def _complete_parts(event: Event, min_words: int) -> list[str]:
    note = event.data.get("note") or {}
    return [part for part in _PARTS if len(str(note.get(part) or "").split()) >= min_words]


def handoff_note(criterion: HandoffNote, ctx: Context) -> Assessment:
    handoffs = _handoffs(ctx)
    if not handoffs:
        return not_applicable("No hand-off or shift change happened while the incident was open, so no note was needed.")
    judged = [(event, _complete_parts(event, criterion.min_words)) for event in handoffs]
    weakest = min(len(parts) for _, parts in judged)
    rating: Rating = ("U", "M", "S", "P")[weakest]
    if rating == "P":
        summary = f"Every hand-off ({len(judged)}) carried status, actions taken and next steps."
        return Assessment(rating, weakest, summary, [event.seq for event in handoffs])
    short = [(event, parts) for event, parts in judged if len(parts) < len(_PARTS)]
    problems = "; ".join(_shortfall(event, parts) for event, parts in short)
    summary = f"{problems[0].upper()}{problems[1:]} (each part needs at least {criterion.min_words} words)."
    return Assessment(rating, weakest, summary, [event.seq for event, _ in short])


def _shortfall(event: Event, parts: list[str]) -> str:
    who = f"{event.data.get('from')} → {event.data.get('to')}"
    if event.kind == "page.reassigned":
        return f"at {clock(event.t)} the shift change moved page {event.data.get('page')} ({who}) with no hand-off note"
    missing = ", ".join(p for p in _PARTS if p not in parts)
    return f"the hand-off at {clock(event.t)} ({who}) lacked {missing}"
