"""Measures of how long something took: acknowledge, mitigate, resolve."""

from __future__ import annotations

from tabletop.drill.timeline import Event
from tabletop.scoring.context import Assessment, Context, clock, not_applicable, rate, span, start_label, took
from tabletop.scoring.rubric import TimeToAcknowledge, TimeToMitigate, TimeToResolve

Timed = TimeToAcknowledge | TimeToMitigate | TimeToResolve


def _timed(criterion: Timed, seconds: float, what: str, evidence: list[int]) -> Assessment:
    b0, b1 = criterion.bands
    target = criterion.target
    rating = rate(seconds, (target, target * b0, target * b1))
    verdict = "within" if rating == "P" else "over"
    summary = f"{what} took {span(seconds)}, {verdict} the {span(target)} target."
    return Assessment(rating, seconds, summary, evidence)


def time_to_acknowledge(criterion: TimeToAcknowledge, ctx: Context) -> Assessment:
    page = _first_page_to_own(ctx)
    if page is None:
        if ctx.first("page.triggered") is None:
            return not_applicable("No page was sent during the drill, so there was nothing to acknowledge.")
        return not_applicable("Every page cleared by itself before its acknowledgement timeout, so none needed acknowledging.")
    ack = ctx.first("page.acknowledged", page=page.data.get("page"))
    if ack is None:
        return Assessment(
            "U", None, f"The first page ({page.data.get('page')}, {clock(page.t)}) was never acknowledged.", [page.seq]
        )
    what = f"Acknowledging the first page ({clock(page.t)} → {clock(ack.t)} by {ack.data.get('by')})"
    return _timed(criterion, took(page.t, ack.t), what, [page.seq, ack.seq])


def time_to_mitigate(criterion: TimeToMitigate, ctx: Context) -> Assessment:
    start, end = ctx.milestones.impact_start, ctx.milestones.mitigated
    if start is None:
        return not_applicable("No fault was injected before the drill stopped, so nothing could be mitigated.")
    if end is None:
        summary = f"Customer impact began at {clock(start.t)} and had not ended for good when the drill stopped."
        return Assessment("U", None, summary, [start.seq])
    what = f"Ending the customer impact ({clock(start.t)} → {clock(end.t)})"
    return _timed(criterion, took(start.t, end.t), what, [start.seq, end.seq])


def time_to_resolve(criterion: TimeToResolve, ctx: Context) -> Assessment:
    start = ctx.incident_start
    resolved = ctx.first("incident.resolved")
    if start is None:
        return not_applicable("No fault was injected and no page was sent, so there was no incident to resolve.")
    if resolved is None:
        return Assessment("U", None, f"The incident that began with {start_label(start)} was never resolved.", [start.seq])
    what = f"Resolving the incident from {start_label(start)} to {clock(resolved.t)}"
    return _timed(criterion, took(start.t, resolved.t), what, [start.seq, resolved.seq])


def _first_page_to_own(ctx: Context) -> Event | None:
    """The first page someone had to acknowledge: acknowledged, escalated for lack of an
    acknowledgement, or still open at the end; not one that cleared by itself in time."""
    for page in ctx.of_kind("page.triggered"):
        pid = page.data.get("page")
        if ctx.first("page.acknowledged", page=pid) or ctx.first("page.escalated", page=pid, reason="ack_timeout"):
            return page
        if ctx.first("page.resolved", page=pid) is None:
            return page
    return None
