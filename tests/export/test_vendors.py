"""`tabletop export --format pagerduty|incidentio`: every request body is one the vendor's published
OpenAPI schema accepts (fragments in schemas/), in an order that recreates the incident, with the
drill's facts where the API takes them."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.export.conftest import first

SCHEMAS = Path(__file__).parent / "schemas"


def body_validator(spec: str, method: str, path: str) -> jsonschema.Draft4Validator:
    """The request body schema of one operation (OpenAPI 3.0 schemas are JSON Schema draft 4 in essence)."""
    document = json.loads((SCHEMAS / spec).read_text())
    pointer = "/".join(["#", "paths", path.replace("~", "~0").replace("/", "~1"), method.lower(),
                        "requestBody", "content", "application~1json", "schema"])
    return jsonschema.Draft4Validator({"$ref": pointer, "paths": document["paths"], "components": document["components"]})


def check_bodies(spec: str, requests: list[dict[str, Any]]) -> None:
    document = json.loads((SCHEMAS / spec).read_text())
    for request in requests:
        assert request["method"].lower() in document["paths"][request["path"]], request["path"]
        body_validator(spec, request["method"], request["path"]).validate(request["body"])


@pytest.fixture
def pagerduty(drills: dict[str, Path], export: Any) -> dict[str, Any]:
    return json.loads(export(drills["expert"], "--format", "pagerduty").stdout)


@pytest.fixture
def incidentio(drills: dict[str, Path], export: Any) -> dict[str, Any]:
    return json.loads(export(drills["expert"], "--format", "incidentio").stdout)


def test_the_vendored_schemas_reject_what_the_apis_reject() -> None:
    create = body_validator("pagerduty-rest-v2.json", "POST", "/incidents")
    good = {"incident": {"type": "incident", "title": "t", "service": {"id": "P1", "type": "service_reference"}}}
    create.validate(good)
    for bad in ({"incident": {**good["incident"], "urgency": "urgent"}},
                {"incident": {**good["incident"], "service": {"id": "P1", "type": "service"}}},
                {"incident": {"type": "incident", "title": "t"}}):
        with pytest.raises(jsonschema.ValidationError):
            create.validate(bad)
    retro = body_validator("incidentio-v2.json", "POST", "/v2/incidents")
    retro.validate({"idempotency_key": "k", "visibility": "public", "mode": "retrospective"})
    for bad in ({"idempotency_key": "k"}, {"idempotency_key": "k", "visibility": "public", "mode": "retro"},
                {"idempotency_key": "k", "visibility": "public", "incident_role_assignments": [{"assignee": {}}]}):
        with pytest.raises(jsonschema.ValidationError):
            retro.validate(bad)
    with pytest.raises(jsonschema.ValidationError):
        body_validator("incidentio-v2.json", "POST", "/v2/incident_timeline_items").validate(
            {"incident_id": "x", "timestamp": "2026-03-17T08:00:00Z", "title": ""})


def test_pagerduty_requests_match_the_published_schema(drills: dict[str, Path], export: Any, pagerduty: dict[str, Any]) -> None:
    check_bodies("pagerduty-rest-v2.json", pagerduty["requests"])
    check_bodies("pagerduty-rest-v2.json", json.loads(export(drills["novice"], "--format", "pagerduty").stdout)["requests"])
    assert pagerduty["base_url"] == "https://api.pagerduty.com"
    assert pagerduty["headers"]["Accept"] == "application/vnd.pagerduty+json;version=2"


def test_pagerduty_recreates_the_incident_in_order(drills: dict[str, Path], export: Any, pagerduty: dict[str, Any]) -> None:
    incident = json.loads(export(drills["expert"]).stdout)
    requests = pagerduty["requests"]
    create = requests[0]
    assert (create["method"], create["path"]) == ("POST", "/incidents")
    assert create["body"]["incident"]["title"] == incident["title"] and create["body"]["incident"]["urgency"] == "high"
    ack = first(drills["expert"], "page.acknowledged")
    assert f"acknowledged by Alice Moreau (alice) at {ack['at']}" in create["body"]["incident"]["body"]["details"]
    puts = [r for r in requests if r["method"] == "PUT"]
    assert [p["body"]["incident"]["status"] for p in puts] == ["acknowledged", "resolved"]
    assert all(p["path"] == "/incidents/{id}" for p in puts) and puts[0]["at"] == ack["at"]
    assert requests[-1] == puts[-1] and puts[-1]["at"] == incident["resolution"]["at"]
    note_after_ack = requests[requests.index(puts[0]) + 1]
    assert note_after_ack["path"] == "/incidents/{id}/notes" and note_after_ack["at"] == ack["at"]
    assert note_after_ack["body"]["note"]["content"].startswith(f"{ack['at']} (T+00:")
    assert "Alice Moreau (alice) [acknowledgement]: page P1 acknowledged by alice" in note_after_ack["body"]["note"]["content"]
    updates = [r for r in requests if r["path"] == "/incidents/{id}/status_updates"]
    assert [u["body"]["message"].split("\n\n")[0] for u in updates] == [u["text"] for u in incident["status_updates"]]
    assert all("Erin Walsh (erin)" in u["body"]["message"] for u in updates)
    notes = [r for r in requests if r["path"] == "/incidents/{id}/notes"]
    assert len(notes) + len(updates) == len(incident["timeline"])
    assert [r["at"] for r in requests[1:-1] if r["method"] == "POST"] == [e["at"] for e in incident["timeline"]]


def test_pagerduty_placeholders_are_options(drills: dict[str, Path], export: Any, pagerduty: dict[str, Any]) -> None:
    assert set(pagerduty["placeholders"]) == {"REPLACE_WITH_SERVICE_ID", "REPLACE_WITH_ESCALATION_POLICY_ID",
                                              "REPLACE_WITH_PAGERDUTY_USER_EMAIL"}
    mine = json.loads(export(drills["expert"], "--format", "pagerduty", "--pagerduty-service", "PWIXJZS",
                             "--pagerduty-escalation-policy", "PT20YPA", "--pagerduty-from", "oncall@acme.test").stdout)
    incident = mine["requests"][0]["body"]["incident"]
    assert incident["service"] == {"id": "PWIXJZS", "type": "service_reference"}
    assert incident["escalation_policy"] == {"id": "PT20YPA", "type": "escalation_policy_reference"}
    assert mine["headers"]["From"] == "oncall@acme.test" and mine["placeholders"] == []
    assert incident["incident_key"] == pagerduty["requests"][0]["body"]["incident"]["incident_key"]


def test_an_unresolved_incident_is_left_open(drills: dict[str, Path], export: Any, tmp_path: Path) -> None:
    lines = drills["expert"].read_text().splitlines()
    cut = next(i for i, line in enumerate(lines) if json.loads(line).get("kind") == "incident.resolved")
    open_timeline = tmp_path / "timeline.jsonl"
    open_timeline.write_text("\n".join(lines[:cut]) + "\n")
    incident = json.loads(export(open_timeline).stdout)
    assert incident["status"] == "acknowledged" and incident["resolution"] is None and incident["times"]["resolved"] is None
    requests = json.loads(export(open_timeline, "--format", "pagerduty").stdout)["requests"]
    assert [r["body"]["incident"]["status"] for r in requests if r["method"] == "PUT"] == ["acknowledged"]
    assert "not resolved during the drill" in requests[0]["body"]["incident"]["body"]["details"]


def test_incidentio_requests_match_the_published_schema(drills: dict[str, Path], export: Any, incidentio: dict[str, Any]) -> None:
    check_bodies("incidentio-v2.json", incidentio["requests"])
    check_bodies("incidentio-v2.json", json.loads(export(drills["novice"], "--format", "incidentio").stdout)["requests"])
    assert incidentio["base_url"] == "https://api.incident.io"


def test_incidentio_imports_a_retrospective_incident(drills: dict[str, Path], export: Any, incidentio: dict[str, Any]) -> None:
    incident = json.loads(export(drills["expert"]).stdout)
    create, *items = incidentio["requests"]
    body = create["body"]
    assert (create["method"], create["path"], body["mode"]) == ("POST", "/v2/incidents", "retrospective")
    assert body["name"] == incident["title"] and body["visibility"] == "public"
    assert body["severity_id"] == "REPLACE_WITH_SEVERITY_ID:SEV2"
    values = {v["incident_timestamp_id"].split(":")[-1]: v["value"] for v in body["incident_timestamp_values"]}
    assert values == {name: moment["at"] for name, moment in incident["times"].items()}
    roles = {a["incident_role_id"].split(":")[-1]: a["assignee"]["email"] for a in body["incident_role_assignments"]}
    assert roles == {"incident_commander": "bob@example.com", "ops": "bob@example.com", "comms": "erin@example.com",
                     "scribe": "chen@example.com"}
    for update in incident["status_updates"]:
        assert update["text"] in body["summary"]
    assert "Alice Moreau (alice) from" in body["summary"]  # the commander before the hand-over
    assert [i["body"]["timestamp"] for i in items] == [e["at"] for e in incident["timeline"]]
    assert {i["path"] for i in items} == {"/v2/incident_timeline_items"}
    assert all(i["body"]["incident_id"] == "{id}" for i in items)
    keys = [i["body"]["idempotency_key"] for i in items]
    assert len(set(keys)) == len(keys) and all(k.startswith(body["idempotency_key"]) for k in keys)
    for item in items:
        datetime.fromisoformat(item["body"]["timestamp"].replace("Z", "+00:00"))


def test_incidentio_ids_are_options(drills: dict[str, Path], export: Any) -> None:
    mine = json.loads(export(drills["expert"], "--format", "incidentio", "--incidentio-severity", "SEV2=01SEV",
                             "--incidentio-role", "incident_commander=01LEAD", "--incidentio-timestamp", "resolved=01RES",
                             "--email-domain", "acme.test").stdout)
    body = mine["requests"][0]["body"]
    assert body["severity_id"] == "01SEV"
    lead = next(a for a in body["incident_role_assignments"] if a["incident_role_id"] == "01LEAD")
    assert lead["assignee"] == {"email": "bob@acme.test"}
    assert {"incident_timestamp_id": "01RES", "value": mine["requests"][0]["body"]["incident_timestamp_values"][-1]["value"]} \
        in body["incident_timestamp_values"]
    assert "REPLACE_WITH_SEVERITY_ID:SEV2" not in mine["placeholders"]
    assert "REPLACE_WITH_INCIDENT_ROLE_ID:ops" in mine["placeholders"]
