"""`tabletop export --format json`: the incident document holds the facts the timeline recorded,
and matches the JSON Schema `tabletop export --schema` publishes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.export.conftest import events, first


@pytest.fixture
def expert(drills: dict[str, Path], export: Any) -> dict[str, Any]:
    return json.loads(export(drills["expert"]).stdout)


def test_the_document_matches_its_published_schema(drills: dict[str, Path], export: Any, expert: dict[str, Any]) -> None:
    schema = json.loads(export("--schema").stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == "urn:tabletop:schema:v1:incident"
    validator = jsonschema.Draft202012Validator(schema)
    for name in ("expert", "novice"):
        validator.validate(json.loads(export(drills[name], "--format", "json").stdout))
    broken = {**expert, "status": "closed"}
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)


def test_times_are_the_header_start_plus_the_drill_clock(drills: dict[str, Path], expert: dict[str, Any]) -> None:
    header = json.loads(drills["expert"].read_text().splitlines()[0])
    start = datetime.fromisoformat(header["start"].replace("Z", "+00:00"))
    for entry in expert["timeline"]:
        at = datetime.fromisoformat(entry["at"].replace("Z", "+00:00"))
        assert abs((at - start) - timedelta(seconds=entry["t"])) < timedelta(milliseconds=1)
    recorded = {e["seq"]: e["at"] for e in events(drills["expert"])}
    assert all(entry["at"] == recorded[entry["seq"]] for entry in expert["timeline"])


def test_acknowledgement_resolution_and_status_updates_are_the_recorded_ones(drills: dict[str, Path], expert: dict[str, Any]) -> None:
    ack = first(drills["expert"], "page.acknowledged")
    assert expert["times"]["acknowledged"] == {"at": ack["at"], "t": ack["t"], "seq": ack["seq"]}
    assert expert["acknowledgements"][0]["by"] == ack["data"]["by"] == "alice"
    assert expert["pages"][0]["acknowledged_by"] == "alice" and expert["pages"][0]["notified"] == ["alice"]
    resolved = first(drills["expert"], "incident.resolved")
    assert expert["status"] == "resolved"
    assert expert["resolution"]["at"] == expert["times"]["resolved"]["at"] == resolved["at"]
    assert expert["resolution"]["by"] == resolved["actor"] == "bob"
    texts = [e["data"]["text"] for e in events(drills["expert"]) if e["kind"] == "status.update"]
    assert len(texts) >= 2
    assert [u["text"] for u in expert["status_updates"]] == texts
    assert [u["by"] for u in expert["status_updates"]] == ["erin"] * len(texts)


def test_roles_keep_everyone_who_held_them(drills: dict[str, Path], expert: dict[str, Any]) -> None:
    assigned = [e for e in events(drills["expert"]) if e["kind"] == "role.assigned"]
    roles = {r["role"]: r for r in expert["roles"]}
    assert set(roles) == {e["data"]["role"] for e in assigned} >= {"incident_commander", "comms"}
    commander = roles["incident_commander"]
    assert [t["participant"] for t in commander["terms"]] == ["alice", "bob"] and commander["holder"] == "bob"
    handover = next(e for e in assigned if e["data"]["role"] == "incident_commander" and e["data"]["to"] == "bob")
    assert commander["terms"][0]["until"]["seq"] == commander["terms"][1]["since"]["seq"] == handover["seq"]
    assert commander["terms"][1]["until"] is None
    assert roles["comms"]["holder"] == "erin"
    assert expert["severity"]["level"] == "SEV2" and expert["severity"]["changes"][0]["by"] == "alice"


def test_the_timeline_keeps_what_a_responder_wants_and_leaves_out_the_rest(drills: dict[str, Path], export: Any) -> None:
    novice = json.loads(export(drills["novice"]).stdout)
    kinds = {entry["kind"] for entry in novice["timeline"]}
    assert {"alert.firing", "page.triggered", "page.escalated", "page.acknowledged", "page.handoff", "hypothesis",
            "mitigation.applied", "status.update", "incident.resolved"} <= kinds
    assert not kinds & {"command", "fleet.event", "alert.pending", "runbook.step", "page.notified", "drill.ended"}
    recorded = [e["seq"] for e in events(drills["novice"]) if e["kind"] in kinds]
    assert [entry["seq"] for entry in novice["timeline"]] == recorded
    handoff = next(e for e in events(drills["novice"]) if e["kind"] == "page.handoff")
    entry = next(entry for entry in novice["timeline"] if entry["seq"] == handoff["seq"])
    assert entry["category"] == "handoff" and entry["actor"] == handoff["actor"]
    assert entry["text"].startswith(f"{handoff['data']['from']} handed P1 over to {handoff['data']['to']}")
    assert handoff["data"]["note"]["status"] in entry["text"]
    p1 = novice["pages"][0]
    assert p1["escalations"] >= 1 and p1["acknowledged_by"] != p1["notified"][0]
    assert novice["severity"] == {"level": None, "changes": []}


def test_out_writes_the_document(drills: dict[str, Path], export: Any, tmp_path: Path, expert: dict[str, Any]) -> None:
    target = tmp_path / "deep" / "incident.json"
    result = export(drills["expert"], "--out", target)
    assert result.stdout.strip() == f"wrote {target}"
    assert json.loads(target.read_text()) == expert
