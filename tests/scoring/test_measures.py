"""Single measures on small timelines: boundaries at exactly the target, and the edge cases."""

from typing import Any

import pytest
import yaml

from tabletop.scenario.model import Scenario
from tabletop.scoring.context import Assessment, Context
from tabletop.scoring.measures import assess
from tabletop.scoring.rubric import Rubric

from tests.scoring.drills import SCENARIO_PATH, Drill, load_runbooks, load_scenario

SCENARIO = load_scenario()
RUNBOOKS = load_runbooks(SCENARIO)


def criterion(measure: str, **params: Any) -> Any:
    raw = {"apiVersion": "tabletop/v1", "kind": "Rubric", "id": "t", "title": "t",
           "criteria": [{"id": measure, "title": measure, "weight": 1, "measure": measure, **params}]}
    return Rubric.model_validate(raw).criteria[0]


def rate(d: Drill, measure: str, scenario: Scenario = SCENARIO, **params: Any) -> Assessment:
    return assess(criterion(measure, **params), Context(scenario, RUNBOOKS, d.events))


def paged(ack_after: float | None = None) -> Drill:
    d = Drill()
    d.key["page"] = d.page(1000, "p1")
    if ack_after is not None:
        d.key["ack"] = d.ack(1000 + ack_after, "alice")
    return d


@pytest.mark.parametrize(("after", "rating"), [(300, "P"), (300.001, "S"), (600, "S"), (600.5, "M"), (1200, "M"), (1201, "U")])
def test_time_to_acknowledge_bands(after: float, rating: str) -> None:
    found = rate(paged(after), "time_to_acknowledge", target="5m")
    assert (found.rating, found.value) == (rating, after)


def test_an_unacknowledged_page_is_u_citing_the_page() -> None:
    d = paged()
    found = rate(d, "time_to_acknowledge", target="5m")
    assert (found.rating, found.value, found.evidence) == ("U", None, [d.key["page"].seq])
    assert "never acknowledged" in found.summary


def test_no_page_at_all_is_not_applicable_without_evidence_and_says_so() -> None:
    found = rate(Drill(), "time_to_acknowledge", target="5m")
    assert (found.rating, found.evidence) == ("N/A", [])
    assert "No page" in found.summary


def test_time_to_resolve_at_exactly_the_target_is_p() -> None:
    d = paged(60)
    resolved = d.run(1000 + 3600, "alice", "resolve", "incident.resolved", text="done")
    found = rate(d, "time_to_resolve", target="1h")
    assert (found.rating, found.value, found.evidence) == ("P", 3600, [d.key["page"].seq, resolved.seq])


def test_time_to_mitigate_at_exactly_the_target_is_p() -> None:
    d = Drill()
    start = d.at(100, "slo.breach_start", slo="chat-llm-availability")
    end = d.at(1300, "slo.breach_end", slo="chat-llm-availability", bad=10, total=100)
    found = rate(d, "time_to_mitigate", target="20m")
    assert (found.rating, found.value, found.evidence) == ("P", 1200, [start.seq, end.seq])


@pytest.mark.parametrize(("timeouts", "rating"), [(0, "P"), (1, "S"), (2, "M"), (3, "U")])
def test_escalation_counts_ack_timeouts(timeouts: int, rating: str) -> None:
    d = paged()
    for level in range(timeouts):
        d.at(1300 + 300 * level, "page.escalated", page="p1", from_level=level + 1, to_level=level + 2, loop=0, reason="ack_timeout")
    d.at(1290, "page.escalated", page="p1", from_level=1, to_level=2, loop=0, reason="manual")
    ack = d.ack(2500, "chen", level=timeouts + 1)
    found = rate(d, "escalation")
    assert (found.rating, found.value) == (rating, timeouts)
    timed_out = [e.seq for e in d.events if e.kind == "page.escalated" and e.data["reason"] == "ack_timeout"]
    assert found.evidence == (timed_out or [ack.seq])


def test_a_page_never_acknowledged_fails_escalation() -> None:
    d = paged(60)
    second = d.page(2000, "p2", policy="gpu-infra-oncall", to="farid")
    found = rate(d, "escalation")
    assert (found.rating, found.evidence) == ("U", [second.seq])


