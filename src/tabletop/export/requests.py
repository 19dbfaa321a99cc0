"""What the API exports share: a list of HTTP requests to replay in order, with its placeholders named."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from tabletop.durations import format_clock
from tabletop.export.document import Entry, Incident, Moment

CREATED_ID = "{id}"
"""Stands, in later requests, for the id the response to the first request gave the incident."""
PLACEHOLDER = "REPLACE_WITH_"
"""How every value the user must supply begins."""


def incident_key(incident: Incident) -> str:
    """The same drill always gives the same key, so importing it twice is refused, not duplicated."""
    drill = incident.drill
    return f"tabletop:{drill.scenario}:{drill.start}:seed{drill.seed}:{drill.responder}"


def opened(incident: Incident) -> Moment:
    """When the incident began: its impact or its first timeline entry, whichever came first."""
    first = incident.timeline[0]
    started = incident.times.started
    return started if started is not None and started.t < first.t else first


def stamp(incident: Incident, entry: Entry) -> str:
    """``2026-03-17T08:51:20.705Z (T+00:16:20) Alice Moreau (alice)``: when and who, for APIs that cannot backdate."""
    who = f" {incident.name(entry.actor)}" if entry.actor else ""
    return f"{entry.at} ({format_clock(entry.t)}){who}"


def facts(incident: Incident) -> list[str]:
    """The incident's headline facts as lines of text, for the description fields of the target tools."""
    times = incident.times
    lines = [incident.summary, ""]
    labels = (("Impact started", times.started), ("Detected", times.detected), ("Paged", times.paged),
              ("Acknowledged", times.acknowledged), ("Mitigated", times.mitigated), ("Resolved", times.resolved))
    lines += [f"{label}: {moment.at} ({format_clock(moment.t)})" for label, moment in labels if moment]
    for ack in incident.acknowledgements:
        lines.append(f"Page {ack.page} acknowledged by {incident.name(ack.by)} at {ack.at}")
    severity = incident.severity
    if severity.changes:
        steps = ", ".join(f"{c.level} at {c.at} by {incident.name(c.by)}" for c in severity.changes)
        lines.append(f"Severity: {severity.level} (declared {steps})")
    for role in incident.roles:
        held = ", ".join(f"{incident.name(term.participant)} from {term.since.at}" for term in role.terms)
        lines.append(f"Role {role.role}: {held}")
    drill = incident.drill
    lines += ["", f"Recorded by tabletop {drill.tabletop_version} in a drill of scenario {drill.scenario} "
              f"(seed {drill.seed}, responder {drill.responder}); the times are the drill's world."]
    return lines


def document(api: str, base_url: str, headers: dict[str, str], requests: list[dict[str, Any]]) -> str:
    """The export: the requests in the order to send them, and the placeholders still to replace."""
    placeholders = sorted(set(_placeholders([headers, requests])))
    return json.dumps({
        "format": "tabletop-export/1",
        "api": api,
        "base_url": base_url,
        "headers": headers,
        "created_id": f"{CREATED_ID} in a later request's path or body stands for the id the first response gave the incident",
        "placeholders": placeholders,
        "requests": requests,
    }, indent=2, ensure_ascii=False)


def _placeholders(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        if PLACEHOLDER in value:
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _placeholders(item)
    elif isinstance(value, list):
        for item in value:
            yield from _placeholders(item)
