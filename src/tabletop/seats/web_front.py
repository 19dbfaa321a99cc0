"""The facilitator's side of the seats' web front (``seats.web``): its process, started beside
the seat server by ``drill --serve --web`` and stopped with the drill, and the seats' links."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path

START_TIMEOUT = 20.0
"""Seconds the web front may take to listen."""


class WebFrontError(Exception):
    """The web front could not start (one line for people)."""


class WebFront:
    """The web front's process, beside a seat server at ``seat_url``; ``start`` returns its URL."""

    def __init__(self, seat_url: str, *, host: str, port: int, scenario: Path | None, log_path: Path) -> None:
        self.seat_url = seat_url
        self.host = host
        self.port = port
        self.scenario = scenario
        self.log_path = log_path
        self.url: str | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        command = [sys.executable, "-m", "tabletop.seats.web", self.seat_url, "--host", self.host,
                   "--port", str(self.port), "--parent", str(os.getpid())]
        if self.scenario is not None:
            command += ["--scenario", str(self.scenario.resolve())]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log_file:
            self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                             stderr=log_file, start_new_session=True)
        try:
            answer = json.loads(self._first_line(self._process))
        except ValueError:
            answer = {}
        if not isinstance(answer, dict) or "url" not in answer:
            self.close()
            why = answer.get("error") if isinstance(answer, dict) else None
            raise WebFrontError(why or f"the web front did not start: {self._log_tail() or 'no answer'}")
        self.url = str(answer["url"])
        return self.url

    def _first_line(self, process: subprocess.Popen[bytes]) -> str:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
        if not ready:
            self.close()
            raise WebFrontError(f"the web front did not listen within {START_TIMEOUT:g} s (see {self.log_path})")
        return process.stdout.readline().decode("utf-8", "replace")

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1] if lines else ""

    def close(self) -> None:
        """Stop the web front; its browser sessions' consoles are told to quit first."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> "WebFront":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
