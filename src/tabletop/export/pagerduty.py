"""The incident as the PagerDuty REST API v2 requests that recreate it (``--format pagerduty``).

``POST /incidents`` opens it on a service, then in timeline order ``POST /incidents/{id}/notes``
for each timeline entry, ``POST /incidents/{id}/status_updates`` for each status update and
``PUT /incidents/{id}`` to acknowledge it; a last ``PUT`` resolves it. PagerDuty stamps each
request with the time it is sent and with the user the ``From`` header names, so every note and
status update carries the drill's own time and author in its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tabletop.export.document import Entry, Incident
from tabletop.export.requests import CREATED_ID, document, facts, incident_key, opened, stamp

BASE_URL = "https://api.pagerduty.com"
HIGH = frozenset({"SEV0", "SEV1", "SEV2"})
"""Severities that page at high urgency; lower ones are low. A drill nobody gave a severity is high (it paged)."""


@dataclass(frozen=True)
class Options:
    service: str = "REPLACE_WITH_SERVICE_ID"
    escalation_policy: str = "REPLACE_WITH_ESCALATION_POLICY_ID"
    from_email: str = "REPLACE_WITH_PAGERDUTY_USER_EMAIL"


def export(incident: Incident, options: Options) -> str:
    headers = {"Accept": "application/vnd.pagerduty+json;version=2", "Content-Type": "application/json",
               "From": options.from_email}
    return document("PagerDuty REST API v2", BASE_URL, headers, requests(incident, options))


def requests(incident: Incident, options: Options) -> list[dict[str, Any]]:
    level = incident.severity.level
    details = facts(incident)
    if incident.resolution is None:
        details.append("The incident was not resolved during the drill.")
    create = {"incident": {
        "type": "incident",
        "title": incident.title,
        "service": {"id": options.service, "type": "service_reference"},
        "urgency": "high" if level is None or level.upper() in HIGH else "low",
        "incident_key": incident_key(incident),
        "body": {"type": "incident_body", "details": "\n".join(details)},
        "escalation_policy": {"id": options.escalation_policy, "type": "escalation_policy_reference"},
    }}
    sent = [_request("POST", "/incidents", opened(incident).at, create)]
    acknowledged = incident.times.acknowledged
    for entry in incident.timeline:
        if acknowledged and entry.seq == acknowledged.seq:
            sent.append(_request("PUT", f"/incidents/{CREATED_ID}", entry.at,
                                 {"incident": {"type": "incident_reference", "status": "acknowledged"}}))
        sent.append(_status_update(incident, entry) if entry.category == "status_update" else _note(incident, entry))
    if incident.resolution:
        text = incident.resolution.text or "Resolved in the drill."
        sent.append(_request("PUT", f"/incidents/{CREATED_ID}", incident.resolution.at,
                             {"incident": {"type": "incident_reference", "status": "resolved", "resolution": text}}))
    return sent


def _note(incident: Incident, entry: Entry) -> dict[str, Any]:
    return _request("POST", f"/incidents/{CREATED_ID}/notes", entry.at,
                    {"note": {"content": f"{stamp(incident, entry)} [{entry.category}]: {entry.text}"}})


def _status_update(incident: Incident, entry: Entry) -> dict[str, Any]:
    return _request("POST", f"/incidents/{CREATED_ID}/status_updates", entry.at,
                    {"message": f"{entry.text}\n\n({stamp(incident, entry)})"})


def _request(method: str, path: str, at: str, body: dict[str, Any]) -> dict[str, Any]:
    """One request; ``at`` is the drill time of the fact it records (PagerDuty will not take it)."""
    return {"method": method, "path": path, "at": at, "body": body}
