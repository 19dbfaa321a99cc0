"""`tabletop drill --stack`: the console's drill on a real Prometheus and Alertmanager.

Prometheus evaluates the time-scaled rules on wall time, so once the stack's clock runs the
console's drill follows it exactly (what ``pace`` computes from ``LiveStack.begin``'s instant)
and refuses to pause, change speed or skip ahead. The session test runs the real binaries
without textual; the terminal test runs the real CLI in tmux; the refusals need neither.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from contextlib import ExitStack, closing
from pathlib import Path

import pytest
from click.testing import CliRunner

from tabletop.cli import main
from tabletop.drill.session import ON_THE_WALL_CLOCK, ClockRefused, DrillSession
from tabletop.drill.timeline_reader import read_timeline
from tabletop.scenario.loader import LoadedScenario
from tabletop.signals.metrics_server import MetricsServer
from tabletop.stack.session import LiveStack
from tabletop.tui.app import TabletopApp
from tests.prometheus_binaries import alertmanager_binary, prometheus_binary

from . import test_tmux
from .conftest import BUNDLED, ROOT
from .test_tmux import TABLETOP, Terminal

CHAOS = ROOT / "scenarios" / "chaos-serving-replicas.yaml"
TICK = 0.2
"""The console's tick at its default 5 Hz."""
terminal = test_tmux.terminal
"""A detached tmux session (the fixture of the terminal tests)."""


def alertmanager_pages(events: list) -> list:
    return [e for e in events if e.kind == "page.triggered" and e.data.get("source") == "alertmanager"]


def refusals(session: DrillSession) -> list[str]:
    """What the session says to a pause (when running), a speed change and a skip ahead."""
    said = []
    changes = [lambda: session.set_speed(10), lambda: session.advance_to(session.now + 300), session.check_skip]
    for change in changes if session.paused else [session.pause, *changes]:
        with pytest.raises(ClockRefused) as refused:
            change()
        said.append(str(refused.value))
    return said


def test_the_session_follows_the_live_stack_clock_and_alertmanager_pages(loaded: LoadedScenario,
                                                                          tmp_path: Path) -> None:
    prometheus_binary("prometheus")
    alertmanager_binary("alertmanager")
    with ExitStack() as exits:
        metrics = exits.enter_context(closing(MetricsServer("127.0.0.1", 0)))
        metrics.start()
        live = LiveStack(loaded, metrics, speed=60, folder=tmp_path / "stack", tick=TICK)
        exits.callback(live.close)
        live.start()
        session = DrillSession.start(loaded, out_dir=tmp_path, paging="alertmanager")
        session.follow(live)
        assert session.speed == 60 and session.paused and session.live_clock_pending
        # before the stack's clock runs the drill stays at its start, and skipping is refused already
        session.advance(1.0)
        session.pause()  # already paused: nothing to refuse
        assert session.now == 0
        assert refusals(session) == [ON_THE_WALL_CLOCK] * 3

        session.resume()  # begin: the stack's clock starts
        clock = session.wall_clock
        assert clock is not None and not session.paused and not session.live_clock_pending
        deadline = clock.wall + 22
        pages: list = []
        while time.monotonic() < deadline and not pages:
            session.advance(TICK)  # the wall seconds given are ignored: the stack's clock decides
            live.step()
            pages = alertmanager_pages(session.drill.timeline.events)
            time.sleep(TICK)
        session.advance(TICK)
        wall, monotonic = time.time(), time.monotonic()
        assert pages, "no page came from Alertmanager"
        # the drill is where pace would have it, on the stack's clock: drill time of now + delay
        assert abs(session.now - (monotonic - clock.wall) * 60) < 0.5
        assert live.clock is not None
        assert abs(session.now - live.clock.drill_seconds(wall + live.delay)) < 0.5
        assert 14 * 60 < pages[0].t < 22 * 60
        assert pages[0].data["receiver"] == "serving-oncall" and pages[0].data["fingerprints"]

        assert refusals(session) == [ON_THE_WALL_CLOCK] * 4
        outputs = session.end("facilitator")  # the facilitator's end is not refused
        assert session.ended and session.paused and outputs.files
    recorded = read_timeline(tmp_path / "timeline.jsonl")
    assert recorded.header.paging == "alertmanager"
    assert [e.data["reason"] for e in recorded.events if e.kind == "drill.ended"] == ["facilitator"]


