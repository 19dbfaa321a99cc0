import json

from tabletop.drill.timeline import Event
from tabletop.scoring.score import Score, render_markdown, score_drill

from tests.scoring.drills import load_runbooks, load_scenario, rubric_for, strong, weak

SCENARIO = load_scenario()
RUNBOOKS = load_runbooks(SCENARIO)
RUBRIC = rubric_for(SCENARIO)


def _score(events: list[Event]) -> Score:
    return score_drill(SCENARIO, RUNBOOKS, RUBRIC, events)


def test_a_strong_response_is_all_p_and_cites_events() -> None:
    d = strong()
    score = _score(d.events)
    assert {c.id: c.rating for c in score.criteria} == {c.id: "P" for c in RUBRIC.criteria}
    assert score.total == 100.0
    kinds = {e.seq: e.kind for e in d.events}
    for c in score.criteria:
        assert c.evidence, c.id
        assert all(kinds[e.seq] == e.kind for e in c.evidence)
    assert [e.seq for e in score.criterion("time_to_acknowledge").evidence] == [d.key["page"].seq, d.key["ack"].seq]
    assert score.criterion("time_to_acknowledge").value == 60
    assert score.criterion("time_to_mitigate").value == 900
    assert [e.seq for e in score.criterion("hypothesis").evidence] == [d.key["hypothesis"].seq]
    assert [e.seq for e in score.criterion("handoff_note").evidence] == [d.key["handoff"].seq]
    assert "T+00:16:00" in score.criterion("time_to_acknowledge").summary


def test_a_weak_response_rates_each_miss_with_its_evidence() -> None:
    d = weak()
    score = _score(d.events)
    ratings = {c.id: c.rating for c in score.criteria}
    assert ratings == {
        "time_to_acknowledge": "S", "time_to_mitigate": "S", "time_to_resolve": "S", "escalation": "S",
        "handoff_note": "U", "roles_assigned": "M", "status_updates": "U", "hypothesis": "S",
        "runbook_steps": "U", "harmful_actions": "S", "error_budget": "M",
    }
    k = {name: e.seq for name, e in d.key.items()}
    cited = {c.id: [e.seq for e in c.evidence] for c in score.criteria}
    assert cited["time_to_acknowledge"] == [k["page"], k["ack"]]
    assert cited["escalation"] == [k["escalated"]]
    assert cited["handoff_note"] == [k["reassigned"]]
    assert cited["hypothesis"] == [k["wrong_hypothesis"], k["hypothesis"]]
    assert cited["harmful_actions"] == [k["restart"]]
    assert cited["roles_assigned"] == [k["ack"], k["ic"], k["ops"]]
    assert cited["status_updates"] == [k["ack"], k["resolved"]]
    harmful = score.criterion("harmful_actions")
    assert "rollout_restart deployment/chat-llm at T+00:24:10" in harmful.summary
    assert "140 GB of weights" in harmful.summary
    assert "comms, scribe" in score.criterion("roles_assigned").summary
    assert score.criterion("runbook_steps").value == 30.0
    assert score.criterion("error_budget").value == 3.4


def test_total_is_the_weighted_share_of_points() -> None:
    score = _score(weak().events)
    points = {"P": 100, "S": 75, "M": 40, "U": 0}
    weights = {c.id: c.weight for c in RUBRIC.criteria}
    expected = sum(weights[c.id] * points[c.rating] for c in score.criteria) / sum(weights.values())
    assert score.total == round(expected, 1)
    assert all(c.points == weights[c.id] * points[c.rating] / 100 for c in score.criteria)


def test_a_killed_drill_still_scores_and_says_the_budget_is_estimated() -> None:
    events = [e for e in strong().events if e.t <= 1800]
    score = _score(events)
    budget = score.criterion("error_budget")
    # 1200 bad of 60000 in 900 s: 66.7 rps over 30 days at 99.5% allows 864000 bad requests.
    assert budget.value == round(100 * 1200 / 864000, 3)
    assert budget.rating == "P"
    assert "estimate" in budget.summary
    assert [e.kind for e in budget.evidence] == ["slo.breach_end"]
    assert score.criterion("time_to_resolve").rating == "U"
    assert 0 < score.total < 100