def test_a_page_that_cleared_before_its_timeout_needs_no_acknowledgement() -> None:
    d = paged(60)
    d.page(2000, "p2")
    cleared = d.at(2100, "page.resolved", page="p2", reason="alerts_resolved")
    found = rate(d, "escalation")
    assert (found.rating, found.evidence) == ("P", [d.key["ack"].seq, cleared.seq])
    assert "1 page cleared before anyone had to" in found.summary


def handoff(d: Drill, t: float, **note: str) -> Any:
    return d.run(t, "alice", "handoff bob", "page.handoff", pages=["p1"], to="bob", note=note, **{"from": "alice"})


FULL = {"status": "five replicas up now", "actions": "cordoned the failing node", "next": "drain it when ready"}


@pytest.mark.parametrize(
    ("note", "rating"),
    [
        (FULL, "P"),
        ({**FULL, "next": "drain it"}, "S"),
        ({"status": "five replicas up now", "actions": "", "next": "drain"}, "M"),
        ({"status": "ok"}, "U"),
    ],
)
def test_handoff_notes_are_judged_on_three_parts(note: dict[str, str], rating: str) -> None:
    d = paged(60)
    event = handoff(d, 1200, **note)
    found = rate(d, "handoff_note", min_words=3)
    assert (found.rating, found.evidence) == (rating, [event.seq])


def test_the_weakest_handoff_sets_the_rating() -> None:
    d = paged(60)
    handoff(d, 1200, **FULL)
    weak = handoff(d, 1300, status="two words")
    found = rate(d, "handoff_note")
    assert (found.rating, found.evidence) == ("U", [weak.seq])


def test_a_shift_change_after_an_explicit_handoff_is_not_a_second_handoff() -> None:
    d = paged(60)
    event = handoff(d, 1490, **FULL)
    d.at(1500, "page.reassigned", page="p1", reason="shift_change", **{"from": "alice", "to": "bob"})
    found = rate(d, "handoff_note")
    assert (found.rating, found.evidence) == ("P", [event.seq])


def test_handoffs_outside_the_incident_do_not_count() -> None:
    d = Drill()
    handoff(d, 10, status="x")
    d.page(1000, "p1")
    d.run(2000, "alice", "resolve", "incident.resolved", text="")
    handoff(d, 2100, status="y")
    found = rate(d, "handoff_note")
    assert (found.rating, found.evidence) == ("N/A", [])
    assert "No hand-off" in found.summary


def assign(d: Drill, t: float, role: str, to: str = "bob") -> Any:
    return d.run(t, "alice", f"assign {role} {to}", "role.assigned", role=role, to=to, previous=None)


def test_roles_held_at_exactly_the_deadline_are_in_time() -> None:
    d = paged(60)
    seqs = [assign(d, 1060 + 900, role).seq for role in ("incident_commander", "ops")]
    found = rate(d, "roles_assigned", roles=["incident_commander", "ops"], within="15m")
    assert (found.rating, found.value, found.evidence) == ("P", 2, [d.key["ack"].seq, *seqs])


@pytest.mark.parametrize(
    ("times", "rating"),
    [
        ({"incident_commander": 1100, "ops": 1100, "comms": 1100, "scribe": 3000}, "S"),
        ({"incident_commander": 1100, "ops": 1100, "comms": 1100}, "S"),
        ({"incident_commander": 1100, "ops": 3000}, "M"),
        ({"incident_commander": 1100}, "U"),
        ({}, "U"),
    ],
)
def test_roles_ratings(times: dict[str, float], rating: str) -> None:
    d = paged(60)
    for role, t in times.items():
        assign(d, t, role)
    assert rate(d, "roles_assigned", within="15m").rating == rating


def status_drill(*update_times: float, resolve_at: float = 4000) -> Drill:
    d = paged(0)
    for t in update_times:
        d.run(t, "dana", "status ...", "status.update", text="update")
    d.key["resolved"] = d.run(resolve_at, "alice", "resolve", "incident.resolved", text="")
    return d