def test_the_console_on_a_live_stack_in_a_real_terminal(terminal: Terminal, tmp_path: Path) -> None:
    prometheus_binary("prometheus")
    alertmanager_binary("alertmanager")
    out = tmp_path / "out"
    terminal.start([str(TABLETOP), "drill", str(BUNDLED), "--stack", "--speed", "60", "--out", str(out)], ROOT,
                   160, 45)
    terminal.wait_for(r"⏸ PAUSED .*space starts the clock", timeout=90)  # a cold start, then the stack
    terminal.wait_for(r"Live stack in")
    terminal.press("Space")
    terminal.wait_for(r"starting the live stack")
    terminal.wait_for(r"▶ RUN +×60 +T\+00:0[0-9]:", timeout=30)
    terminal.press("+")
    terminal.wait_for(r"the live stack runs on")
    terminal.press("f")
    terminal.wait_for(r"Upcoming messages")
    terminal.press("n")  # skip to the next message
    terminal.wait_for(r"the live stack runs on")
    terminal.press("f")
    timeline = out / "timeline.jsonl"
    deadline = time.monotonic() + 40
    pages: list = []
    while time.monotonic() < deadline and not pages:
        time.sleep(0.5)
        pages = alertmanager_pages(read_timeline(timeline).events)
    assert pages, terminal.screen()
    terminal.wait_for(r"PAGE")
    terminal.press("C-q")
    screen = terminal.wait_for(r"exit status \d+", timeout=30)
    assert f"continue it with: tabletop drill --resume {timeline}\nexit status 0" in screen
    printed = terminal.tmux_command("capture-pane", "-p", "-J", "-S", "-", "-t", terminal.name)  # with the history
    assert re.search(r"Live stack in .*: Prometheus http://127\.0\.0\.1:\d+, Alertmanager http://127\.0\.0\.1:\d+",
                     printed), printed  # printed before the console too
    running = subprocess.run(["pgrep", "-f", str(out / "stack")], capture_output=True, text=True)
    assert running.stdout.strip() == "", running.stdout


def drill(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["drill", *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def unfinished_timeline(loaded: LoadedScenario, folder: Path, paging: str) -> Path:
    session = DrillSession.start(loaded, out_dir=folder, paging=paging,
                                 scenario_label=str(BUNDLED.relative_to(ROOT)))
    session.advance_to(60)
    assert session.execute("alice", "note 'resume from here'").ok  # the last event: the drill resumes at T+00:01:00
    session.drill.timeline.close()
    return folder / "timeline.jsonl"


def test_a_drill_resumes_with_the_paging_it_started_with(loaded: LoadedScenario, tmp_path: Path) -> None:
    by_alertmanager = unfinished_timeline(loaded, tmp_path / "am", "alertmanager")
    by_tabletop = unfinished_timeline(loaded, tmp_path / "tt", "tabletop")
    before = {path: path.read_bytes() for path in (by_alertmanager, by_tabletop)}
    for args, said in (
        (["--resume", str(by_alertmanager), "--scenario", str(BUNDLED)],
         "this drill was paged by Alertmanager: resume it with --stack"),
        (["--resume", str(by_tabletop), "--scenario", str(BUNDLED), "--stack"],
         "this drill was paged by tabletop, not by Alertmanager: resume it without --stack"),
    ):
        code, err = drill(*args)
        assert code == 1 and said in err and "Traceback" not in err, (args, err)
    assert {path: path.read_bytes() for path in before} == before
    assert not (tmp_path / "tt" / "stack").exists()


def test_a_drill_paged_by_alertmanager_resumes_on_a_fresh_stack(loaded: LoadedScenario, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    prometheus_binary("prometheus")
    alertmanager_binary("alertmanager")
    timeline = unfinished_timeline(loaded, tmp_path, "alertmanager")
    seen: list[tuple[float, list[str]]] = []

    def run(app: TabletopApp) -> None:  # the console: start the clock, let it run a second, quit
        app.session.resume()
        start = app.session.now
        for _ in range(5):
            time.sleep(TICK)
            app.tick()
        seen.append((app.session.now - start, list(app.notices)))

    monkeypatch.setattr(TabletopApp, "run", run)
    code, err = drill("--resume", str(timeline), "--scenario", str(BUNDLED), "--stack", "--speed", "30")
    assert code == 0, err
    [(moved, notices)] = seen
    assert 25 < moved < 60  # about a second at 30x
    assert "Prometheus starts afresh at T+00:01:00" in notices[-1] and "Live stack in" in notices[-1]
    assert "Live stack in" in err
    assert read_timeline(timeline).header.paging == "alertmanager"
    running = subprocess.run(["pgrep", "-f", str(tmp_path / "stack")], capture_output=True, text=True)
    assert running.stdout.strip() == "", running.stdout


def test_options_the_console_stack_cannot_go_with_are_refused_before_anything_starts(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for args, said in (
        ([str(BUNDLED), "--stack", "--twin"], "--stack does not run beside --twin"),
        ([str(BUNDLED), "--alertmanager-config", str(tmp_path / "am.yml")], "add --stack"),
        ([str(BUNDLED), "--stack", "--alertmanager-config", str(tmp_path / "none.yml")], "no such file"),
        ([str(CHAOS), "--stack"], "--stack does not run a scenario with Chaos Toolkit experiments"),
    ):
        code, err = drill(*args, "--out", str(out))
        assert code == 1 and said in err and "Traceback" not in err, (args, err)
    assert not out.exists()


def test_a_missing_binary_is_one_line_and_writes_no_timeline(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}  # no prometheus, no alertmanager
    done = subprocess.run([sys.executable, "-m", "tabletop", "drill", str(BUNDLED), "--stack", "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: alertmanager not found: install the Debian package `prometheus-alertmanager` "
        "(apt-get install prometheus-alertmanager)"]
    assert not (tmp_path / "out" / "timeline.jsonl").exists()
