"""Aborting a drill while an experiment's activity runs (the node drain, which polls for 10 s):
the experiment is interrupted the Chaos Toolkit way (SIGUSR1), its rollbacks are played and
recorded, and the timeline ends complete with ``drill.ended``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tabletop.chaos.runner import run_chaos_drill
from tabletop.drill.replay import first_difference, replay_timeline
from tabletop.drill.timeline_reader import read_timeline
from tabletop.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "chaos-serving-replicas.yaml"
EXPERIMENT = "lose-serving-capacity"


def lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()[1:] if line.endswith("}")]


def wait_for_drain(timeline: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(e["kind"] == "chaos.activity.started" and e["data"]["activity"] == "drain-a-node" for e in lines(timeline)):
            time.sleep(1.0)  # well inside drain_nodes' 10 s poll
            return
        time.sleep(0.1)
    raise AssertionError("the drain never started")


def children(name: str) -> list[int]:
    """Live processes whose command line mentions ``name`` and whose parent is this process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        state = stat.rpartition(")")[2].split()[0]
        if name in cmdline and parent == os.getpid() and state != "Z":
            found.append(int(entry.name))
    return found


def assert_interrupted_with_rollbacks(events: list[dict[str, Any]], out: Path, reason: str | None) -> None:
    kinds = [e["kind"] for e in events]
    assert kinds[-1] == "drill.ended" and kinds.count("drill.ended") == 1
    assert events[-1]["data"]["reason"] == "aborted"
    ended = [e for e in events if e["kind"] == "chaos.experiment.ended"]
    assert len(ended) == 1
    assert ended[0]["data"]["status"] == "interrupted" and ended[0]["data"]["reason"] == reason
    assert ended[0]["data"]["journal"] == f"chaos/{EXPERIMENT}.journal.json"
    rollback = [e for e in events if e["kind"] == "chaos.activity.ended" and e["data"]["phase"] == "rollbacks"]
    assert [(r["data"]["activity"], r["data"]["status"]) for r in rollback] == [("uncordon-the-node", "succeeded")]
    drained = [e for e in events if e["kind"] == "chaos.activity.ended" and e["data"]["activity"] == "drain-a-node"]
    assert [(e["data"]["status"], e["data"]["error"]) for e in drained] == [
        ("interrupted", "the experiment was interrupted during this activity")]  # it never finished
    uncordon = [e for e in events if e["kind"] == "command" and e["data"]["line"] == "mitigate uncordon node/gpu-serve-2"]
    assert len(uncordon) == 1 and uncordon[0]["data"]["ok"]
    assert kinds.index("chaos.experiment.ended") < len(kinds) - 1
    journal = json.loads((out / "chaos" / f"{EXPERIMENT}.journal.json").read_text())
    assert journal["status"] == "interrupted"
    assert [r["activity"]["name"] for r in journal["rollbacks"]] == ["uncordon-the-node"]


def test_stopping_the_drill_mid_activity_interrupts_the_experiment_and_plays_its_rollbacks(tmp_path: Path) -> None:
    stop = threading.Event()
    timeline = tmp_path / "timeline.jsonl"
    watcher = threading.Thread(target=lambda: (wait_for_drain(timeline), stop.set()), daemon=True)
    watcher.start()
    began = time.monotonic()
    drill = run_chaos_drill(load_scenario(SCENARIO), out_dir=tmp_path, seed=3, speed=60, stop=stop)
    assert time.monotonic() - began < 30
    events = [e.to_json() for e in drill.timeline.events]
    assert_interrupted_with_rollbacks(events, tmp_path, "the drill ended (aborted)")
    stopped_at = next(e["t"] for e in events if e["kind"] == "chaos.experiment.ended")
    assert all(e["t"] == stopped_at for e in events[-6:])  # the clock stood still while the rollbacks ran
    assert drill.fleet.nodes["gpu-serve-2"].cordoned is False
    assert children("tabletop.chaos.child") == []
    recorded = read_timeline(timeline)
    assert recorded.events[-1].kind == "drill.ended"
    assert first_difference(recorded, replay_timeline(load_scenario(SCENARIO), recorded)) is None


