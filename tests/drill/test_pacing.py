"""Drills paced against the wall clock: the speed holds, the timeline is the headless run's, and
Ctrl-C, SIGTERM or a stop request end the drill "aborted" with its timeline kept."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from tabletop.drill.engine import Drill
from tabletop.drill.live import run_live
from tabletop.drill.pacing import pace
from tabletop.drill.responders import make_responder
from tabletop.drill.run import run_headless
from tabletop.scenario.loader import LoadedScenario, load_scenario

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"
FIVE_MINUTES = 300.0
SEED = 7


@pytest.fixture(scope="module")
def loaded() -> LoadedScenario:
    return load_scenario(BUNDLED)


@pytest.fixture(scope="module")
def headless(loaded: LoadedScenario, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Timeline lines of the unpaced five-minute run."""
    path = tmp_path_factory.mktemp("headless") / "timeline.jsonl"
    run_headless(loaded, make_responder("expert", loaded), seed=SEED, timeline_path=path, until=FIVE_MINUTES)
    return path.read_text().splitlines()


def drill(loaded: LoadedScenario, path: Path) -> Drill:
    d = Drill(loaded, seed=SEED, responder="expert", timeline_path=path)
    make_responder("expert", loaded).attach(d)
    return d


def test_paced_run_keeps_the_speed_and_writes_the_headless_timeline(loaded: LoadedScenario, headless: list[str],
                                                                   tmp_path: Path) -> None:
    path = tmp_path / "timeline.jsonl"
    paced = drill(loaded, path)
    steps: list[float] = []
    began = time.monotonic()
    reason = pace(paced, 600, until=FIVE_MINUTES, on_step=lambda: steps.append(paced.now))
    elapsed = time.monotonic() - began
    assert reason == "duration"
    assert 0.5 <= elapsed < 1.5, elapsed
    assert path.read_text().splitlines() == headless
    assert steps == sorted(steps) and steps[-1] == FIVE_MINUTES and len(steps) >= 4
    assert all(step == round(step, 3) for step in steps)


def test_speed_must_be_positive(loaded: LoadedScenario) -> None:
    with pytest.raises(ValueError, match="speed must be positive"):
        pace(Drill(loaded), 0)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_signal_aborts_between_steps_and_keeps_the_timeline(loaded: LoadedScenario, headless: list[str],
                                                             tmp_path: Path, signum: int) -> None:
    path = tmp_path / "timeline.jsonl"
    paced = drill(loaded, path)
    before = signal.getsignal(signum)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signum))
    timer.start()
    try:
        reason = pace(paced, 200)  # would take 36 s: the signal surely comes first
    finally:
        timer.cancel()
    assert reason == "aborted" and paced.ended
    assert signal.getsignal(signum) is before
    lines = path.read_text().splitlines()
    assert '"reason":"aborted"' in lines[-1] and '"kind":"drill.ended"' in lines[-1]
    # Everything before the abort is exactly what the uninterrupted run recorded.
    assert 0 < paced.now < FIVE_MINUTES and lines[:-1] == headless[: len(lines) - 1]


def test_a_stop_request_from_another_thread_aborts(loaded: LoadedScenario, tmp_path: Path) -> None:
    paced = drill(loaded, tmp_path / "timeline.jsonl")
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    began = time.monotonic()
    assert pace(paced, 1, stop=stop) == "aborted"
    assert time.monotonic() - began < 1.0
    assert paced.timeline.events[-1].kind == "drill.ended"
    assert paced.timeline.events[-1].data["reason"] == "aborted"


def test_a_failing_hook_still_ends_the_drill(loaded: LoadedScenario, tmp_path: Path) -> None:
    paced = drill(loaded, tmp_path / "timeline.jsonl")

    def hook() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        pace(paced, 600, until=FIVE_MINUTES, on_step=hook)
    assert paced.ended and paced.timeline.events[-1].data["reason"] == "aborted"


def test_run_live_without_a_port_only_paces(loaded: LoadedScenario, headless: list[str], tmp_path: Path) -> None:
    path = tmp_path / "timeline.jsonl"
    ports: list[int] = []
    run_live(loaded, make_responder("expert", loaded), seed=SEED, speed=3000, timeline_path=path, until=FIVE_MINUTES,
             on_ready=ports.append)
    assert path.read_text().splitlines() == headless and ports == []


def test_run_live_on_a_busy_port_fails_before_the_drill_starts(loaded: LoadedScenario, tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(OSError):
            run_live(loaded, make_responder("expert", loaded), speed=3000, metrics_port=busy.getsockname()[1],
                     timeline_path=tmp_path / "timeline.jsonl")
    assert not (tmp_path / "timeline.jsonl").exists()
