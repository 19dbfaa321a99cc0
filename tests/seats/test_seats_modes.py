"""`tabletop drill --serve` with the console's other modes, with real processes in real terminals
(tmux, as in ``test_seats_tmux``): the facilitator's console and a joined seat each in their own
terminal, and, beside them,

- ``--twin``: real kubectl against the twin's kubeconfig; its writes are commands on the one
  timeline, so the seat's replica runs them too and its copy of the timeline stays the
  facilitator's, byte for byte;
- ``--resume``: a served drill quit before its end and served again keeps its seats' tokens
  and its port (the one in seats.json, free again): a seat that quit joins again with its old one, a seat that stayed joined
  catches up (and goes back with the drill, which resumes from its timeline's last event), and
  both act;
- ``--stack``: real Prometheus and Alertmanager; the seat's clock is the stack's (it runs at the
  stack's speed and the seat cannot pause it), and the seat's commands land.

Each drill is ended or quit from the facilitator's console, and `tabletop replay --verify`
reproduces its timeline.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tabletop.drill.timeline_reader import read_timeline
from tests.prometheus_binaries import alertmanager_binary, prometheus_binary
from tests.seats.test_seats_tmux import wait_for_file
from tests.tui.test_tmux import TABLETOP, Terminal, tmux_binary
from tests.twin.live import kubectl_binary

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Callable[[str], Terminal]]:
    """Terminals by name, one tmux session each on one private tmux server."""
    tmux, socket = tmux_binary(), f"tabletop-modes-{os.getpid()}-{tmp_path.name}"
    made: dict[str, Terminal] = {}

    def named(name: str) -> Terminal:
        if name not in made:
            made[name] = Terminal(tmux, socket, name)
        return made[name]

    try:
        yield named
    finally:
        if made:
            next(iter(made.values())).kill()  # one tmux server holds every session


def tabletop(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(TABLETOP), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def eventually(check: Callable[[], Any], what: Callable[[], str], timeout: float = 60.0) -> Any:
    """Poll ``check`` until it returns something true; fail with ``what()`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, what()
        time.sleep(0.2)


def commands(timeline: Path) -> list[tuple[str | None, str]]:
    return [(e.actor, e.data["line"]) for e in read_timeline(timeline).events if e.kind == "command"]


def seat(terminal: Terminal, url: str, who: str, token: str, out: Path) -> None:
    terminal.start([str(TABLETOP), "join", url, "--as", who, "--token", token, "--out", str(out)], ROOT, 100, 30)


def type_command(terminal: Terminal, line: str) -> None:
    terminal.press(":")
    terminal.wait_for(r"Esc closes")  # the command bar is open
    terminal.press("-l", line)
    terminal.press("Enter")


def show_timeline(terminal: Terminal, pattern: str) -> None:
    """The Timeline tab until it shows ``pattern`` (under load a key may take a moment to be acted on)."""
    deadline = time.monotonic() + 60
    while True:
        terminal.press("5")
        if re.search(pattern, terminal.screen()):
            return
        assert time.monotonic() < deadline, f"the timeline never showed {pattern!r}:\n{terminal.screen()}"
        time.sleep(2)


def end_drill(facilitator: Terminal) -> None:
    facilitator.press("f")
    facilitator.wait_for(r"End the drill")
    facilitator.press("E")
    facilitator.wait_for(r"End the drill now\?")
    facilitator.press("Enter")
    facilitator.wait_for(r"score", timeout=30)


def quit_console(terminal: Terminal) -> str:
    terminal.press("C-q")
    return terminal.wait_for(r"exit status \d+", timeout=30)


def clock(screen: str) -> int:
    """The drill time the status bar shows, in seconds."""
    found = re.search(r"T\+(\d\d):(\d\d):(\d\d)", screen)
    assert found is not None, screen
    hours, minutes, seconds = (int(part) for part in found.groups())
    return hours * 3600 + minutes * 60 + seconds


def replays(timeline: Path) -> None:
    verified = tabletop("replay", str(timeline), "--verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_kubectl_against_the_twin_and_a_seat_act_on_one_drill(terminal: Callable[[str], Terminal],
                                                              tmp_path: Path) -> None:
    kubectl = kubectl_binary()
    out, bob_out = tmp_path / "drill", tmp_path / "bob"
    facilitator, bob = terminal("facilitator"), terminal("bob")
    facilitator.start([str(TABLETOP), "drill", str(BUNDLED), "--serve", "--twin", "--out", str(out)], ROOT, 120, 40)
    facilitator.wait_for(r"⏸ PAUSED", timeout=90)
    wait_for_file(out / "kubeconfig")
    seats = json.loads((out / "seats.json").read_text())
    facilitator.press("Space")
    facilitator.wait_for(r"▶ RUN")
    seat(bob, seats["url"], "bob", seats["seats"]["bob"]["token"], bob_out)
    bob.wait_for(r"▶ RUN[^\n]* as bob", timeout=120)

    def kube(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([kubectl, "--kubeconfig", str(out / "kubeconfig"), "--cache-dir", str(tmp_path / "kube"),
                               *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stdout}{done.stderr}"
        return done

    pod = next(name for name in kube("get", "pods", "-o", "name").stdout.split() if "chat-llm" in name)
    kube("logs", pod, "--tail", "3")  # a read through the drill's thread: it changes nothing on the timeline
    assert "node/gpu-serve-3 cordoned" in kube("--as=chen", "cordon", "gpu-serve-3").stdout
    assert "SchedulingDisabled" in kube("get", "node", "gpu-serve-3").stdout
    type_command(bob, "note bob saw the cordon")
    landed = {("chen", "mitigate cordon node/gpu-serve-3"), ("bob", "note bob saw the cordon")}
    eventually(lambda: landed <= set(commands(out / "timeline.jsonl")),
               lambda: f"not on the timeline: {landed - set(commands(out / 'timeline.jsonl'))}\n{bob.screen()}")
    show_timeline(bob, r"chen +\$ mitigate cordon node/gpu-serve-3")  # the twin's write, in the seat's replica
    assert "node/gpu-serve-3 uncordoned" in kube("--as=bob", "uncordon", "gpu-serve-3").stdout
    show_timeline(bob, r"bob +\$ mitigate uncordon node/gpu-serve-3")

    end_drill(facilitator)
    bob.wait_for(r"(?i)score", timeout=60)  # the end, scored, on the seat too
    assert "exit status 0" in quit_console(facilitator)
    assert "exit status 0" in quit_console(bob)
    timeline = (out / "timeline.jsonl").read_bytes()
    assert read_timeline(out / "timeline.jsonl").events[-1].kind == "drill.ended"
    assert (bob_out / "timeline.jsonl").read_bytes() == timeline
    replays(out / "timeline.jsonl")


def test_a_served_drill_resumed_keeps_its_seats_tokens_and_seats_carry_on(terminal: Callable[[str], Terminal],
                                                                         tmp_path: Path) -> None:
    out = tmp_path / "drill"
    facilitator, bob, chen = terminal("facilitator"), terminal("bob"), terminal("chen")
    facilitator.start([str(TABLETOP), "drill", str(BUNDLED), "--serve", "--speed", "10", "--out", str(out)],
                      ROOT, 120, 40)
    facilitator.wait_for(r"⏸ PAUSED", timeout=90)
    before = json.loads((out / "seats.json").read_text())
    tokens = {who: given["token"] for who, given in before["seats"].items()}
    facilitator.press("Space")
    facilitator.wait_for(r"▶ RUN")
    seat(bob, before["url"], "bob", tokens["bob"], tmp_path / "bob-before")
    seat(chen, before["url"], "chen", tokens["chen"], tmp_path / "chen")
    for who, console in (("bob", bob), ("chen", chen)):
        console.wait_for(rf"▶ RUN[^\n]* as {who}", timeout=120)
        type_command(console, f"note {who} before the break")
    landed = {("bob", "note bob before the break"), ("chen", "note chen before the break")}
    eventually(lambda: landed <= set(commands(out / "timeline.jsonl")), lambda: f"{bob.screen()}\n{chen.screen()}")
    last = read_timeline(out / "timeline.jsonl").events[-1].t
    eventually(lambda: clock(chen.screen()) > last + 20, chen.screen)  # the seat's clock past the last event

    assert "continue it with: tabletop drill --resume" in quit_console(facilitator)
    chen.wait_for(r"cannot reach the drill server", timeout=30)  # chen's seat stays, trying again
    assert "exit status 0" in quit_console(bob)

    resumed = terminal("resumed")
    resumed.start([str(TABLETOP), "drill", "--resume", str(out / "timeline.jsonl"), "--serve"],  # no --port: the
                  ROOT, 120, 40)  # port in seats.json, where chen's seat still looks
    resumed.wait_for(r"⏸ PAUSED", timeout=90)
    after = json.loads((out / "seats.json").read_text())
    assert after["url"] == before["url"]
    assert {who: given["token"] for who, given in after["seats"].items()} == tokens
    chen.wait_for(r"back in touch with the drill server", timeout=60)
    chen.wait_for(r"the drill went back from T\+")
    bob_again = terminal("bob-again")
    seat(bob_again, after["url"], "bob", tokens["bob"], tmp_path / "bob-after")  # the old token
    bob_again.wait_for(r"⏸ PAUSED[^\n]* as bob", timeout=120)
    for who, console in (("bob", bob_again), ("chen", chen)):
        type_command(console, f"note {who} after the break")
    landed = {("bob", "note bob after the break"), ("chen", "note chen after the break")}
    eventually(lambda: landed <= set(commands(out / "timeline.jsonl")),
               lambda: f"{bob_again.screen()}\n{chen.screen()}")
    for console in (bob_again, chen):
        show_timeline(console, r"chen after the break")

    resumed.press("Space")
    resumed.wait_for(r"▶ RUN")
    end_drill(resumed)
    for console in (bob_again, chen):
        console.wait_for(r"(?i)score", timeout=60)
    assert "exit status 0" in quit_console(resumed)
    timeline = (out / "timeline.jsonl").read_bytes()
    for who, console in (("bob-after", bob_again), ("chen", chen)):
        assert "exit status 0" in quit_console(console)
        assert (tmp_path / who / "timeline.jsonl").read_bytes() == timeline, who
    replays(out / "timeline.jsonl")


def test_a_seat_of_a_stack_drill_follows_the_stacks_clock_and_silences_in_alertmanager(
        terminal: Callable[[str], Terminal], tmp_path: Path) -> None:
    prometheus_binary("prometheus")
    alertmanager_binary("alertmanager")
    out, bob_out = tmp_path / "drill", tmp_path / "bob"
    facilitator, bob = terminal("facilitator"), terminal("bob")
    facilitator.start([str(TABLETOP), "drill", str(BUNDLED), "--serve", "--stack", "--speed", "60", "--out", str(out)],
                      ROOT, 160, 45)
    facilitator.wait_for(r"⏸ PAUSED", timeout=90)  # a cold start, then the stack
    seats = json.loads((out / "seats.json").read_text())
    seat(bob, seats["url"], "bob", seats["seats"]["bob"]["token"], bob_out)
    bob.wait_for(r"⏸ PAUSED +×60 [^\n]* as bob", timeout=120)  # the stack's speed, before its clock runs
    facilitator.press("Space")
    facilitator.wait_for(r"▶ RUN +×60", timeout=30)
    bob.wait_for(r"▶ RUN +×60 [^\n]* as bob", timeout=30)
    bob.press("Space")
    bob.wait_for(r"the facilitator runs the clock")

    began, at = clock(bob.screen()), time.monotonic()  # the seat's clock runs on, at the stack's 60x (not 1x)
    eventually(lambda: clock(bob.screen()) >= began + 300, bob.screen, timeout=60)
    assert 20 < 300 / (time.monotonic() - at) < 120  # loose: both readings of the screen may lag under load
    assert "▶ RUN" in bob.screen()

    type_command(bob, 'silence alertname=GPUXidError --duration 1h --comment "bob is on it"')
    timeline = out / "timeline.jsonl"
    silenced = eventually(lambda: [e for e in read_timeline(timeline).events
                                   if e.kind == "alertmanager.silence" and e.data.get("silence") == "S1"],
                          lambda: f"Alertmanager made no silence S1:\n{bob.screen()}", timeout=30)
    assert silenced[0].data["state"] == "active"
    assert ("bob", 'silence alertname=GPUXidError --duration 1h --comment "bob is on it"') in commands(timeline)
    show_timeline(bob, r"bob +\$ silence alertname=GPUXidError")

    end_drill(facilitator)
    bob.wait_for(r"(?i)score", timeout=60)
    assert "exit status 0" in quit_console(facilitator)
    assert "exit status 0" in quit_console(bob)
    assert read_timeline(timeline).header.paging == "alertmanager"
    assert (bob_out / "timeline.jsonl").read_bytes() == timeline.read_bytes()
    replays(timeline)
    running = subprocess.run(["pgrep", "-f", str(out / "stack")], capture_output=True, text=True)
    assert running.stdout.strip() == "", running.stdout
