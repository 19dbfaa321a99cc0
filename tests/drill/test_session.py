"""The console's engine side: clock, commands, facilitator, board views, end, and resume."""

from __future__ import annotations

from pathlib import Path

import pytest

from tabletop.drill.engine import Drill
from tabletop.drill.resume import ResumeError, resume_drill
from tabletop.drill.responders.scripted import ScriptResponder
from tabletop.drill.script import ResponderScript
from tabletop.drill.session import DrillSession
from tabletop.drill.timeline_reader import read_timeline
from tabletop.scenario.loader import LoadedScenario, load_scenario

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"

PLAY = [  # (virtual time, actor, command line): a compact drill
    (17 * 60, "alice", "ack"),
    (17 * 60 + 20, "alice", "assign incident_commander alice"),
    (18 * 60, "bob", "logs Xid"),
    (19 * 60, "bob", "hypothesis gpu_xid node/gpu-serve-2 'Xid 79 in the kernel log'"),
    (20 * 60, "bob", "step 5 node=gpu-serve-2"),
    (21 * 60, "erin", "status 'Errors on the assistant; one GPU failed; replacing the replica'"),
    (23 * 60, "alice", "handoff bob --status 'one replica down' --actions 'cordoned gpu-serve-2' --next 'replace the pod'"),
    (45 * 60, "bob", "resolve 'capacity restored'"),
]


@pytest.fixture(scope="module")
def loaded() -> LoadedScenario:
    return load_scenario(BUNDLED)


def play(session: DrillSession, until: float, moves: list[tuple[int, str, str]]) -> None:
    for t, actor, line in moves:
        session.advance_to(t)
        session.execute(actor, line)
    session.advance_to(until)


def test_the_clock_runs_only_when_started_and_at_its_speed(loaded: LoadedScenario) -> None:
    session = DrillSession.start(loaded)
    session.advance(5.0)
    assert session.now == 0.0  # starts paused
    session.resume()
    session.set_speed(60)
    session.advance(10.0)
    assert session.now == 600.0
    session.pause()
    session.advance(10.0)
    assert session.now == 600.0
    with pytest.raises(ValueError):
        session.set_speed(1000)


def test_console_commands_give_the_timeline_of_the_same_script(loaded: LoadedScenario) -> None:
    session = DrillSession.start(loaded, seed=4)
    play(session, 50 * 60, PLAY)
    script = ResponderScript.model_validate({
        "apiVersion": "tabletop/v1", "kind": "ResponderScript", "name": "same",
        "commands": [{"at": t, "as": actor, "run": line} for t, actor, line in PLAY],
    })
    headless = Drill(loaded, seed=4, responder="console")
    ScriptResponder(script).attach(headless)
    headless.advance_to(50 * 60)
    assert headless.timeline.lines() == session.drill.timeline.lines()


def test_board_views_come_from_the_engine(loaded: LoadedScenario) -> None:
    session = DrillSession.start(loaded, seed=4)
    session.advance_to(17 * 60)
    [page] = session.board.pages()
    assert page.state == "triggered" and page.holders == ("alice",) and page.level == 1
    assert 0 < page.escalates_in <= 300
    session.advance_to(17 * 60 + 30)
    assert session.board.pages()[0].escalates_in == pytest.approx(page.escalates_in - 30)
    assert session.board.incident().status_due_in is None  # nobody acknowledged yet
    session.execute("alice", "ack")
    assert session.board.pages()[0].escalates_in is None
    assert session.board.incident().status_due_in == pytest.approx(900)
    names = {i.title: i for i in session.board.indicators}
    assert set(names) == {"ChatLLMHighErrorRate", "ChatLLMLatencyHigh", "KubePodCrashLooping", "KubeNodeNotReady", "GPUXidError"}
    errors = names["ChatLLMHighErrorRate"]
    assert errors.threshold == 0.02 and errors.op == ">"
    assert errors.points[-1][0] == 17 * 60 and errors.breached(errors.latest)
    assert {a.name for a in session.board.alerts()} >= {"ChatLLMHighErrorRate", "GPUXidError"}
    assert [s.in_breach for s in session.board.slos()] == [True, True]
    steps = session.board.steps()
    assert [s.number for s in steps] == list(range(1, 12)) and steps[4].changes_fleet and not steps[1].changes_fleet
    assert [e.kind for e in session.board.events({"page."})][:2] == ["page.triggered", "page.notified"]
    session.advance_to(36 * 60)
    vp = next(m for m in session.board.messages() if m.id == "vp-asks-eta")
    assert vp.sender.startswith("Priya") and vp.expects_reply and not vp.replied and vp.at == 35 * 60


