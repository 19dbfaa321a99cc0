"""A multi-seat drill with real processes in real terminals: the facilitator's console
(`tabletop drill --serve`) and five joined seats (`tabletop join`), each in its own tmux
session; each seat types a command, which lands on the one timeline in its participant's name;
a bad token is refused; every seat's copy of the timeline is the facilitator's, byte for byte,
and `tabletop replay --verify` reproduces it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tabletop.drill.timeline_reader import read_timeline
from tests.tui.test_tmux import TABLETOP, Terminal, tmux_binary

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"
SEATS = ("bob", "chen", "dana", "erin", "farid")


@pytest.fixture
def terminals(tmp_path: Path) -> Iterator[dict[str, Terminal]]:
    tmux, socket = tmux_binary(), f"tabletop-seats-{os.getpid()}-{tmp_path.name}"
    made = {name: Terminal(tmux, socket, name) for name in ("facilitator", *SEATS)}
    try:
        yield made
    finally:
        made["facilitator"].kill()  # one tmux server holds every session


def wait_for_file(path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.1)


def join(url: str, who: str, token: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(TABLETOP), "join", url, "--as", who, "--token", token], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)


def test_five_seats_work_one_drill_in_their_own_names(terminals: dict[str, Terminal], tmp_path: Path) -> None:
    out = tmp_path / "drill"
    facilitator = terminals["facilitator"]
    facilitator.start([str(TABLETOP), "drill", str(BUNDLED), "--serve", "--out", str(out)], ROOT, 120, 40)
    facilitator.wait_for(r"⏸ PAUSED", timeout=90)
    seats = json.loads((out / "seats.json").read_text())
    url = seats["url"]
    assert oct((out / "seats.json").stat().st_mode & 0o777) == "0o600"

    refused = join(url, "bob", "not-a-token")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip() == f"error: cannot join {url} as bob: the drill refused the token: it opens no seat of this drill"
    someone_else = join(url, "chen", seats["seats"]["bob"]["token"])
    assert someone_else.returncode == 1
    assert "this token opens bob's seat, not chen's" in someone_else.stderr

    facilitator.press("Space")
    facilitator.wait_for(r"▶ RUN")
    for who in SEATS:
        terminals[who].start([str(TABLETOP), "join", url, "--as", who, "--token", seats["seats"][who]["token"],
                              "--out", str(tmp_path / who)], ROOT, 100, 30)
    for who in SEATS:
        terminals[who].wait_for(rf"▶ RUN[^\n]* as {who}", timeout=120)  # the facilitator's clock, running

    bob = terminals["bob"]
    bob.press("p")
    bob.wait_for(r"This seat acts as bob only")
    bob.press("Space")
    bob.wait_for(r"the facilitator runs the clock")
    bob.press("f")
    bob.wait_for(r"facilitator's console only")

    for who in SEATS:
        terminals[who].press(":")
        terminals[who].wait_for(r"Esc closes")  # the command bar is open
        terminals[who].press("-l", f"note {who} was here")
        terminals[who].press("Enter")
    deadline = time.monotonic() + 60
    while True:
        notes = {(e.actor, e.data["line"]) for e in read_timeline(out / "timeline.jsonl").events if e.kind == "command"}
        if notes >= {(who, f"note {who} was here") for who in SEATS}:
            break
        missing = [who for who in SEATS if (who, f"note {who} was here") not in notes]
        assert time.monotonic() < deadline, "\n".join(f"{who}:\n{terminals[who].screen()}" for who in missing)
        time.sleep(0.2)
    for who in SEATS:
        terminals[who].wait_for(rf"{who} was here", timeout=30)  # every seat sees every note
    shown = time.monotonic() + 60
    while True:  # the Timeline tab; under load the console may take a moment to act on the key
        facilitator.press("5")
        if re.search(r"farid was here", facilitator.screen()):
            break
        assert time.monotonic() < shown, f"the facilitator's timeline never showed the notes:\n{facilitator.screen()}"
        time.sleep(2)

    facilitator.press("f")
    facilitator.wait_for(r"End the drill")
    facilitator.press("E")
    facilitator.wait_for(r"End the drill now\?")
    facilitator.press("Enter")
    facilitator.wait_for(r"score", timeout=30)
    for who in SEATS:
        terminals[who].wait_for(r"(?i)score", timeout=60)  # the end, scored, on every seat too
    facilitator.press("C-q")
    facilitator.wait_for(r"exit status 0", timeout=30)
    timeline = (out / "timeline.jsonl").read_bytes()
    assert read_timeline(out / "timeline.jsonl").events[-1].kind == "drill.ended"
    for who in SEATS:
        terminals[who].press("C-q")
        terminals[who].wait_for(r"exit status 0", timeout=30)
        assert (tmp_path / who / "timeline.jsonl").read_bytes() == timeline, who
    verified = subprocess.run([str(TABLETOP), "replay", str(out / "timeline.jsonl"), "--verify"], capture_output=True,
                              text=True, timeout=120, cwd=ROOT)
    assert verified.returncode == 0, verified.stdout + verified.stderr
