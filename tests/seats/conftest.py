"""The seats' tests' fixtures: a real seat server on loopback over a DrillSession, whose drill
thread is a test thread calling ``serve``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tabletop.drill.session import DrillSession
from tabletop.scenario.loader import LoadedScenario, load_scenario
from tabletop.seats.server import SeatServer
from tabletop.seats.tokens import SeatTokens

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"


@pytest.fixture(scope="session")
def loaded() -> LoadedScenario:
    return load_scenario(BUNDLED)


class DrillThread:
    """The facilitator's console in miniature: one thread owns the session and serves the seats."""

    def __init__(self, server: SeatServer) -> None:
        self.server = server
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            self.server.serve()
            time.sleep(0.01)

    def do(self, action: Callable[[], Any]) -> Any:
        """Run ``action`` in the drill's thread (as the console does between ticks)."""
        return self.server.call(action)


@pytest.fixture
def served(loaded: LoadedScenario, tmp_path: Path) -> Iterator[tuple[SeatServer, DrillThread]]:
    session = DrillSession.start(loaded, seed=3, out_dir=tmp_path / "drill", scenario_label="scenarios/x.yaml")
    tokens = SeatTokens.issue([p.id for p in loaded.scenario.participants])
    server = SeatServer(session, tokens, wait=0.5, folder=tmp_path / "drill").start()
    thread = DrillThread(server)
    try:
        yield server, thread
    finally:
        thread.stop.set()
        thread.thread.join()
        server.close()
