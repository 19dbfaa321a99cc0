"""The incident as incident.io API v2 requests that import it as a retrospective incident
(``--format incidentio``).

``POST /v2/incidents`` with ``mode: retrospective`` (not announced in Slack) carries the name,
summary, severity, the milestones as incident timestamps and who held each role at the end;
then one ``POST /v2/incident_timeline_items`` per timeline entry, at the drill's own time.
Severities, roles and timestamps are configured per incident.io account, so their ids are
options; each one not given stays a ``REPLACE_WITH_...`` placeholder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tabletop.export.document import Entry, Incident, Moment
from tabletop.export.requests import CREATED_ID, document, facts, incident_key, opened, stamp

BASE_URL = "https://api.incident.io"
MILESTONES = ("started", "detected", "paged", "acknowledged", "mitigated", "resolved")
"""The incident's ``times``, each one an incident.io incident timestamp."""


@dataclass(frozen=True)
class Options:
    severities: Mapping[str, str] = field(default_factory=dict)
    """Severity level (``SEV2``) → incident.io severity id."""
    roles: Mapping[str, str] = field(default_factory=dict)
    """Role (``incident_commander``) → incident.io incident role id."""
    timestamps: Mapping[str, str] = field(default_factory=dict)
    """Milestone (``started``, ``acknowledged``, ...) → incident.io incident timestamp id."""
    email_domain: str = "example.com"
    """Assignees are ``<participant id>@<domain>``: incident.io finds users by email."""
    visibility: str = "public"


def export(incident: Incident, options: Options) -> str:
    headers = {"Content-Type": "application/json", "Authorization": "Bearer REPLACE_WITH_INCIDENT_IO_API_KEY"}
    return document("incident.io API v2", BASE_URL, headers, requests(incident, options))


def requests(incident: Incident, options: Options) -> list[dict[str, Any]]:
    key = incident_key(incident)
    body: dict[str, Any] = {
        "idempotency_key": key,
        "mode": "retrospective",
        "name": incident.title,
        "summary": "\n".join(_summary(incident)),
        "visibility": options.visibility,
    }
    level = incident.severity.level
    if level is not None:
        body["severity_id"] = options.severities.get(level, f"REPLACE_WITH_SEVERITY_ID:{level}")
    reached: list[tuple[str, Moment]] = [(name, m) for name in MILESTONES if (m := getattr(incident.times, name))]
    body["incident_timestamp_values"] = [
        {"incident_timestamp_id": options.timestamps.get(name, f"REPLACE_WITH_INCIDENT_TIMESTAMP_ID:{name}"),
         "value": moment.at} for name, moment in reached]
    body["incident_role_assignments"] = [
        {"incident_role_id": options.roles.get(role.role, f"REPLACE_WITH_INCIDENT_ROLE_ID:{role.role}"),
         "assignee": {"email": f"{role.holder}@{options.email_domain}"}} for role in incident.roles]
    sent = [{"method": "POST", "path": "/v2/incidents", "at": opened(incident).at, "body": body}]
    sent += [_timeline_item(incident, entry, key) for entry in incident.timeline]
    return sent


def _summary(incident: Incident) -> list[str]:
    """incident.io keeps one holder per role and takes status updates only as of now, so the role
    history and the status updates go into the summary too."""
    lines = facts(incident)
    if incident.status_updates:
        lines += ["", "Status updates:"]
        lines += [f"- {u.at} {incident.name(u.by)}: {u.text}" for u in incident.status_updates]
    if incident.resolution is None:
        lines += ["", "The incident was not resolved during the drill."]
    return lines


def _timeline_item(incident: Incident, entry: Entry, key: str) -> dict[str, Any]:
    title = entry.text if len(entry.text) <= 120 else entry.text[:119] + "…"
    body = {
        "incident_id": CREATED_ID,
        "timestamp": entry.at,
        "title": title or entry.kind,
        "description": f"{entry.text}\n\n{stamp(incident, entry)} · {entry.category} · tabletop event {entry.seq} ({entry.kind})",
        "idempotency_key": f"{key}:{entry.seq}",
    }
    return {"method": "POST", "path": "/v2/incident_timeline_items", "at": entry.at, "body": body}
