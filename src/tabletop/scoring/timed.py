"""Measures of how long something took: acknowledge, mitigate, resolve."""

from __future__ import annotations

from tabletop.scoring.context import Assessment, Context, clock, rate, span, took
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
    page = ctx.first("page.triggered")
    if page is None:
        return Assessment("U", None, "No page was sent during the drill, so there was nothing to acknowledge.", [])
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
        return Assessment("U", None, "No fault was injected before the drill stopped, so nothing could be mitigated.", [])
    if end is None:
        summary = f"Customer impact began at {clock(start.t)} and had not ended for good when the drill stopped."
        return Assessment("U", None, summary, [start.seq])
    what = f"Ending the customer impact ({clock(start.t)} → {clock(end.t)})"
    return _timed(criterion, took(start.t, end.t), what, [start.seq, end.seq])


def time_to_resolve(criterion: TimeToResolve, ctx: Context) -> Assessment:
    page = ctx.first("page.triggered")
    resolved = ctx.first("incident.resolved")
    if page is None:
        return Assessment("U", None, "No page was sent during the drill, so there was no incident to resolve.", [])
    if resolved is None:
        summary = f"The incident paged at {clock(page.t)} was never resolved."
        return Assessment("U", None, summary, [page.seq])
    what = f"Resolving the incident ({clock(page.t)} → {clock(resolved.t)})"
    return _timed(criterion, took(page.t, resolved.t), what, [page.seq, resolved.seq])