RUN = """
import sys
from pathlib import Path
from tabletop.chaos.runner import run_chaos_drill
from tabletop.scenario.loader import load_scenario
drill = run_chaos_drill(load_scenario(sys.argv[1]), out_dir=Path(sys.argv[2]), seed=3, speed=60, notify=print)
print("ended", drill.timeline.events[-1].data["reason"], flush=True)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_to_tabletop_mid_activity_interrupts_the_experiment_with_rollbacks(tmp_path: Path, sig: int) -> None:
    process = subprocess.Popen([sys.executable, "-c", RUN, str(SCENARIO), str(tmp_path)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_drain(tmp_path / "timeline.jsonl")
        process.send_signal(sig)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert out.strip().splitlines()[-1] == "ended aborted"
    assert_interrupted_with_rollbacks(lines(tmp_path / "timeline.jsonl"), tmp_path, "the drill ended (aborted)")


def test_sigusr1_to_the_experiment_interrupts_it_and_the_drill_goes_on(tmp_path: Path) -> None:
    """The Chaos Toolkit's own interrupt, sent to the experiment's process: rollbacks played, drill unaffected."""
    stop = threading.Event()
    timeline = tmp_path / "timeline.jsonl"
    sent: list[int] = []

    def interrupt() -> None:
        wait_for_drain(timeline)
        sent.extend(children("tabletop.chaos.child"))
        for pid in sent:
            os.kill(pid, signal.SIGUSR1)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(e["kind"] == "chaos.experiment.ended" for e in lines(timeline)):
            time.sleep(0.1)
        time.sleep(1.0)
        stop.set()

    threading.Thread(target=interrupt, daemon=True).start()
    drill = run_chaos_drill(load_scenario(SCENARIO), out_dir=tmp_path, seed=3, speed=60, stop=stop)
    assert len(sent) == 1
    events = [e.to_json() for e in drill.timeline.events]
    assert_interrupted_with_rollbacks(events, tmp_path, None)  # not tabletop's doing: no reason of its own
    ended = next(e for e in events if e["kind"] == "chaos.experiment.ended")
    assert ended["t"] < events[-1]["t"]  # the drill ran on after the experiment


def test_if_tabletop_is_killed_the_experiment_still_plays_its_rollbacks(tmp_path: Path) -> None:
    """SIGKILL leaves no chance to ask: the experiment's process notices it was orphaned and
    interrupts itself; the rollbacks are attempted (here the twin died with tabletop, so they fail)."""
    process = subprocess.Popen([sys.executable, "-c", RUN, str(SCENARIO), str(tmp_path)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_drain(tmp_path / "timeline.jsonl")
    finally:
        process.kill()
        process.wait(10)
    journal_path = tmp_path / "chaos" / f"{EXPERIMENT}.journal.json"
    deadline = time.monotonic() + 30
    while not journal_path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    journal = json.loads(journal_path.read_text())
    assert journal["status"] == "interrupted"
    assert [r["activity"]["name"] for r in journal["rollbacks"]] == ["uncordon-the-node"]
    assert lines(tmp_path / "timeline.jsonl")[-1]["kind"] != "drill.ended"  # what was written stays readable


def test_the_consoles_end_interrupts_the_experiment_with_rollbacks(tmp_path: Path) -> None:
    """A console drill (its timer is the drill's thread) ended by the facilitator mid-drain."""
    from tabletop.chaos.console import ConsoleChaos
    from tabletop.drill.session import DrillSession
    from tabletop.twin.twin import Twin

    session = DrillSession.start(load_scenario(SCENARIO), seed=3, out_dir=tmp_path)
    twin = Twin(session.drill, actor="alice").start()
    chaos = ConsoleChaos(session, twin)
    try:
        session.set_speed(60)
        session.resume()
        deadline, draining = time.monotonic() + 60, None
        while time.monotonic() < deadline and (draining is None or time.monotonic() < draining + 1.0):
            session.advance(0.1)
            chaos.serve()
            if draining is None and any(e.kind == "chaos.activity.started" and e.data["activity"] == "drain-a-node"
                                        for e in session.drill.timeline.events):
                draining = time.monotonic()  # end the drill a second into the drain's 10 s poll
            twin.wake.wait(0.1)
            twin.wake.clear()
        session.end("facilitator")
    finally:
        chaos.leave()
        twin.close()
    events = [e.to_json() for e in session.drill.timeline.events]
    assert events[-1]["data"]["reason"] == "facilitator"
    events[-1]["data"]["reason"] = "aborted"  # the same checks as for an aborted drill
    assert_interrupted_with_rollbacks(events, tmp_path, "the drill ended (facilitator)")
    assert (tmp_path / "postmortem.md").exists() and "uncordon-the-node" in (tmp_path / "postmortem.md").read_text()