@pytest.mark.parametrize(
    ("updates", "rating", "gap"),
    [((1900, 2800, 3700), "P", 900), ((2000, 3000), "S", 1000), ((2800,), "M", 1800), ((3000,), "U", 2000)],
)
def test_status_update_cadence(updates: tuple[float, ...], rating: str, gap: float) -> None:
    found = rate(status_drill(*updates), "status_updates", interval="15m", bands=[1.5, 2.0])
    assert (found.rating, found.value) == (rating, gap)


def test_no_status_update_is_u_citing_the_silent_stretch() -> None:
    d = status_drill()
    found = rate(d, "status_updates")
    assert (found.rating, found.evidence) == ("U", [d.key["ack"].seq, d.key["resolved"].seq])


def hypotheses(*stated: tuple[float, str, str]) -> Drill:
    d = paged(60)
    for t, cause, target in stated:
        d.run(t, "alice", f"hypothesis {cause} {target}", "hypothesis", cause=cause, target=target)
    return d


RIGHT = ("gpu_xid", "node/gpu-serve-2")


@pytest.mark.parametrize(
    ("stated", "rating"),
    [
        (((2200, *RIGHT),), "P"),
        (((2201, *RIGHT),), "S"),
        (((1100, "bad_rollout", "deployment/chat-llm"), (1200, *RIGHT)), "S"),
        (((1100, "gpu_xid", "node/gpu-serve-1"),), "M"),
        (((1100, "bad_rollout", "deployment/chat-llm"), (1150, "gpu_xid", "node/gpu-serve-1"), (1200, *RIGHT)), "M"),
        (((1100, "memory_leak", "deployment/chat-llm"),), "U"),
        (((1100, "gpu_xid", "gpu-serve-2"),), "P"),
    ],
)
def test_hypothesis_ratings(stated: tuple[tuple[float, str, str], ...], rating: str) -> None:
    d = hypotheses(*stated)
    found = rate(d, "hypothesis", target="20m")
    assert found.rating == rating
    assert found.evidence


def test_runbook_all_steps_in_order_is_p_and_an_order_violation_is_s() -> None:
    d = Drill()
    for t, step in enumerate((1, 2, 3, 4, 5, 6, 7, 8, 9, 10)):
        d.step(100 + t, "alice", step)
    assert rate(d, "runbook_steps", ordered=[5, 6, 8]).rating == "P"
    swapped = Drill()
    for t, step in enumerate((1, 2, 3, 4, 6, 5, 7, 8, 9, 10)):
        swapped.step(100 + t, "alice", step)
    found = rate(swapped, "runbook_steps", ordered=[5, 6, 8])
    assert found.rating == "S"
    assert "step 6 before step 5" in found.summary


@pytest.mark.parametrize(
    ("steps", "required", "rating"),
    [((1, 2, 3), [1, 2, 3], "P"), ((1, 2, 3), [1, 2, 3, 4], "S"), ((1, 2), [1, 2, 3], "M"), ((1,), [1, 2, 3], "U")],
)
def test_runbook_required_steps(steps: tuple[int, ...], required: list[int], rating: str) -> None:
    d = Drill()
    for t, step in enumerate(steps):
        d.step(100 + t, "alice", step)
    d.run(200, "alice", "step 3 --runbook another", "runbook.step", runbook="another-runbook", step=3, title="")
    found = rate(d, "runbook_steps", required=required)
    assert found.rating == rating
    assert len(found.evidence) == len(steps)


def test_an_unknown_runbook_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="nope"):
        rate(Drill(), "runbook_steps", runbook="nope")


def _with_harmful(*entries: dict[str, str]) -> Scenario:
    raw = yaml.safe_load(SCENARIO_PATH.read_text(encoding="utf-8"))
    raw["ground_truth"]["harmful"] = list(entries)
    return Scenario.model_validate(raw)


@pytest.mark.parametrize(("count", "rating"), [(0, "P"), (1, "S"), (2, "M"), (3, "U")])
def test_harmful_actions_match_targets_with_wildcards(count: int, rating: str) -> None:
    scenario = _with_harmful({"action": "delete_pod", "target": "pod/ranker-*", "why": "the ranker has no spare replica"})
    d = Drill()
    d.mitigate(100, "alice", "delete_pod", "pod/chat-llm-1")
    bad = [d.mitigate(200 + i, "alice", "delete_pod", f"pod/ranker-{i}").seq for i in range(count)]
    found = rate(d, "harmful_actions", scenario=scenario)
    assert (found.rating, found.value) == (rating, count)
    if count:
        assert found.evidence == bad
        assert "the ranker has no spare replica" in found.summary


