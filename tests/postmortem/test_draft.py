import re

import pytest
import yaml

from tabletop.drill.timeline import Event
from tabletop.postmortem.draft import write_postmortem
from tabletop.scenario.model import Scenario
from tabletop.scoring.score import render_markdown, score_drill

from tests.scoring.drills import Drill, header, load_runbooks, load_scenario, rubric_for, strong, weak

SCENARIO = load_scenario()
RUNBOOKS = load_runbooks(SCENARIO)
RUBRIC = rubric_for(SCENARIO)

SECTIONS = [
    "## Summary", "## Impact", "## Root causes", "## Trigger", "## Resolution", "## Detection", "## Action items",
    "## Lessons learned", "### What went well", "### What went wrong", "### Where we got lucky", "## Timeline",
    "## Supporting information",
]


def draft(d: Drill, events: list[Event] | None = None, with_header: bool = True) -> str:
    events = d.events if events is None else events
    score = score_drill(SCENARIO, RUNBOOKS, RUBRIC, events)
    return write_postmortem(SCENARIO, RUNBOOKS, events, score, d.timeline.header if with_header else None)


def table_rows(text: str, heading: str) -> list[list[str]]:
    """The first table's body rows under ``heading``, as lists of cells."""
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    lines = section.split("\n|", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in lines]


@pytest.mark.parametrize("build", [strong, weak])
def test_every_section_is_there_in_order(build) -> None:  # type: ignore[no-untyped-def]
    text = draft(build())
    positions = [text.index(heading) for heading in SECTIONS]
    assert positions == sorted(positions)
    assert text.startswith("# Postmortem: Chat assistant degraded")
    assert "| Status | Draft |" in text
    assert "{{" not in text and "{%" not in text


def test_weak_drill_numbers_come_from_the_timeline() -> None:
    text = draft(weak())
    assert "| Authors | Alice Moreau (alice), Bob Okafor (bob) |" in text
    assert "Customer impact: 25m10s, from T+00:14:00 (08:49:00 UTC) to T+00:39:10 (09:14:10 UTC)." in text
    assert "chat-llm 8,200" in text
    assert "GPU-hours lost: 11.25." in text
    assert "| chat-llm-availability | 99.5% | 8,200 | 2,404,200 | 3.40% |" in text
    assert "| T+00:23:20 (08:58:20 UTC) | Alice Moreau | bad_rollout on deployment/chat-llm: maybe the new model version | not the root cause |" in text
    assert "rollout_restart deployment/chat-llm | harmful: Every replica reloads 140 GB" in text
    assert "First alert: `GPUXidError` fired at T+00:11:40 (08:46:40 UTC), 2m20s before the impact began." in text
    assert "sent to Alice Moreau, Chen Wei" in text
    assert "escalated from level 1 to 2 at T+00:20:00 (08:55:00 UTC) (nobody acknowledged in time)" in text
    assert "sha256 `" + "ab" * 32 + "`" in text
    assert "Seed: 7" in text


def test_action_items_come_from_ground_truth_and_rubric_misses() -> None:
    text = draft(weak())
    items = table_rows(text, "## Action items")
    by_type: dict[str, list[list[str]]] = {}
    for row in items:
        by_type.setdefault(row[0], []).append(row)
    assert len(by_type["mitigate"]) == len(SCENARIO.ground_truth.fixes)
    assert len(by_type["prevent"]) == len(SCENARIO.ground_truth.contributing_factors)
    drain = next(row for row in by_type["mitigate"] if row[1].startswith("drain"))
    assert (drain[2], drain[3]) == ("gpu-infra", "P0")
    handoff = next(row for row in by_type["process"] if "hand-offs" in row[1])
    assert handoff[1] == "Practise hand-offs with status, actions taken and next steps"
    assert (handoff[2], handoff[3]) == ("Bob Okafor", "P1")
    assert len(by_type["process"]) == 11  # every criterion missed P in the weak drill
    assert all(row[3] in ("P0", "P1", "P2") for row in items)


def test_lessons_split_by_rating_and_spot_luck() -> None:
    strong_text, weak_text = draft(strong()), draft(weak())
    assert "- Acknowledge the page promptly: " in strong_text.split("### What went well")[1].split("###")[0]
    wrong = weak_text.split("### What went wrong")[1].split("###")[0]
    assert "Follow the runbook (U)" in wrong and "Acknowledge the page promptly" not in wrong
    lucky = strong_text.split("### Where we got lucky")[1].split("## ")[0]
    assert "Fault node-hangs (node_not_ready on node/gpu-serve-2, T+00:40:00) never coincided with an SLO breach." in lucky
    assert "gpu-falls-off-bus" not in lucky