def test_a_drill_killed_mid_breach_rates_what_is_known() -> None:
    events = [e for e in strong().events if e.t <= 1500]
    score = _score(events)
    mitigate = score.criterion("time_to_mitigate")
    assert mitigate.rating == "U"
    assert [e.kind for e in mitigate.evidence] == ["slo.breach_start"]
    budget = score.criterion("error_budget")
    assert "still open" in budget.summary
    assert [e.kind for e in budget.evidence] == ["slo.breach_start"]


def test_an_empty_timeline_scores_zero_without_errors() -> None:
    """Nothing happened, so nothing applied: every criterion N/A, a total of 0 and no division by zero."""
    score = _score([])
    assert {c.rating for c in score.criteria} == {"N/A"}
    assert score.criterion("time_to_acknowledge").rating == "N/A"
    assert score.criterion("time_to_acknowledge").evidence == ()
    assert score.total == 0.0 and score.weight_counted == 0


def test_to_json_is_stable_and_round_trips() -> None:
    first, second = _score(weak().events).to_json(), _score(weak().events).to_json()
    assert json.dumps(first) == json.dumps(second)
    assert list(first) == ["scenario", "rubric", "total", "weight_counted", "weight_total", "criteria"]
    assert list(first["criteria"][0]) == ["id", "title", "measure", "weight", "rating", "applicable", "points", "value",
                                          "summary", "why", "evidence"]
    assert list(first["criteria"][0]["evidence"][0]) == ["seq", "t", "kind", "text"]
    assert json.loads(json.dumps(first)) == first


def test_markdown_has_a_table_and_an_explanation_per_criterion() -> None:
    d = weak()
    text = render_markdown(_score(d.events))
    assert text.startswith("# Drill score: ")
    assert "| Criterion | Rating | Points | Evidence |" in text
    for criterion in RUBRIC.criteria:
        assert f"| {criterion.title} |" in text
        assert f"## {criterion.title}: " in text
    assert f"#{d.key['restart'].seq} T+00:24:10" in text
    assert "`mitigation.applied`: rollout_restart deployment/chat-llm" in text


def test_the_loaders_pieces_score_the_same() -> None:
    from tabletop.scenario.loader import load_scenario as load

    from tests.scoring.drills import SCENARIO_PATH

    loaded = load(SCENARIO_PATH)
    events = weak().events
    assert score_drill(loaded.scenario, loaded.runbooks, loaded.rubric, events) == _score(events)


def test_not_applicable_criteria_are_left_out_of_the_total_and_said_so() -> None:
    """The strong drill without its hand-off: the hand-off note criterion cannot apply once no
    hand-off and no shift change happen while the incident is open, so the total is the share
    earned of the other criteria's weight, and score.md names what was left out and why."""
    events = [e for e in strong().events if e.kind not in ("page.handoff", "rota.shift_change")]
    score = _score(events)
    handoff = score.criterion("handoff_note")
    assert (handoff.rating, handoff.points, handoff.applicable) == ("N/A", 0.0, False)
    assert score.weight_counted == sum(c.weight for c in RUBRIC.criteria) - handoff.weight
    assert score.total == 100.0  # everything that applied was done well
    assert score.counts()["N/A"] == 1
    text = render_markdown(score)
    assert f"| {handoff.title} | N/A | not counted ({handoff.weight:g}) |" in text
    assert "Not applicable to this drill, so left out of the total" in text
    assert f"- {handoff.title}: No hand-off or shift change happened" in text
    assert score.to_json()["criteria"][[c.id for c in score.criteria].index("handoff_note")]["applicable"] is False


def test_a_criterion_with_weight_0_is_switched_off() -> None:
    """``rubric.overrides.<id>.weight: 0`` leaves a criterion out, said as N/A."""
    rubric = RUBRIC.model_copy(update={"criteria": [
        c.model_copy(update={"weight": 0}) if c.id == "runbook_steps" else c for c in RUBRIC.criteria]})
    score = score_drill(SCENARIO, RUNBOOKS, rubric, strong().events)
    steps = score.criterion("runbook_steps")
    assert (steps.rating, steps.points) == ("N/A", 0.0) and "weight 0" in steps.summary
    assert score.total == 100.0 and score.weight_counted == sum(c.weight for c in RUBRIC.criteria) - 10
