"""Pages from Alertmanager notifications (``paging="alertmanager"``, what ``--stack`` runs):
the notifications are events from outside, so these tests submit them as the stack's webhook
does and check the pages, their provenance, and that a replay reproduces the timeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tabletop.drill.engine import Drill
from tabletop.drill.replay import first_difference, replay_timeline
from tabletop.drill.timeline_reader import read_timeline
from tabletop.pager.alertmanager import RECORD_ONLY
from tabletop.scenario.loader import load_scenario

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "serving-gpu-node-failure.yaml"
LATENCY = {"alertname": "ChatLLMLatencyHigh", "severity": "page", "team": "serving"}
ERRORS = {"alertname": "ChatLLMHighErrorRate", "severity": "page", "team": "serving"}


def notification(receiver: str, alerts: list[tuple[dict[str, str], str, str]], group_key: str = '{}:{team="serving"}') -> dict[str, Any]:
    """A webhook notification as the stack records it: alerts are (labels, status, fingerprint)."""
    firing = any(status == "firing" for _, status, _ in alerts)
    return {
        "receiver": receiver, "status": "firing" if firing else "resolved", "group_key": group_key,
        "group_labels": {"team": "serving"}, "truncated_alerts": 0,
        "alerts": [{"alertname": labels["alertname"], "status": status, "labels": labels,
                    "annotations": {"summary": f"{labels['alertname']} summary"}, "fingerprint": fingerprint,
                    "starts_at": 100.0, "ends_at": None} for labels, status, fingerprint in alerts],
    }


@pytest.fixture(scope="module")
def loaded():
    return load_scenario(SCENARIO)


def test_pages_come_from_notifications_not_from_the_drills_own_alerts(loaded, tmp_path):
    drill = Drill(loaded, timeline_path=tmp_path / "timeline.jsonl", paging="alertmanager")
    drill.advance_to(1500)  # the drill's own rules fire in this time (see the headless run)
    kinds = [e.kind for e in drill.timeline.events]
    assert "alert.firing" in kinds
    assert not any(k.startswith("page.") for k in kinds)

    drill.submit_event(1500, "alertmanager.notification",
                       notification("serving-oncall", [(LATENCY, "firing", "aaa1")]))
    drill.advance_to(1510)
    triggered = [e for e in drill.timeline.events if e.kind == "page.triggered"]
    assert len(triggered) == 1
    assert triggered[0].t == 1500
    assert triggered[0].data["policy"] == "serving-oncall"
    assert triggered[0].data["source"] == "alertmanager"
    assert triggered[0].data["receiver"] == "serving-oncall"
    assert triggered[0].data["group_key"] == '{}:{team="serving"}'
    assert triggered[0].data["fingerprints"] == ["aaa1"]
    assert triggered[0].data["title"] == "ChatLLMLatencyHigh summary"
    notified = next(e for e in drill.timeline.events if e.kind == "page.notified")
    assert notified.data["level"] == 1 and notified.data["targets"]  # the rota's on-call person

    # a later notification of the same group adds the alert that joined it
    drill.submit_event(1600, "alertmanager.notification",
                       notification("serving-oncall", [(LATENCY, "firing", "aaa1"), (ERRORS, "firing", "bbb2")]))
    drill.advance_to(1610)
    added = [e for e in drill.timeline.events if e.kind == "page.alert_added"]
    assert [(e.data["alertname"], e.data["fingerprint"]) for e in added] == [("ChatLLMHighErrorRate", "bbb2")]

    # the page resolves when its last alert does, not before
    drill.submit_event(1700, "alertmanager.notification",
                       notification("serving-oncall", [(LATENCY, "resolved", "aaa1"), (ERRORS, "firing", "bbb2")]))
    drill.advance_to(1710)
    assert not [e for e in drill.timeline.events if e.kind == "page.resolved"]
    drill.submit_event(1800, "alertmanager.notification",
                       notification("serving-oncall", [(LATENCY, "resolved", "aaa1"), (ERRORS, "resolved", "bbb2")]))
    drill.advance_to(1810)
    resolved = [e for e in drill.timeline.events if e.kind == "page.resolved"]
    assert [(e.t, e.data["reason"]) for e in resolved] == [(1800, "alerts_resolved")]


def test_record_only_receiver_pages_nobody_and_unknown_receivers_page_the_default(loaded):
    drill = Drill(loaded, paging="alertmanager")
    drill.submit_event(10, "alertmanager.notification", notification(RECORD_ONLY, [(LATENCY, "firing", "f1")]))
    drill.advance_to(20)
    assert [e.kind for e in drill.timeline.events if e.kind.startswith("page.")] == []
    # the bundled scenario has no default policy: a team's own receiver name pages nobody either
    drill.submit_event(30, "alertmanager.notification", notification("team-pagerduty", [(LATENCY, "firing", "f1")]))
    drill.advance_to(40)
    assert [e.kind for e in drill.timeline.events if e.kind.startswith("page.")] == []
    assert len([e for e in drill.timeline.events if e.kind == "alertmanager.notification"]) == 2


def test_acknowledging_an_alertmanager_page_works_as_for_any_page(loaded):
    drill = Drill(loaded, paging="alertmanager")
    drill.submit_event(10, "alertmanager.notification", notification("serving-oncall", [(LATENCY, "firing", "f1")]))
    drill.advance_to(20)
    target = next(e for e in drill.timeline.events if e.kind == "page.notified").data["targets"][0]
    result = drill.execute(target, "ack")
    assert result.ok, result.message
    assert [e.data["by"] for e in drill.timeline.events if e.kind == "page.acknowledged"] == [target]


def test_replay_reproduces_a_drill_paged_by_alertmanager(loaded, tmp_path):
    path = tmp_path / "timeline.jsonl"
    drill = Drill(loaded, timeline_path=path, paging="alertmanager")
    drill.submit_event(900.25, "alertmanager.notification", notification("serving-oncall", [(LATENCY, "firing", "f1")]))
    drill.advance_to(1000)
    target = next(e for e in drill.timeline.events if e.kind == "page.notified").data["targets"][0]
    drill.submit(1000, target, "ack")
    drill.advance_to(1200)
    drill.end("facilitator")
    recorded = read_timeline(path)
    assert recorded.header.paging == "alertmanager"
    replayed = replay_timeline(loaded, recorded)
    assert first_difference(recorded, replayed) is None
    assert [e.kind for e in replayed.timeline.events].count("page.acknowledged") == 1


def test_a_timeline_header_with_an_unknown_paging_is_refused(tmp_path, loaded):
    from tabletop.scenario.problems import InputError

    path = tmp_path / "timeline.jsonl"
    Drill(loaded, timeline_path=path).end("facilitator")
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace('"kind":"header"', '"kind":"header","paging":"opsgenie"')
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as error:
        read_timeline(path)
    assert "paging 'opsgenie'" in str(error.value.problems[0])


def test_an_ack_silence_made_in_alertmanager_acknowledges_the_page_it_covers(loaded, tmp_path):
    """karma's convention: a silence whose comment starts with ACK! acknowledges, in its author's name."""
    path = tmp_path / "timeline.jsonl"
    drill = Drill(loaded, timeline_path=path, paging="alertmanager")
    drill.submit_event(100, "alertmanager.notification", notification("serving-oncall", [(LATENCY, "firing", "f1")]))
    ack = {"id": "6d0c", "silence": None, "state": "active", "matchers": ['team="serving"', 'alertname=~"ChatLLM.*"'],
           "starts_at": 150, "ends_at": 3750, "created_by": "chen", "comment": "ACK! looking at it"}
    drill.submit_event(150, "alertmanager.silence", {**ack, "id": "0000", "created_by": "nobody-here"})  # not a participant
    drill.submit_event(160, "alertmanager.silence", {**ack, "id": "1111", "comment": "maintenance"})  # not an ACK
    drill.submit_event(170, "alertmanager.silence", {**ack, "matchers": ['team="training"']})  # covers nothing open
    drill.submit_event(180, "alertmanager.silence", {**ack, "id": "7e1d"})
    drill.advance_to(200)
    acked = [e for e in drill.timeline.events if e.kind == "page.acknowledged"]
    assert [(e.t, e.data["page"], e.data["by"], e.data["via"], e.data["silence"]) for e in acked] == [
        (180, "P1", "chen", "alertmanager", "7e1d")]
    drill.end("facilitator")
    recorded = read_timeline(path)
    assert first_difference(recorded, replay_timeline(loaded, recorded)) is None
