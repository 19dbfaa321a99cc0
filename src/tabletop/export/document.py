"""The incident of a recorded drill as tabletop's own document (``tabletop export --format json``).

Every time is given twice: ``at``, the wall-clock time in the drill's world (the timeline
header's start plus the drill clock, ISO 8601 UTC), and ``t``, seconds on the drill's clock;
``seq`` names the timeline event that establishes it. Participants are named by their
scenario ids; ``participants`` maps them to names.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from tabletop.scenario.oncall import Participant
from tabletop.scenario.types import Model

FORMAT = "tabletop-incident/1"

Category = Literal[
    "alert", "impact", "page", "acknowledgement", "escalation", "reassignment", "handoff", "role", "severity",
    "note", "hypothesis", "mitigation", "status_update", "resolution",
]
Status = Literal["triggered", "acknowledged", "resolved"]


class Moment(Model):
    """A point of the drill."""

    at: str
    """Wall-clock time in the drill's world, ISO 8601 UTC: the timeline header's start plus ``t``."""
    t: float
    """Seconds since the drill started, on the drill's clock."""
    seq: int
    """The timeline event that establishes it."""


class SeverityChange(Moment):
    """A ``severity`` command."""

    level: str
    previous: str | None
    by: str | None
    """The participant who set it."""


class Severity(Model):
    level: str | None
    """The last severity declared; null when nobody declared one."""
    changes: list[SeverityChange]
    """Every declaration, in order."""


class Times(Model):
    """The incident's milestones, as scoring and the postmortem read them; null when not reached."""

    started: Moment | None
    """Customer impact began: the first SLO breach before anyone changed the fleet, else the first fault."""
    detected: Moment | None
    """The first alert fired."""
    paged: Moment | None
    """The first page was sent."""
    acknowledged: Moment | None
    """The first page was acknowledged."""
    mitigated: Moment | None
    """Customer impact ended for good."""
    resolved: Moment | None
    """A responder resolved the incident."""


class Acknowledgement(Moment):
    page: str
    by: str
    """The participant who acknowledged the page."""
    level: int
    """The escalation level (1-based) the page had reached."""


class Page(Model):
    id: str
    title: str
    policy: str
    """The escalation policy that paged."""
    alerts: list[str]
    """The alerts that triggered it."""
    triggered: Moment
    notified: list[str]
    """Everyone it was sent to, in order."""
    escalations: int
    acknowledged: Moment | None
    acknowledged_by: str | None
    resolved: Moment | None


class Term(Model):
    """One participant's time in a role."""

    participant: str
    since: Moment
    until: Moment | None
    """When the role passed to someone else; null while they held it at the end of the drill."""
    assigned_by: str | None


class Role(Model):
    role: str
    holder: str
    """Who held it at the end of the drill."""
    terms: list[Term]
    """Everyone who held it, in order."""


class StatusUpdate(Moment):
    by: str | None
    text: str


class Entry(Moment):
    """One fact of the incident's timeline."""

    kind: str
    """The timeline event kind (``page.acknowledged``, ``note``, ...)."""
    category: Category
    actor: str | None
    """The participant whose action it was; null for what the system did (alerts, pages)."""
    text: str


class Resolution(Moment):
    by: str | None
    text: str


class Drill(Model):
    """Where the incident comes from."""

    scenario: str
    """The scenario's id."""
    scenario_path: str
    scenario_sha256: str
    seed: int
    responder: str
    start: str
    """The drill's T+0 in its world (the timeline header's ``start``)."""
    ended: Moment | None
    """The ``drill.ended`` event; null for a drill cut short."""
    tabletop_version: str


class Incident(Model):
    """The incident a drill recorded."""

    format: Literal["tabletop-incident/1"] = FORMAT
    title: str
    summary: str
    status: Status
    """``resolved`` once a responder resolved it, else ``acknowledged`` once a page was, else ``triggered``."""
    drill: Drill
    severity: Severity
    times: Times
    participants: list[Participant]
    """The scenario's participants, whom every other field names by id."""
    roles: list[Role]
    pages: list[Page]
    acknowledgements: list[Acknowledgement]
    status_updates: list[StatusUpdate]
    timeline: list[Entry]
    """Alerts, SLO breaches, pages, acknowledgements, escalations, hand-offs, roles, severity, notes,
    hypotheses, mitigations, status updates and the resolution, in timeline order."""
    resolution: Resolution | None

    def name(self, participant: str | None) -> str:
        """``Alice Moreau (alice)``, or the id alone for someone the scenario does not list."""
        person = next((p for p in self.participants if p.id == participant), None)
        return f"{person.name} ({person.id})" if person else participant or ""


def render(incident: Incident) -> str:
    return json.dumps(incident.model_dump(mode="json"), indent=2, ensure_ascii=False)


def schema() -> dict[str, Any]:
    """The JSON Schema of the document, the way ``tabletop schema`` publishes the file formats."""
    from tabletop.scenario.schema import model_schema

    return model_schema(Incident, "incident", f"tabletop incident export ({FORMAT})")
