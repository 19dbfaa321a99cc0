"""`tabletop drill` in a real terminal: a detached tmux session runs the console, the test
types with ``send-keys`` and reads the screen with ``capture-pane``.

Without tmux the test is skipped, or fails when ``TABLETOP_REQUIRE_TMUX=1`` (so CI cannot
silently stop running it)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tabletop.drill.timeline_reader import read_timeline

REQUIRE = "TABLETOP_REQUIRE_TMUX"
TABLETOP = Path(sys.executable).parent / "tabletop"


def tmux_binary() -> str:
    path = shutil.which("tmux")
    if path is not None:
        return path
    message = "tmux not found: install the Debian package `tmux` (apt-get install tmux)"
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{message}; {REQUIRE}=1 requires it", pytrace=False)
    pytest.skip(message)


class Terminal:
    """One detached tmux session on a private server (``-L``), without the user's tmux.conf."""

    def __init__(self, tmux: str, socket: str, name: str = "drill") -> None:
        self.tmux = tmux
        self.socket = socket
        self.name = name
        self.socket_path: Path | None = None

    def tmux_command(self, *args: str) -> str:
        done = subprocess.run([self.tmux, "-L", self.socket, "-f", os.devnull, *args], capture_output=True,
                              check=False, text=True, env={**os.environ, "TERM": "xterm-256color"}, timeout=10)
        assert done.returncode == 0, f"tmux {' '.join(args)}: {done.stderr}"
        return done.stdout

    def start(self, command: list[str], cwd: Path, width: int, height: int) -> None:
        """Run ``command`` in a new session as in an xterm; its pane stays after it exits, with what
        it printed and ``exit status N``."""
        self.tmux_command("start-server", ";", "set-option", "-g", "remain-on-exit", "on", ";",
                          "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), "-c", str(cwd),
                          "-e", "TERM=xterm-256color", f"{shlex.join(command)}; echo exit status $?")
        self.socket_path = Path(self.pane("socket_path"))

    def screen(self) -> str:
        """What the pane shows (lines the terminal wrapped joined again)."""
        return self.tmux_command("capture-pane", "-p", "-J", "-t", self.name)

    def pane(self, variable: str) -> str:
        return self.tmux_command("display-message", "-p", "-t", self.name, f"#{{{variable}}}").strip()

    def press(self, *keys: str) -> None:
        self.tmux_command("send-keys", "-t", self.name, *keys)

    def resize(self, width: int, height: int) -> None:
        self.tmux_command("resize-window", "-t", self.name, "-x", str(width), "-y", str(height))

    def wait_for(self, pattern: str, timeout: float = 15.0) -> str:
        """Poll the screen until the regular expression ``pattern`` shows; returns the screen."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if re.search(pattern, screen):
                return screen
            if time.monotonic() > deadline:
                pytest.fail(f"{pattern!r} did not show within {timeout:g}s; the screen:\n{screen}", pytrace=False)
            time.sleep(0.05)

    def kill(self) -> None:
        """Stop the server and remove its socket (tmux leaves it behind)."""
        subprocess.run([self.tmux, "-L", self.socket, "kill-server"], capture_output=True, check=False, timeout=10)
        if self.socket_path is not None:
            self.socket_path.unlink(missing_ok=True)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    terminal = Terminal(tmux_binary(), f"tabletop-test-{os.getpid()}-{tmp_path.name}")
    try:
        yield terminal
    finally:
        terminal.kill()


def test_the_console_runs_in_a_real_terminal(terminal: Terminal, tmp_path: Path) -> None:
    out = tmp_path / "out"
    terminal.start([str(TABLETOP), "drill", "--out", str(out)], tmp_path, 120, 40)
    # no scenario given in a terminal: the bank to pick from, Enter takes the bundled default
    terminal.wait_for(r"Drills in the bank:(.|\n)*serving-gpu-node-failure \(intermediate(.|\n)*Drill \[\d+\]:", timeout=60)
    terminal.press("Enter")
    terminal.wait_for(r"⏸ PAUSED .*space starts the clock", timeout=60)  # a cold start imports a lot
    terminal.wait_for(r"1 Incident  2 Signals  3 Investigate  4 Runbook  5 Timeline")

    terminal.press("?")
    terminal.wait_for(r"tabletop drill console — keys")
    terminal.press("Escape")
    screen = terminal.wait_for(r"1 Incident")
    assert "console — keys" not in screen

    terminal.press("Space")
    terminal.wait_for(r"▶ RUN +×1 +T\+00:00:0[1-9]")  # the clock runs on wall time
    terminal.press("Space")
    terminal.wait_for(r"⏸ PAUSED")

    terminal.press("f")
    terminal.wait_for(r"Upcoming messages[\s\S]*T\+00:35:00 in [\s\S]*n: skip to T\+00:34:55")
    terminal.press("n")
    terminal.wait_for(r"T\+00:34:55 of T\+02:00:00")
    terminal.press("f")
    terminal.wait_for(r"1 Incident")

    terminal.resize(40, 12)
    screen = terminal.wait_for(r"(?m)^ ⏸  T\+00:34:55 ")  # redrawn: the narrow status bar drops "PAUSED ×1"
    assert len(screen.splitlines()) <= 12 and max(len(line) for line in screen.splitlines()) <= 40
    terminal.resize(120, 40)
    terminal.wait_for(r"⏸ PAUSED  ×1  T\+00:34:55[\s\S]*1 Incident  2 Signals  3 Investigate  4 Runbook  5 Timeline")
    assert terminal.pane("pane_dead") == "0"

    terminal.press("C-q")
    screen = terminal.wait_for(r"exit status \d+")
    timeline = out / "timeline.jsonl"
    assert f"continue it with: tabletop drill --resume {timeline}\nexit status 0" in screen
    recorded = read_timeline(timeline)
    assert recorded.header.responder == "console"
    assert "page.triggered" in {e.kind for e in recorded.events}  # the skip ahead ran the drill on to T+34:55
