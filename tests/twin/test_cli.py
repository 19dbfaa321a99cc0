"""The twin through the real command line: ``tabletop twin``, ``run --twin`` and ``drill --twin``,
driven with real kubectl; and what bad twin options get."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tabletop.drill.session import DrillSession
from tabletop.drill.timeline_reader import read_timeline
from tabletop.scenario.loader import load_scenario
from tabletop.twin.twin import Twin
from tests.twin.live import BUNDLED, kubectl_binary

TABLETOP = [sys.executable, "-m", "tabletop"]


def kubectl(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([kubectl_binary(), "--kubeconfig", str(kubeconfig), "--cache-dir", str(kubeconfig.parent / "cache"),
                           *args], capture_output=True, text=True, timeout=60)


def wait_for_file(path: Path, process: subprocess.Popen[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} was not written"
        time.sleep(0.05)
    time.sleep(0.1)  # the API starts serving right after the kubeconfig is written


def commands(timeline: Path) -> list[tuple[str, str]]:
    return [(e.actor or "", e.data["line"]) for e in read_timeline(timeline).events if e.kind == "command"]


def test_twin_serves_the_drill_to_its_end_and_writes_the_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen([*TABLETOP, "twin", str(BUNDLED), "--out", str(out), "--speed", "60", "--duration", "8m",
                                "--twin-as", "bob"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_file(out / "kubeconfig", process)
        pods = kubectl(out / "kubeconfig", "get", "pods")
        assert pods.returncode == 0 and "chat-llm-" in pods.stdout, pods.stderr
        assert "node/gpu-serve-1 cordoned" in kubectl(out / "kubeconfig", "cordon", "gpu-serve-1").stdout
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert "serving the simulated fleet as a Kubernetes API at http://127.0.0.1:" in stderr
    assert "context serving-gpu-node-failure, writes as bob" in stderr
    assert "responder twin" in stdout and "commands 1" in stdout
    assert ("bob", "mitigate cordon node/gpu-serve-1") in commands(out / "timeline.jsonl")
    assert {p.name for p in out.iterdir()} >= {"timeline.jsonl", "score.json", "score.md", "postmortem.md", "kubeconfig"}


def test_twin_without_faults_leaves_the_scenarios_faults_to_an_experiment(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ran = subprocess.run([*TABLETOP, "twin", str(BUNDLED), "--out", str(out), "--speed", "240", "--duration", "45m",
                          "--without-faults"], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    lines = [json.loads(line) for line in (out / "timeline.jsonl").read_text().splitlines()]
    assert lines[0]["scenario"]["without_faults"] is True
    assert not any(e["kind"] == "fault.injected" for e in lines[1:])  # the GPU (T+10m) and the node (T+40m) stay well
    assert "faults injected 0" in ran.stdout


def test_run_twin_lets_a_person_act_beside_the_scripted_responder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen([*TABLETOP, "run", str(BUNDLED), "--twin", "--responder", "expert", "--speed", "120",
                                "--duration", "20m", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_file(out / "kubeconfig", process)
        scaled = kubectl(out / "kubeconfig", "--as=chen", "scale", "deployment/ranker", "--replicas=5")
        assert scaled.returncode == 0, scaled.stderr
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    lines = commands(out / "timeline.jsonl")
    assert ("chen", "mitigate scale deployment/ranker replicas=5") in lines
    assert any(actor != "chen" for actor, _ in lines), "the expert worked the drill too"
    assert "responder expert" in stdout


def test_ctrl_c_ends_a_twin_drill_with_its_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen([*TABLETOP, "twin", str(BUNDLED), "--out", str(out)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        wait_for_file(out / "kubeconfig", process)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    events = read_timeline(out / "timeline.jsonl").events
    assert events[-1].kind == "drill.ended" and events[-1].data["reason"] == "aborted"
    assert (out / "postmortem.md").exists()


def test_bad_twin_options_are_refused_clearly(tmp_path: Path) -> None:
    stranger = subprocess.run([*TABLETOP, "twin", str(BUNDLED), "--out", str(tmp_path / "a"), "--twin-as", "mallory"],
                              capture_output=True, text=True, timeout=60)
    assert stranger.returncode == 1 and "Traceback" not in stranger.stderr
    assert "--twin-as: 'mallory' is not a participant of serving-gpu-node-failure; participants: alice" in stranger.stderr
    assert not (tmp_path / "a" / "timeline.jsonl").exists()

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = subprocess.run([*TABLETOP, "twin", str(BUNDLED), "--out", str(tmp_path / "b"), "--twin-port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert busy.returncode == 1 and "Traceback" not in busy.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in busy.stderr


def test_console_drill_serves_its_twin_at_every_tick(tmp_path: Path) -> None:
    """What ``drill --twin`` sets up: the console's timer serves the twin, so kubectl acts on the
    console's drill, even paused, in the person's name."""
    from tabletop.tui import TabletopApp

    loaded = load_scenario(BUNDLED)
    session = DrillSession.start(loaded, seed=1, out_dir=tmp_path, scenario_label="bundled")
    twin = Twin(session.drill, actor="alice")
    kubeconfig = twin.write_kubeconfig(tmp_path / "kubeconfig")

    async def drive() -> None:
        app = TabletopApp(session, acting_as="alice", live_clock=False, toasts=False, on_tick=[twin.serve])
        async with app.run_test(size=(120, 40)) as pilot:
            cordoned = await asyncio.to_thread(kubectl, kubeconfig, "cordon", "gpu-serve-0")
            assert cordoned.returncode == 0, cordoned.stderr
            await pilot.pause()
            assert session.drill.fleet.nodes["gpu-serve-0"].cordoned
            listed = await asyncio.to_thread(kubectl, kubeconfig, "get", "nodes", "-o", "json")
            unschedulable = {n["metadata"]["name"]: n["spec"].get("unschedulable", False) for n in json.loads(listed.stdout)["items"]}
            assert unschedulable["gpu-serve-0"] is True

    with twin:
        asyncio.run(drive())
    assert ("alice", "mitigate cordon node/gpu-serve-0") in commands(tmp_path / "timeline.jsonl")
