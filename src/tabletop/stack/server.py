"""One server binary of the stack on a loopback port: started, ready, asked, stopped.

``Server`` runs a binary (Prometheus, Alertmanager) with its output in a log file of the work
folder, on ``127.0.0.1`` and a free port: the port is chosen by binding port 0 and closing it,
and when another process takes it before the server binds it (the server exits saying
"address already in use") the start is retried once on a new port. It is ready when
``GET /-/ready`` answers 200 within ``ready_timeout``; otherwise ``ServerError`` says what
happened with the last lines of the log. ``stop()`` sends SIGTERM, waits ``stop_timeout`` and
kills; it also runs when starting fails or is interrupted, and as a context manager when the
block raises, so no server is left behind.

``request`` is a small JSON client (urllib, never through a proxy: every address is loopback).
``Managed`` is what Prometheus and Alertmanager share: their files, then their server.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

HOST = "127.0.0.1"
LOG_LINES = 20
"""How many of the log's last lines an error shows."""
POLL = 0.05
ADDRESS_IN_USE = "address already in use"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ServerError(RuntimeError):
    """A stack server that did not start, stopped, or refused a request; the message says why."""


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """``binary`` with ``arguments(listen_address)``, its output in ``log``, from start to stop."""

    def __init__(self, name: str, binary: Path, log: Path, arguments: Callable[[str], list[str]], *,
                 ready_timeout: float = 30.0, stop_timeout: float = 10.0) -> None:
        self.name = name
        self.binary = binary
        self.log = log
        self.arguments = arguments
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.address = ""
        """``127.0.0.1:PORT`` once started."""
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        try:
            for attempt in (1, 2):
                self.address = f"{HOST}:{free_port()}"
                with self.log.open("w" if attempt == 1 else "a") as out:
                    self.process = subprocess.Popen([str(self.binary), *self.arguments(self.address)],
                                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
                if self._wait_ready(retry=attempt == 1):
                    return
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, retry: bool) -> bool:
        """True once ready; False when the port was taken and a retry may follow; else ServerError."""
        assert self.process is not None
        deadline = time.monotonic() + self.ready_timeout
        while True:
            code = self.process.poll()
            if code is not None:
                if retry and ADDRESS_IN_USE in self.log_tail().lower():
                    return False
                raise ServerError(f"{self.name} exited (code {code}) before it was ready on {self.address}; "
                                  f"{self._last_lines()}")
            if self._ready():
                return True
            if time.monotonic() > deadline:
                raise ServerError(f"{self.name} was not ready on {self.address} within {self.ready_timeout:g} s; "
                                  f"{self._last_lines()}")
            time.sleep(POLL)

    def _ready(self) -> bool:
        try:
            with _OPENER.open(f"{self.url}/-/ready", timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):  # not listening yet, or 503 while starting
            return False

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after ``stop_timeout``; nothing when it is not running."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        except BaseException:  # interrupted while waiting: still leave nothing behind
            process.kill()
            process.wait()
            raise

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.stop()

    def log_tail(self, lines: int = LOG_LINES) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _last_lines(self) -> str:
        tail = self.log_tail()
        return f"the last lines of {self.log}:\n{tail}" if tail else f"{self.log} is empty"

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """``METHOD path`` with a JSON body; the decoded JSON answer (text when it is not JSON)."""
        data = None if body is None else json.dumps(body).encode()
        headers = {} if data is None else {"Content-Type": "application/json"}
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with _OPENER.open(request, timeout=10) as response:
                raw = response.read()
                kind = response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            said = " ".join(error.read().decode(errors="replace").split())
            raise ServerError(f"{self.name} answered {method} {path} with HTTP {error.code}: {said}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            state = "running" if self.running else "not running"
            raise ServerError(f"{self.name} at {self.address} did not answer {method} {path} ({reason}; it is {state}); "
                              f"{self._last_lines()}") from None
        if "json" in kind and raw.strip():
            return json.loads(raw)
        return raw.decode(errors="replace")


class Managed:
    """A server with files of its own in ``folder``, written before it starts (``write_files``).

    Its ``data`` folder (TSDB, silences, notification log) is removed first unless ``keep_data``:
    a drill played again into the same folder must not see the last one's series or silences.
    """

    folder: Path
    data: Path
    server: Server
    keep_data: bool = False

    def write_files(self) -> None:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if not self.keep_data:
            shutil.rmtree(self.data, ignore_errors=True)
        self.write_files()
        self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.stop()
