"""The console's own behaviour: keys, screens, acting as, the command bar, the clock, sizes."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Sparkline

from tabletop.scenario.loader import LoadedScenario
from tabletop.tui import format as fmt
from tabletop.tui.dialogs.choice import ChoiceDialog
from tabletop.tui.dialogs.confirm import ConfirmDialog
from tabletop.tui.dialogs.handoff import HandoffDialog
from tabletop.tui.dialogs.text import TextDialog
from tabletop.tui.screens.end import EndScreen
from tabletop.tui.screens.facilitator import FacilitatorScreen
from tabletop.tui.screens.help import HelpScreen
from tabletop.tui.screens.main import MainScreen
from tabletop.tui.widgets.alerts import AlertsTable
from tabletop.tui.widgets.investigate import InvestigateView
from tabletop.tui.widgets.pager import PagerPanel
from tabletop.tui.widgets.timeline import MAX_LINES, TimelineLog

from .conftest import console, new_session, paste, run, screen_text, started, type_text, wait_for


def commands(session) -> list[tuple[str | None, str, bool]]:
    return [(e.actor, e.data["line"], e.data["ok"]) for e in session.drill.timeline.events if e.kind == "command"]


def test_acting_as_changes_the_actor_on_the_timeline(loaded: LoadedScenario) -> None:
    session = new_session(loaded)

    async def play() -> None:
        app = console(session)
        async with app.run_test(size=(100, 30)) as pilot:
            await started(pilot)
            app.advance_to(10 * 60)
            await pilot.press("n")
            await paste(pilot, "alice sees errors")
            await pilot.press("enter")
            await pilot.press("p")
            await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
            await pilot.press("down", "down", "down", "down", "enter")  # erin
            assert app.acting_as == "erin"
            assert "as erin" in screen_text(app)
            await pilot.press("n")
            await paste(pilot, "support hears of timeouts")
            await pilot.press("enter")

    run(play)
    assert commands(session) == [("alice", "note 'alice sees errors'", True),
                                 ("erin", "note 'support hears of timeouts'", True)]
    notes = [e for e in session.drill.timeline.events if e.kind == "note"]
    assert [e.actor for e in notes] == ["alice", "erin"]


def test_the_command_bar_runs_any_command_and_shows_refusals(loaded: LoadedScenario) -> None:
    session = new_session(loaded)

    async def play() -> None:
        app = console(session)
        async with app.run_test(size=(100, 30)) as pilot:
            await started(pilot)
            app.advance_to(17 * 60)
            await pilot.press("colon")
            await paste(pilot, "get pods")
            await pilot.press("enter")
            assert app.main.query_one(InvestigateView).active == "inv-console"
            output = app.main.console_output()
            assert any("CrashLoopBackOff" in line.text for line in output.lines)
            await pilot.press("colon")  # typed key by key: '-', '/' and '+' are text here, not keys
            await paste(pilot, "describe node")
            await type_text(pilot, "/gpu-serve-2")
            await pilot.press("enter")
            await pilot.press("colon")
            await paste(pilot, "frobnicate now")
            await pilot.press("enter")
            notices = [n.message for n in app._notifications]
            assert any("unknown command 'frobnicate'" in n for n in notices)
            await pilot.press("a")  # no page for erin... but alice holds P1: acknowledged
            await pilot.press("a")  # again: the engine says so
            assert session.speed == 1.0  # '-' and '+' typed in the bar did not change the speed

    run(play)
    assert commands(session) == [
        ("alice", "get pods", True), ("alice", "describe node/gpu-serve-2", True), ("alice", "frobnicate now", False),
        ("alice", "ack", True), ("alice", "ack", True),
    ]
    assert session.drill.timeline.events[-1].data["message"] == "P1 is already acknowledged by you"


def test_pages_alert_visibly_and_count_down(loaded: LoadedScenario) -> None:
    session = new_session(loaded)

    async def play() -> None:
        app = console(session)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            app.advance_to(17 * 60)
            await pilot.pause()
            pager = app.main.query_one("#pager", PagerPanel)
            assert pager.has_class("-paging")
            text = screen_text(app)
            assert "P1 PAGING alice 04:00" in text and "T+00:17:00" in text and "08:52:00" in text
            assert "escalates in 04:00" in text
            app.advance_to(17 * 60 + 30)
            await pilot.pause()
            assert "escalates in 03:30" in screen_text(app)
            await pilot.press("a")
            assert not pager.has_class("-paging")
            assert "P1 ACKNOWLEDGED" in screen_text(app)

    run(play)


def test_the_live_clock_moves_virtual_time_from_wall_time_times_speed(loaded: LoadedScenario) -> None:
    session = new_session(loaded)
    wall = [100.0]

    async def play() -> None:
        app = console(session, live_clock=True, wall=lambda: wall[0])
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            wall[0] += 5
            app.tick()
            assert session.now == 0.0  # a drill starts paused
            await pilot.press("space")
            assert not session.paused
            await pilot.press("plus", "plus", "plus", "plus", "plus")  # 2, 5, 10, 30, 60
            assert session.speed == 60.0
            for _ in range(10):
                wall[0] += 1
                app.tick()
            assert session.now == 600.0
            wall[0] += 3600  # a suspended terminal: one tick counts for two wall seconds at most
            app.tick()
            assert session.now == 720.0
            assert "T+00:12:00" in screen_text(app) and "RUN" in screen_text(app)
            await pilot.press("minus")
            assert session.speed == 30.0
            await pilot.press("space")
            wall[0] += 10
            app.tick()
            assert session.now == 720.0 and "PAUSED" in screen_text(app)

    run(play)


def test_the_facilitator_screen_runs_the_drill(loaded: LoadedScenario, tmp_path: Path) -> None:
    session = new_session(loaded, out_dir=tmp_path)

    async def play() -> None:
        app = console(session)
        async with app.run_test(size=(100, 30)) as pilot:
            await started(pilot)
            app.advance_to(5 * 60)
            await pilot.press("f")
            await wait_for(pilot, lambda: isinstance(app.screen, FacilitatorScreen))
            await pilot.press("space")
            assert not session.paused
            await pilot.press("plus", "plus")
            assert session.speed == 5.0
            await pilot.press("minus")
            assert session.speed == 2.0
            await pilot.press("space")
            assert session.paused
            await pilot.press("i", "h", "g")
            assert "root cause: gpu_xid on node/gpu-serve-2" in screen_text(app)
            await pilot.press("f")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            await pilot.press("f")
            await wait_for(pilot, lambda: isinstance(app.screen, FacilitatorScreen))
            await pilot.press("E")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, EndScreen))
            end = app.screen
            assert "Drill ended (facilitator) at T+00:05:00" in screen_text(app)
            assert end.query_one("#end-table").row_count == len(session.outputs.score.criteria)
            for tab in ("2", "3", "4"):
                await pilot.press(tab)
            assert str(tmp_path / "postmortem.md") in screen_text(app)
            await pilot.press("escape")  # back to the drill, which refuses commands now
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            await pilot.press("a")
            assert any("the drill has ended" in n.message for n in app._notifications)
            await pilot.press("f")  # the facilitator key shows the result again
            await wait_for(pilot, lambda: isinstance(app.screen, EndScreen))

    run(play)
    kinds = [(e.kind, e.actor) for e in session.drill.timeline.events]
    assert ("inject.delivered", None) in kinds and ("hint", "facilitator") in kinds
    assert ("ground_truth.revealed", "facilitator") in kinds
    assert session.drill.timeline.events[-1].kind == "drill.ended"
    assert session.drill.timeline.events[-1].data["reason"] == "facilitator"
    assert {p.name for p in tmp_path.iterdir()} == {"timeline.jsonl", "score.json", "score.md", "postmortem.md"}
    assert (tmp_path / "score.md").read_text() == session.outputs.score_markdown + "\n"


def test_the_facilitator_sees_upcoming_messages_and_skips_ahead(loaded: LoadedScenario) -> None:
    session = new_session(loaded)

    async def play() -> None:
        app = console(session, toasts=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await started(pilot)
            app.advance_to(5 * 60)
            await pilot.press("f")
            await wait_for(pilot, lambda: isinstance(app.screen, FacilitatorScreen))
            text = screen_text(app)
            assert "T+00:35:00 in 30:00" in text and "Priya Raman (VP Product) [vp-asks-eta]" in text
            assert "on condition" in text and 'when ALERTS{alertname="ChatLLMHighErrorRate"' in text
            assert "n: skip to T+00:34:55" in text
            await pilot.press("n")  # to just before the VP's message
            assert session.now == 35 * 60 - 5 and "T+00:34:55 of T+02:00:00" in screen_text(app)
            await pilot.press("n")  # nothing else has a time: the clock stays
            await wait_for(pilot, lambda: "no stakeholder message is scheduled ahead" in screen_text(app))
            assert session.now == 35 * 60 - 5
            await pilot.click("#fac-skip")
            await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
            assert "+5m   to T+00:39:55" in screen_text(app)
            await pilot.press("enter")  # +5m is offered first
            await wait_for(pilot, lambda: isinstance(app.screen, FacilitatorScreen))
            assert session.now == 40 * 60 - 5
            assert "every message has been delivered" in screen_text(app)
            app.advance_to(90 * 60)
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
            assert "+1h   to T+02:00:00, the end of the drill" in screen_text(app)
            await pilot.press("end", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, EndScreen))
            assert "Drill ended (duration) at T+02:00:00" in screen_text(app)

    run(play)
    assert not any(e.actor == "facilitator" for e in session.drill.timeline.events)  # skipping only moves the clock
    assert [e.data["inject"] for e in session.drill.timeline.events if e.kind == "inject.delivered"] == [
        "support-asks", "vp-asks-eta"]


def test_each_slo_shows_its_budget_burn_as_it_grows(loaded: LoadedScenario) -> None:
    session = new_session(loaded)
    burn = session.board.burn["chat-llm-availability"]

    async def play() -> None:
        app = console(session)
        async with app.run_test(size=(100, 30)) as pilot:
            await started(pilot)
            await pilot.press("2")
            for minute in range(1, 21):  # a sample of the budget each time the console draws
                app.advance_to(minute * 60)
            await pilot.pause()
            spark = app.main.query_one(".slo-spark", Sparkline)
            assert spark.data == [percent for _, percent in burn] and len(spark.data) == 21
            assert spark.data[-1] > 100 * spark.data[9]  # the GPU failure at T+10m burns the budget
            text = screen_text(app)
            assert "SLO chat-llm-availability" in text and f"budget ░░░░░░░░ {burn[-1][1]:6.2f}% burn ▁" in text
            app.advance_to(21 * 60)
            await pilot.pause()
            assert len(spark.data) == 22 and spark.data[-1] == burn[-1][1]

    run(play)


def test_the_drill_ends_at_its_duration_and_shows_the_score(loaded: LoadedScenario) -> None:
    session = new_session(loaded)
    wall = [0.0]

    async def play() -> None:
        app = console(session, live_clock=True, wall=lambda: wall[0])
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot)
            app.advance_to(loaded.scenario.metadata.duration - 10)
            session.resume()
            session.set_speed(10)
            wall[0] += 1.5
            app.tick()
            await wait_for(pilot, lambda: isinstance(app.screen, EndScreen))
            await pilot.pause()
            assert "Drill ended (duration) at T+02:00:00" in screen_text(app)

    run(play)
    assert session.ended and session.drill.timeline.events[-1].data["reason"] == "duration"


def test_help_lists_the_keys(loaded: LoadedScenario) -> None:
    async def play() -> None:
        app = console(new_session(loaded))
        async with app.run_test(size=(110, 90)) as pilot:
            await started(pilot)
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
            text = screen_text(app)
            for words in ("Hand off", "Run/pause", "Act as", "Inject now", "Quit", "Command bar",
                          "Skip to next message", "Skip ahead"):
                assert words in text, words
            await pilot.press("question_mark")  # ? closes it too
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            await pilot.press("question_mark", "escape")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    run(play)


def test_the_timeline_filters_by_kind(loaded: LoadedScenario) -> None:
    session = new_session(loaded)

    async def play() -> None:
        app = console(session)
        async with app.run_test(size=(100, 30)) as pilot:
            await started(pilot)
            app.advance_to(17 * 60)
            await pilot.press("a", "5")
            log = app.main.query_one("#timeline-log", TimelineLog)
            await wait_for(pilot, lambda: len(log.lines) > 5)
            await pilot.press("t")  # all → commands
            await wait_for(pilot, lambda: log.kinds == {"command"})
            await pilot.pause()
            assert [line.text.split()[2] for line in log.lines] == ["$"]
            app.advance_to(18 * 60)
            await pilot.press("colon")
            await paste(pilot, "note two")
            await pilot.press("enter", "5")
            await pilot.pause()
            assert len(log.lines) == 2
            for n in range(MAX_LINES + 100):  # a long drill: the widget keeps the newest, the engine all
                session.execute("bob", f"note {n}")
            app.refresh_views()
            await pilot.pause()
            assert len(log.lines) == MAX_LINES and log.lines[-1].text.rstrip().endswith("→ noted")
            assert sum(1 for e in session.drill.timeline.events if e.kind == "command") == MAX_LINES + 102

    run(play)


def test_the_team_sees_what_the_faults_do_not_the_faults_until_the_reveal(loaded: LoadedScenario) -> None:
    session = new_session(loaded)

    async def play() -> None:
        app = console(session)
        async with app.run_test(size=(120, 40)) as pilot:
            await started(pilot)
            app.advance_to(17 * 60)  # the GPU fell off the bus at 10m; alerts fire, the pod crash-loops
            await pilot.press("a", "5")
            log = app.main.query_one("#timeline-log", TimelineLog)
            await wait_for(pilot, lambda: len(log.lines) > 5)
            text = "\n".join(line.text for line in log.lines)
            assert "alert GPUXidError firing" in text and "BackOff" in text
            assert "gpu-falls-off-bus" not in text and "injected" not in text
            session.execute("facilitator", "facilitate reveal")
            app.refresh_views()
            await pilot.pause()
            text = "\n".join(line.text for line in log.lines)
            assert "fault gpu-falls-off-bus injected: gpu_xid on node/gpu-serve-2" in text

    run(play)


def test_the_timeline_follows_new_events_unless_scrolled_back(loaded: LoadedScenario) -> None:
    session = new_session(loaded)

    async def play() -> None:
        app = console(session)
        async with app.run_test(size=(160, 50)) as pilot:
            await started(pilot)
            side = app.main.query_one("#side-timeline", TimelineLog)
            for n in range(120):
                session.execute("bob", f"note reading {n}")
            app.refresh_views()
            await wait_for(pilot, lambda: side.max_scroll_y > 0 and side.scroll_y == side.max_scroll_y)
            assert side.lines[-1].text.rstrip().endswith("note: reading 119")
            assert all(len(line.text) == side.scrollable_content_region.width for line in side.lines)
            side.scroll_to(y=side.max_scroll_y - 30, animate=False, immediate=True)  # reading back
            await pilot.pause()
            top = side.lines[side.scroll_y].text
            for n in range(20):  # the oldest held lines go to make room
                session.execute("bob", f"note more {n}")
            app.refresh_views()
            await pilot.pause()
            assert len(side.lines) == side.max_lines
            assert side.lines[side.scroll_y].text == top, "the lines being read moved"
            side.scroll_end(animate=False, immediate=True)  # back at the end: it follows again
            await pilot.pause()
            session.execute("bob", "note the newest")
            app.refresh_views()
            await wait_for(pilot, lambda: side.scroll_y == side.max_scroll_y)
            assert side.lines[-1].text.rstrip().endswith("note: the newest")

    run(play)


def test_the_incident_panel_lists_the_newest_hypotheses(loaded: LoadedScenario) -> None:
    session = new_session(loaded)

    async def play() -> None:
        app = console(session)
        async with app.run_test(size=(160, 50)) as pilot:
            await started(pilot)
            app.advance_to(17 * 60)
            targets = ["node/gpu-serve-0", "node/gpu-serve-1", "node/gpu-serve-2", "node/gpu-serve-3"]
            for n in range(8):
                assert session.execute("bob", f"hypothesis gpu_xid {targets[n % 4]} 'guess {n}'").ok
            app.refresh_views()
            await pilot.pause()
            text = screen_text(app)
            assert "(2 earlier on the timeline)" in text
            assert text.count("• gpu_xid on node/gpu-serve-") == 6

    run(play)


def test_the_alerts_table_keeps_up_with_values_states_and_new_alerts(loaded: LoadedScenario) -> None:
    session = new_session(loaded)

    async def play() -> None:
        app = console(session)
        async with app.run_test(size=(160, 50)) as pilot:
            await started(pilot)
            await pilot.press("2")
            table = app.main.query_one(AlertsTable)
            seen_values, seen_sets = set(), set()
            for second in range(10 * 60, 20 * 60, 30):
                app.advance_to(second)
                await pilot.pause()
                alerts = sorted(session.board.alerts(), key=lambda a: (a.state != "firing", a.since, a.name))
                shown = [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]
                assert shown == [[a.state, a.name, fmt.clock(a.since), fmt.number(a.value), a.summary] for a in alerts]
                seen_sets.add(tuple((a.name, a.state) for a in alerts))
                seen_values.add(tuple(fmt.number(a.value) for a in alerts))
            assert len(seen_sets) > 2 and len(seen_values) > len(seen_sets)  # both paths were taken

    run(play)


def test_the_timeline_takes_a_new_theme(loaded: LoadedScenario) -> None:
    session = new_session(loaded)

    async def play() -> None:
        app = console(session)
        async with app.run_test(size=(160, 50)) as pilot:
            await started(pilot)
            app.advance_to(12 * 60)
            side = app.main.query_one("#side-timeline", TimelineLog)
            await wait_for(pilot, lambda: len(side.lines) > 5)
            dark = side.lines[0].render(app.console)
            app.theme = "textual-light"
            await wait_for(pilot, lambda: side.lines[0].render(app.console) != dark)
            background = side.rich_style.bgcolor
            assert all(segment.style.bgcolor == background for line in side.lines for segment in line)

    run(play)


def test_tiny_terminals_and_resizes_do_not_break_it(loaded: LoadedScenario) -> None:
    session = new_session(loaded)

    async def play() -> None:
        app = console(session)
        async with app.run_test(size=(40, 12)) as pilot:
            await started(pilot)
            app.advance_to(36 * 60)
            for key in ("1", "2", "3", "4", "5", "1"):
                await pilot.press(key)
            assert "T+00:36:00" in screen_text(app)
            await pilot.press("h")
            await wait_for(pilot, lambda: isinstance(app.screen, HandoffDialog))
            await pilot.press("escape", "question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
            await pilot.press("escape", "f")
            await wait_for(pilot, lambda: isinstance(app.screen, FacilitatorScreen))
            for width, height in ((20, 6), (200, 60), (10, 3)):
                await pilot.resize_terminal(width, height)
                await pilot.pause()
            await pilot.press("f")
            for width, height in ((30, 8), (120, 40)):
                await pilot.resize_terminal(width, height)
                await pilot.pause()
            assert app.main.has_class("-medium")
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
            await pilot.press("escape")
            assert "T+00:36:00" in screen_text(app)

    run(play)