def ended(percent: float) -> Drill:
    d = Drill()
    d.at(7200, "drill.ended", reason="duration", failed_requests={}, gpu_hours_lost=0,
         slos={"chat-llm-availability": {"good": 99, "bad": 1, "total": 100, "budget_burned_percent": percent},
               "chat-llm-latency": {"good": 100, "bad": 0, "total": 100, "budget_burned_percent": 0.1}})
    return d


@pytest.mark.parametrize(("percent", "rating"), [(1.0, "P"), (1.01, "S"), (2.0, "S"), (4.0, "M"), (4.5, "U")])
def test_error_budget_bands(percent: float, rating: str) -> None:
    found = rate(ended(percent), "error_budget", target_percent=1.0)
    assert (found.rating, found.value, found.evidence) == (rating, percent, [1])


def test_a_killed_drill_without_breaches_says_no_burn_is_known() -> None:
    d = Drill()
    d.at(0, "drill.started")
    found = rate(d, "error_budget")
    assert (found.rating, found.value, found.evidence) == ("N/A", None, [])
    assert "no SLO breach" in found.summary


def unpaged() -> Drill:
    """A drill whose alerts paged nobody: the fault, then a firing alert at 15m, then the team."""
    d = Drill()
    d.at(0, "drill.started")
    d.key["fault"] = d.at(300, "fault.injected", fault="gpu-falls-off-bus", kind="gpu_xid", target="node/gpu-serve-2",
                          description="", params={})
    d.key["alert"] = d.at(900, "alert.firing", alertname="GPUXidError", labels={"severity": "warning"}, annotations={},
                          value=79, group="gpu-health")
    return d


def test_an_unpaged_incident_is_timed_from_its_first_signal_and_has_nothing_to_acknowledge() -> None:
    d = unpaged()
    for t, role in ((1000, "incident_commander"), (1010, "ops"), (1020, "comms"), (1030, "scribe")):
        assign(d, t, role)
    resolved = d.run(900 + 3600, "alice", "resolve", "incident.resolved", text="done")
    assert rate(d, "time_to_acknowledge", target="5m").rating == "N/A"
    assert rate(d, "escalation").rating == "N/A"
    found = rate(d, "time_to_resolve", target="1h")
    assert (found.rating, found.value, found.evidence) == ("P", 3600, [d.key["alert"].seq, resolved.seq])
    assert "the first firing alert, GPUXidError (T+00:15:00; no page was sent)" in found.summary
    roles = rate(d, "roles_assigned", roles=["incident_commander", "ops", "comms", "scribe"], within="15m")
    assert roles.rating == "P" and roles.evidence[0] == d.key["alert"].seq


def test_an_unpaged_incident_nobody_worked_is_u_where_it_applied() -> None:
    d = unpaged()
    d.at(5400, "drill.ended", reason="duration", slos={}, failed_requests={}, gpu_hours_lost=0)
    assert rate(d, "time_to_resolve", target="1h").rating == "U"
    assert rate(d, "roles_assigned", roles=["incident_commander"], within="15m").rating == "U"
    assert rate(d, "status_updates", interval="15m").rating == "U"
    assert rate(d, "hypothesis", target="20m").rating == "U"
    assert rate(d, "harmful_actions").rating == "N/A"  # doing nothing is not "avoiding harm"


def test_pages_that_cleared_before_their_ack_timeout_ask_nothing_of_anyone() -> None:
    d = Drill()
    d.page(1000, "p1", timeout=300)
    d.at(1100, "page.resolved", page="p1", reason="alerts_resolved")
    assert rate(d, "time_to_acknowledge", target="5m").rating == "N/A"
    assert rate(d, "escalation").rating == "N/A"


def test_a_scenario_without_runbook_rates_runbook_use_not_applicable() -> None:
    d = paged(60)
    no_runbook = Context(SCENARIO, [], d.events)
    found = assess(criterion("runbook_steps"), no_runbook)
    assert (found.rating, found.evidence) == ("N/A", [])
    assert "no runbook" in found.summary
