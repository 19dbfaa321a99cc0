"""Measures of how the incident was run: roles and status updates."""

from __future__ import annotations

from tabletop.drill.timeline import Event
from tabletop.scoring.context import Assessment, Context, clock, not_applicable, plural, rate, span, start_label, took
from tabletop.scoring.rubric import Rating, RolesAssigned, StatusUpdates


def _anchor(ctx: Context) -> Event | None:
    """When running the incident starts: the first acknowledgement, else the first page, else
    (nobody was paged) the start of the impact."""
    return ctx.first("page.acknowledged") or ctx.incident_start





def roles_assigned(criterion: RolesAssigned, ctx: Context) -> Assessment:
    anchor = _anchor(ctx)
    if anchor is None:
        return not_applicable("No fault was injected and no page was sent, so there was no incident to staff.")
    deadline = anchor.t + criterion.within
    held: dict[str, Event] = {}
    for event in ctx.of_kind("role.assigned"):
        held.setdefault(str(event.data.get("role")), event)
    roles = list(dict.fromkeys(criterion.roles))
    missing = [r for r in roles if r not in held]
    late = [r for r in roles if r in held and held[r].t > deadline + 1e-9]
    on_time = len(roles) - len(missing) - len(late)
    rating: Rating
    if not missing and not late:
        rating = "P"
    elif len(roles) - len(missing) < len(roles) / 2:
        rating = "U"
    elif len(missing) <= 1:
        rating = "S"
    else:
        rating = "M"
    parts = [f"{on_time} of {len(roles)} roles were held within {span(criterion.within)} of {start_label(anchor)}"]
    if late:
        parts.append("late: " + ", ".join(f"{r} ({clock(held[r].t)})" for r in late))
    if missing:
        parts.append("never assigned: " + ", ".join(missing))
    evidence = [anchor.seq] + sorted(held[r].seq for r in roles if r in held)
    return Assessment(rating, on_time, "; ".join(parts) + ".", evidence)


def status_updates(criterion: StatusUpdates, ctx: Context) -> Assessment:
    anchor, close = _anchor(ctx), ctx.close
    if anchor is None or close is None:
        return not_applicable("No fault was injected and no page was sent, so there was no incident to report on.")
    updates = [e for e in ctx.of_kind("status.update") if anchor.t <= e.t <= close.t]
    points = [anchor, *updates, close]
    start, end = max(zip(points, points[1:]), key=lambda pair: took(pair[0].t, pair[1].t))
    gap = took(start.t, end.t)
    window = f"between {clock(start.t)} and {clock(end.t)}"
    if not updates:
        summary = f"No status update was posted from {clock(anchor.t)} to {clock(close.t)} ({span(gap)})."
        return Assessment("U", gap, summary, [anchor.seq, close.seq])
    interval = criterion.interval
    b0, b1 = criterion.bands
    rating = rate(gap, (interval, interval * b0, interval * b1))
    summary = f"{plural(len(updates), 'status update')}; the longest silence was {span(gap)} {window} (cadence target {span(interval)})."
    evidence = [e.seq for e in updates] if rating == "P" else [start.seq, end.seq]
    return Assessment(rating, gap, summary, evidence)