def test_facilitator_actions_are_on_the_timeline_and_theirs_alone(loaded: LoadedScenario) -> None:
    session = DrillSession.start(loaded)
    session.advance_to(60)
    delivered = session.facilitate("inject")
    assert delivered.ok and "vp-asks-eta" in delivered.message
    hint = session.facilitate("hint")
    assert hint.ok and hint.message.startswith("Runbook step 1")
    reveal = session.facilitate("reveal")
    assert reveal.ok and "gpu_xid on node/gpu-serve-2" in reveal.message
    kinds = [e.kind for e in session.drill.timeline.events]
    assert {"inject.delivered", "hint", "ground_truth.revealed"} <= set(kinds)
    assert not session.execute("alice", "facilitate hint").ok
    assert not session.facilitate("dance").ok
    assert not session.drill.execute("facilitator", "ack").ok


def test_ending_scores_and_drafts_like_a_headless_run(loaded: LoadedScenario, tmp_path: Path) -> None:
    session = DrillSession.start(loaded, seed=4, out_dir=tmp_path)
    play(session, 50 * 60, PLAY)
    outputs = session.end()
    assert session.ended and outputs.score.total > 0
    assert (tmp_path / "score.md").read_text() == outputs.score_markdown + "\n"
    assert (tmp_path / "postmortem.md").read_text() == outputs.postmortem
    assert read_timeline(tmp_path / "timeline.jsonl").events[-1].data["reason"] == "facilitator"


def test_a_drill_closed_halfway_and_resumed_ends_like_one_played_through(loaded: LoadedScenario, tmp_path: Path) -> None:
    straight = DrillSession.start(loaded, seed=9, out_dir=tmp_path / "straight")
    play(straight, 50 * 60, PLAY)
    straight.end()

    first = DrillSession.start(loaded, seed=9, out_dir=tmp_path / "resumed")
    play(first, 30 * 60, PLAY[:7])
    timeline = tmp_path / "resumed" / "timeline.jsonl"
    del first  # the console closes without ending the drill
    text = timeline.read_text()
    timeline.write_text(text[: len(text) - 30])  # and, for good measure, its last line was cut short
    recorded = read_timeline(timeline)
    assert recorded.truncated
    second = DrillSession(loaded, resume_drill(loaded, recorded), out_dir=tmp_path / "resumed")
    play(second, 50 * 60, PLAY[7:])
    second.end()
    assert timeline.read_bytes() == (tmp_path / "straight" / "timeline.jsonl").read_bytes()
    assert not (tmp_path / "resumed" / "timeline.jsonl.resuming").exists()


def test_an_ended_or_changed_drill_is_not_resumed(loaded: LoadedScenario, tmp_path: Path) -> None:
    session = DrillSession.start(loaded, out_dir=tmp_path / "a")
    session.advance_to(600)
    session.end()
    with pytest.raises(ResumeError, match="has ended"):
        resume_drill(loaded, read_timeline(tmp_path / "a" / "timeline.jsonl"))
    other = DrillSession.start(loaded, seed=1, out_dir=tmp_path / "b")
    other.advance_to(20 * 60)
    other.execute("alice", "ack")
    lines = (tmp_path / "b" / "timeline.jsonl").read_text().splitlines()
    lines[0] = lines[0].replace('"seed":1', '"seed":2')
    (tmp_path / "b" / "timeline.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(ResumeError, match="does not reproduce"):
        resume_drill(loaded, read_timeline(tmp_path / "b" / "timeline.jsonl"))
    assert (tmp_path / "b" / "timeline.jsonl").read_text().splitlines() == lines  # nothing lost


def test_facilitator_sees_upcoming_messages_and_budget_burn_history(loaded: LoadedScenario) -> None:
    session = DrillSession.start(loaded)
    upcoming = session.board.upcoming_messages()
    assert [(u.id, u.at) for u in upcoming] == [("vp-asks-eta", 35 * 60), ("support-asks", None)]
    assert upcoming[1].condition and upcoming[1].after == 15 * 60
    session.advance_to(36 * 60)
    delivered = {m.id for m in session.board.messages()}
    assert "vp-asks-eta" in delivered
    assert {u.id for u in session.board.upcoming_messages()} == {"vp-asks-eta", "support-asks"} - delivered
    burn = session.board.burn["chat-llm-availability"]
    assert burn[0] == (0.0, 0.0) and burn[-1][0] == 35 * 60 + 30 and burn[-1][1] > 0  # the GPU failure burns budget
    assert [t for t, _ in burn] == sorted(t for t, _ in burn)


def test_after_the_end_commands_are_refused_and_not_recorded(loaded: LoadedScenario) -> None:
    session = DrillSession.start(loaded)
    session.advance_to(loaded.scenario.metadata.duration + 60)
    assert session.ended and session.drill.timeline.events[-1].data["reason"] == "duration"
    count = len(session.drill.timeline.events)
    result = session.execute("alice", "note too late")
    assert not result.ok and "ended" in result.message and len(session.drill.timeline.events) == count
