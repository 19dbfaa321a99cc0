"""`export` a recorded drill's incident to incident-management tools: tabletop's JSON, PagerDuty, incident.io."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tabletop.cli.common import emit, fail, recorded_drill

FORMATS = ("json", "pagerduty", "incidentio")


def _pairs(option: str, values: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for value in values:
        key, sep, ident = value.partition("=")
        if not sep or not key.strip() or not ident.strip():
            fail(f"{option}: expected NAME=ID, got {value!r}")
        found[key.strip()] = ident.strip()
    return found


@click.command()
@click.argument("timeline", required=False, type=click.Path(path_type=Path))
@click.option("--format", "fmt", default="json", show_default=True, metavar="|".join(FORMATS),
              help="json: tabletop's incident document; pagerduty, incidentio: the API requests that recreate it.")
@click.option("--scenario", type=click.Path(path_type=Path), help="Scenario file (default: the one the timeline names).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write here instead of standard output.")
@click.option("--schema", "print_schema", is_flag=True, help="Print the JSON Schema of the json format instead (no TIMELINE).")
@click.option("--pagerduty-service", default="REPLACE_WITH_SERVICE_ID", show_default=True, metavar="ID",
              help="PagerDuty service the incident is opened on.")
@click.option("--pagerduty-escalation-policy", default="REPLACE_WITH_ESCALATION_POLICY_ID", show_default=True,
              metavar="ID", help="PagerDuty escalation policy of the incident.")
@click.option("--pagerduty-from", default="REPLACE_WITH_PAGERDUTY_USER_EMAIL", show_default=True, metavar="EMAIL",
              help="Email of the PagerDuty user the requests are made as (the From header).")
@click.option("--incidentio-severity", multiple=True, metavar="LEVEL=ID",
              help="incident.io severity id of a severity level, e.g. SEV2=01H...; repeatable.")
@click.option("--incidentio-role", multiple=True, metavar="ROLE=ID",
              help="incident.io incident role id of a drill role, e.g. incident_commander=01H...; repeatable.")
@click.option("--incidentio-timestamp", multiple=True, metavar="MILESTONE=ID",
              help="incident.io incident timestamp id of a milestone (started, detected, paged, acknowledged, "
                   "mitigated, resolved); repeatable.")
@click.option("--email-domain", default="example.com", show_default=True,
              help="incident.io role assignees are PARTICIPANT@DOMAIN.")
def export(timeline: Path | None, fmt: str, scenario: Path | None, out: Path | None, print_schema: bool,
           pagerduty_service: str, pagerduty_escalation_policy: str, pagerduty_from: str,
           incidentio_severity: tuple[str, ...], incidentio_role: tuple[str, ...],
           incidentio_timestamp: tuple[str, ...], email_domain: str) -> None:
    """Export the incident of a recorded drill: its timeline, roles, severity and status updates."""
    if print_schema:
        from tabletop.export.document import schema

        emit(json.dumps(schema(), indent=2), out)
        return
    if timeline is None:
        fail("missing TIMELINE: the timeline.jsonl of a recorded drill (or --schema)")
    if fmt not in FORMATS:
        fail(f"--format: {fmt!r} is not a format tabletop export writes; formats: {', '.join(FORMATS)}")
    severities = _pairs("--incidentio-severity", incidentio_severity)
    roles = _pairs("--incidentio-role", incidentio_role)
    timestamps = _pairs("--incidentio-timestamp", incidentio_timestamp)

    from tabletop.export import document, incidentio, pagerduty
    from tabletop.export.incident import NoIncident, extract_incident

    unknown = sorted(set(timestamps) - set(incidentio.MILESTONES))
    if unknown:
        fail(f"--incidentio-timestamp: {unknown[0]!r} is not a milestone; milestones: {', '.join(incidentio.MILESTONES)}")
    recorded, loaded = recorded_drill(timeline, scenario)
    try:
        incident = extract_incident(loaded.scenario, recorded)
    except NoIncident as error:
        fail(f"{timeline}: {error}")
    if fmt == "pagerduty":
        text = pagerduty.export(incident, pagerduty.Options(pagerduty_service, pagerduty_escalation_policy, pagerduty_from))
    elif fmt == "incidentio":
        text = incidentio.export(incident, incidentio.Options(severities, roles, timestamps, email_domain))
    else:
        text = document.render(incident)
    emit(text, out)