def test_timeline_marks_milestones_on_their_events() -> None:
    rows = table_rows(draft(strong()), "## Timeline")
    assert rows[0][2] == "fault gpu-falls-off-bus injected: gpu_xid on node/gpu-serve-2"
    marked = {row[4].strip("*"): (row[0], row[1]) for row in rows if row[4]}
    assert marked == {
        "Detected": ("T+00:11:40", "08:46:40"), "Impact begins": ("T+00:14:00", "08:49:00"),
        "Paged": ("T+00:15:00", "08:50:00"), "Acknowledged": ("T+00:16:00", "08:51:00"),
        "Mitigated": ("T+00:29:00", "09:04:00"), "Resolved": ("T+00:45:00", "09:20:00"),
    }
    texts = [row[2] for row in rows]
    assert any(t.startswith("alice handed off to bob") for t in texts)
    assert "cordon node/gpu-serve-2" in texts
    assert any(t.startswith("status update:") for t in texts)
    assert any(t.startswith("hypothesis:") for t in texts)


def test_a_killed_drill_renders_with_estimates() -> None:
    d = strong()
    text = draft(d, [e for e in d.events if e.t <= 1800])
    assert "GPU-hours lost: not recorded (the drill did not end normally)." in text
    assert "Failed requests (at least; counted during SLO breaches, the drill did not end normally): chat-llm 1,200." in text
    assert "(estimate)" in text
    assert "The incident was not resolved before the drill stopped." in text
    mid_breach = draft(d, [e for e in d.events if e.t <= 1500])
    assert "Failed requests: not known" in mid_breach
    assert "until the drill stopped at T+00:25:00 (09:00:00 UTC), at least 11m." in mid_breach


def test_without_a_header_seed_and_hash_are_not_recorded() -> None:
    text = draft(weak(), with_header=False)
    assert "Seed: not recorded." in text
    assert "sha256" not in text


def test_the_draft_is_deterministic() -> None:
    assert draft(weak()) == draft(weak())


TINY = """
apiVersion: tabletop/v1
kind: Scenario
metadata:
  id: training-hang
  title: Pretraining stalls on a hung collective
  summary: A worker of the pretraining job hangs in an all-reduce.
  difficulty: beginner
  learning_objectives: [Spot a stalled training job]
  duration: 1h
  start: "2026-05-04T22:00:00Z"
fleet:
  node_pools: [{name: train, gpu_model: H100-SXM-80GB, nodes: 4}]
  training_jobs:
    - name: pretrain
      node_pool: train
      gang_size: 4
      step_time: 2s
      checkpoint_interval: 30m
      storage: {capacity: 100Ti, used: 20Ti}
faults:
  - {id: hang, kind: nccl_hang, target: job/pretrain, when: {at: 5m}}
participants:
  - {id: sam, name: Sam Lee, team: training}
ground_truth:
  root_cause: {fault: hang, summary: One worker hung inside an NCCL all-reduce and the job stopped making progress.}
  trigger: A hung collective on one worker.
  severity: SEV3
  fixes:
    - {action: restart_training, target: job/pretrain}
"""


def test_a_different_tiny_scenario_renders_sensibly() -> None:
    scenario = Scenario.model_validate(yaml.safe_load(TINY))
    d = Drill(header("training-hang", "2026-05-04T22:00:00Z"))
    d.at(300, "fault.injected", fault="hang", kind="nccl_hang", target="job/pretrain", description="", params={})
    d.at(900, "alert.firing", alertname="TrainingStalled", labels={"job": "pretrain", "team": "training"}, annotations={}, value=0)
    d.at(930, "page.triggered", page="p1", policy="training", group={}, alerts=["TrainingStalled"], title="pretrain stalled")
    d.at(930, "page.notified", page="p1", level=1, loop=0, targets=["sam"], ack_timeout=300)
    d.ack(1000, "sam")
    d.run(1100, "sam", "hypothesis nccl_hang job/pretrain", "hypothesis", cause="nccl_hang", target="job/pretrain")
    fix = d.mitigate(1200, "sam", "restart_training", "job/pretrain")
    d.at(1200, "fault.mitigated", fault="hang", command=fix.data["command"])
    d.run(1500, "sam", "resolve", "incident.resolved", text="training resumed")
    d.at(3600, "drill.ended", reason="duration", slos={}, failed_requests={}, gpu_hours_lost=10.7)
    rubric = rubric_for(scenario)
    score = score_drill(scenario, [], rubric, d.events)
    text = write_postmortem(scenario, [], d.events, score, d.timeline.header)
    for heading in SECTIONS:
        assert heading in text
    assert "# Postmortem: Pretraining stalls on a hung collective" in text
    assert "| Date | 2026-05-04 |" in text
    assert "| Authors | Sam Lee (sam) |" in text
    assert "Customer impact: 15m, from T+00:05:00 (22:05:00 UTC) to T+00:20:00 (22:20:00 UTC)." in text
    assert "restart_training job/pretrain | ended the impact of hang |" in text
    assert "GPU-hours lost: 10.70." in text
    assert "| mitigate | restart_training job/pretrain (done at T+00:20:00 by Sam Lee) | training | P1 |" in text
    assert "chat-llm" not in text and "gpu-serve" not in text
    assert score.criterion("runbook_steps").rating == "N/A"  # the scenario has no runbook: not counted
    assert "Not applicable to this drill, so left out of the total" in render_markdown(score)
