"""Routing, grouping, escalation with repeats, acknowledgement, hand-offs and rota shift changes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import simpy
import yaml

from tabletop.pager.pager import Pager, PagerError
from tabletop.pager.rota import on_call, shift_changes
from tabletop.pager.routing import route
from tabletop.scenario.model import Scenario
from tabletop.scenario.oncall import Rota
from tests.sim.fleets import BUNDLED

SERVING = {"alertname": "ChatLLMHighErrorRate", "severity": "page", "team": "serving"}
LATENCY = {"alertname": "ChatLLMLatencyHigh", "severity": "page", "team": "serving"}


class Recorder:
    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.events: list[tuple[float, str, dict[str, Any], str | None]] = []

    def __call__(self, kind: str, data: dict[str, Any], actor: str | None = None) -> None:
        self.events.append((self.env.now, kind, data, actor))

    def kinds(self) -> list[str]:
        return [kind for _, kind, _, _ in self.events]

    def of(self, kind: str) -> list[tuple[float, dict[str, Any]]]:
        return [(t, data) for t, k, data, _ in self.events if k == kind]


def make(**changes: Any) -> tuple[simpy.Environment, Pager, Recorder]:
    data = yaml.safe_load(BUNDLED.read_text())
    data.update(changes)
    env = simpy.Environment()
    recorder = Recorder(env)
    return env, Pager(env, Scenario.model_validate(data), recorder), recorder


def test_rota_on_call_and_shift_changes() -> None:
    rota = Rota(id="r", members=["alice", "bob"], shift_length=12 * 3600, start=datetime(2026, 3, 16, 21, tzinfo=timezone.utc))
    assert on_call(rota, datetime(2026, 3, 17, 8, 59, tzinfo=timezone.utc)) == "alice"
    assert on_call(rota, datetime(2026, 3, 17, 9, 0, tzinfo=timezone.utc)) == "bob"
    begin = datetime(2026, 3, 17, 8, 35, tzinfo=timezone.utc)
    assert shift_changes(rota, begin, begin + timedelta(hours=2)) == [datetime(2026, 3, 17, 9, tzinfo=timezone.utc)]


def test_routes_match_alertmanager_matchers_and_group_by() -> None:
    scenario = Scenario.model_validate(yaml.safe_load(BUNDLED.read_text()))
    [serving] = route(SERVING, scenario.routing)
    assert serving.policy == "serving-oncall" and serving.group == (("team", "serving"),)
    [warning] = route({"alertname": "GPUXidError", "severity": "warning", "team": "gpu-infra"}, scenario.routing)
    assert warning.policy is None
    [unmatched] = route({"alertname": "X", "severity": "info"}, scenario.routing)
    assert unmatched.policy is None  # no default policy in the bundled scenario


def test_group_wait_then_one_page_for_the_group() -> None:
    env, pager, rec = make()
    pager.alert_firing("ChatLLMHighErrorRate", SERVING, {"summary": "errors"})
    env.run(until=10)
    pager.alert_firing("ChatLLMLatencyHigh", LATENCY, {})
    env.run(until=31)
    assert rec.kinds() == ["page.triggered", "page.notified"]
    assert rec.of("page.triggered")[0][0] == 30.0
    assert rec.of("page.triggered")[0][1]["alerts"] == ["ChatLLMHighErrorRate", "ChatLLMLatencyHigh"]
    assert rec.of("page.notified")[0][1]["targets"] == ["alice"]  # on call until 09:00
    pager.alert_firing("KubeDeploymentReplicasMismatch", {**SERVING, "alertname": "KubeDeploymentReplicasMismatch"}, {})
    assert rec.kinds()[-1] == "page.alert_added"


def test_no_page_for_a_group_that_resolved_within_group_wait() -> None:
    """Alertmanager sends nothing for a group whose alerts all resolved before group_wait ended,
    also when the last one resolves at the very instant the wait ends; the timeline says why."""
    env, pager, rec = make()
    pager.alert_firing("ChatLLMHighErrorRate", SERVING, {"summary": "errors"})
    pager.alert_firing("ChatLLMLatencyHigh", LATENCY, {})
    env.run(until=10)
    pager.alert_resolved("ChatLLMHighErrorRate", SERVING)
    env.timeout(20).callbacks.append(lambda _: pager.alert_resolved("ChatLLMLatencyHigh", LATENCY))  # at the wait's end
    env.run(until=100)
    assert rec.kinds() == ["page.withheld"]
    [(t, withheld)] = rec.of("page.withheld")
    assert t == 30.0 and withheld == {
        "policy": "serving-oncall", "group": {"team": "serving"}, "alerts": ["ChatLLMHighErrorRate", "ChatLLMLatencyHigh"],
        "reason": "resolved_before_group_wait", "group_wait": 30.0,
    }
    assert pager.pages == []
    pager.alert_firing("ChatLLMHighErrorRate", SERVING, {})  # firing again waits group_wait afresh, then pages
    env.run(until=131)
    assert rec.kinds()[-2:] == ["page.triggered", "page.notified"] and rec.of("page.triggered")[0][0] == 130.0


def test_a_group_pages_when_one_of_its_alerts_still_fires_at_group_wait() -> None:
    env, pager, rec = make()
    pager.alert_firing("ChatLLMHighErrorRate", SERVING, {"summary": "errors"})
    pager.alert_firing("ChatLLMLatencyHigh", LATENCY, {"summary": "slow"})
    env.run(until=10)
    pager.alert_resolved("ChatLLMHighErrorRate", SERVING)
    env.run(until=31)
    assert rec.kinds() == ["page.triggered", "page.notified"]
    assert rec.of("page.triggered")[0][1]["alerts"] == ["ChatLLMLatencyHigh"]


def test_unacknowledged_page_escalates_through_levels_and_repeats_once() -> None:
    env, pager, rec = make()
    pager.alert_firing("ChatLLMHighErrorRate", SERVING, {})
    env.run(until=4000)
    notified = [(t, d["level"], d["loop"], d["targets"]) for t, d in rec.of("page.notified")]
    assert notified == [
        (30.0, 1, 0, ["alice"]), (330.0, 2, 0, ["chen"]), (930.0, 3, 0, ["dana"]),
        (1530.0, 1, 1, ["bob"]),  # the repeat starts over; by now (09:00) bob is on call
        (1830.0, 2, 1, ["chen"]), (2430.0, 3, 1, ["dana"]),
    ]
    assert all(d["reason"] == "ack_timeout" for _, d in rec.of("page.escalated"))
    assert len(rec.of("page.escalated")) == 5  # nothing after the last level of the last loop


def test_ack_stops_escalation_and_commands_find_the_page() -> None:
    env, pager, rec = make()
    pager.alert_firing("ChatLLMHighErrorRate", SERVING, {})
    env.run(until=100)
    page = pager.acknowledge(None, "alice")
    assert page.state == "acknowledged" and page.acked_by == "alice"
    env.run(until=1400)  # before the 09:00 shift change
    assert len(rec.of("page.notified")) == 1
    with pytest.raises(PagerError, match="already acknowledged by alice"):
        pager.acknowledge(None, "chen")
    with pytest.raises(PagerError, match="no page P9"):
        pager.acknowledge("P9", "alice")


def test_explicit_handoff_carries_the_note_and_survives_the_shift_change() -> None:
    env, pager, rec = make()
    pager.alert_firing("ChatLLMHighErrorRate", SERVING, {})
    env.run(until=100)
    pager.acknowledge(None, "alice")
    note = {"status": "5 of 6 up", "actions": "deleted pod", "next": "watch p99"}
    [page] = pager.handoff("bob", "alice", note)
    assert page.assignees == ["bob"] and page.acked_by == "bob"
    assert rec.of("page.handoff")[0][1] == {"pages": ["P1"], "from": "alice", "to": "bob", "note": note}
    env.run(until=25 * 60 + 1)  # 09:00 shift change
    assert rec.of("rota.shift_change")[0][1] == {"rota": "serving-primary", "from": "alice", "to": "bob"}
    assert rec.of("page.reassigned") == []


def test_shift_change_moves_a_page_still_held_through_the_rota() -> None:
    env, pager, rec = make()
    pager.alert_firing("ChatLLMHighErrorRate", SERVING, {})
    env.run(until=100)
    pager.acknowledge(None, "alice")
    env.run(until=25 * 60 + 1)
    [(t, data)] = rec.of("page.reassigned")
    assert t == 25 * 60 and data == {"page": "P1", "from": "alice", "to": "bob", "reason": "shift_change"}


def test_pages_resolve_when_their_alerts_do_and_new_alerts_open_new_pages() -> None:
    env, pager, rec = make()
    pager.alert_firing("ChatLLMHighErrorRate", SERVING, {})
    env.run(until=60)
    pager.alert_resolved("ChatLLMHighErrorRate", SERVING)
    assert rec.of("page.resolved")[0][1] == {"page": "P1", "reason": "alerts_resolved"}
    pager.alert_firing("ChatLLMHighErrorRate", SERVING, {})
    env.run(until=100)
    assert [d["page"] for _, d in rec.of("page.triggered")] == ["P1", "P2"]


def test_handoff_and_reassign_refuse_unknown_people_and_empty_hands() -> None:
    env, pager, rec = make()
    with pytest.raises(PagerError, match="holds no open page"):
        pager.handoff("bob", "alice", {})
    pager.alert_firing("ChatLLMHighErrorRate", SERVING, {})
    env.run(until=60)
    with pytest.raises(PagerError, match="not a participant"):
        pager.reassign(None, "zed", "alice")
    with pytest.raises(PagerError, match="yourself"):
        pager.handoff("alice", "alice", {})
