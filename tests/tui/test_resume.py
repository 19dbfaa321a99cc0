"""A console closed halfway (without ending the drill) and resumed from its timeline ends with
the same timeline, byte for byte, as the same drill played straight through."""

from __future__ import annotations

from pathlib import Path

from tabletop.drill.resume import resume_drill
from tabletop.drill.session import DrillSession
from tabletop.drill.timeline_reader import read_timeline
from tabletop.scenario.loader import LoadedScenario
from tabletop.tui.dialogs.confirm import ConfirmDialog
from tabletop.tui.dialogs.handoff import HandoffDialog
from tabletop.tui.dialogs.text import TextDialog
from tabletop.tui.screens.end import EndScreen
from tabletop.tui.screens.facilitator import FacilitatorScreen

from .conftest import console, new_session, paste, run, started, wait_for

FIRST_HALF = [
    (17 * 60, "alice", "ack"),
    (18 * 60, "alice", "note 'Xid 79 on gpu-serve-2'"),
]
SECOND_HALF = [
    (23 * 60, "alice", "handoff bob --status 'one replica down' --actions 'looked at the Xid' --next 'cordon the node'"),
    (30 * 60, "alice", "status 'degraded; working on it'"),
]
END = 40 * 60


async def first_half(pilot, app) -> None:
    app.advance_to(17 * 60)
    await pilot.press("a")
    app.advance_to(18 * 60)
    await pilot.press("n")
    await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
    await paste(pilot, "Xid 79 on gpu-serve-2")
    await pilot.press("enter")
    app.advance_to(20 * 60)
    await pilot.press("ctrl+q")  # quit without ending the drill


async def second_half(pilot, app) -> None:
    app.advance_to(23 * 60)
    await pilot.press("h")
    await wait_for(pilot, lambda: isinstance(app.screen, HandoffDialog))
    for text in ("one replica down", "looked at the Xid", "cordon the node"):
        await paste(pilot, text)
        await pilot.press("enter")
    app.advance_to(30 * 60)
    await pilot.press("s")
    await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
    await paste(pilot, "degraded; working on it")
    await pilot.press("enter")
    app.advance_to(END)
    await pilot.press("f")
    await wait_for(pilot, lambda: isinstance(app.screen, FacilitatorScreen))
    await pilot.press("E")
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, EndScreen))


def test_a_console_closed_halfway_resumes_and_ends_like_a_straight_run(loaded: LoadedScenario, tmp_path: Path) -> None:
    straight = new_session(loaded, seed=9, out_dir=tmp_path / "straight")
    for t, actor, line in FIRST_HALF + SECOND_HALF:
        straight.advance_to(t)
        assert straight.execute(actor, line).ok
    straight.advance_to(END)
    straight.end("facilitator")

    folder = tmp_path / "console"
    session = new_session(loaded, seed=9, out_dir=folder)

    async def before() -> None:
        app = console(session)
        async with app.run_test(size=(100, 30)) as pilot:
            await started(pilot)
            await first_half(pilot, app)
            await wait_for(pilot, lambda: not app.is_running)

    run(before)
    assert not session.ended
    timeline = folder / "timeline.jsonl"
    recorded = read_timeline(timeline)  # on disk already, event by event
    assert [e.data["line"] for e in recorded.events if e.kind == "command"] == [line for _, _, line in FIRST_HALF]

    resumed = DrillSession(loaded, resume_drill(loaded, recorded), out_dir=folder)
    assert resumed.now > 18 * 60

    async def after() -> None:
        app = console(resumed)
        async with app.run_test(size=(100, 30)) as pilot:
            await started(pilot)
            await second_half(pilot, app)

    run(after)
    assert timeline.read_bytes() == (tmp_path / "straight" / "timeline.jsonl").read_bytes()
    for name in ("score.json", "score.md", "postmortem.md"):
        assert (folder / name).read_text() == (tmp_path / "straight" / name).read_text()
