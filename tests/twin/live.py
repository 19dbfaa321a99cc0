"""A drill served by its twin on a free loopback port, for tests that drive it over HTTP.

``LiveTwin`` runs ``run_twin`` on a thread (paced, fast) and offers: the kubeconfig it wrote,
``kubectl(...)`` (the real binary, see ``kubectl_binary``), ``request(...)`` for raw HTTP, and
``call(fn)`` to look at the simulation from the drill's own thread (tests must not read the
fleet from another thread while the drill runs).
"""

from __future__ import annotations

import copy
import http.client
import json
import os
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from tabletop.drill.engine import Drill
from tabletop.scenario.loader import LoadedScenario, load_scenario
from tabletop.scenario.model import Scenario
from tabletop.twin.runner import run_twin
from tabletop.twin.twin import Twin

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"
REQUIRE = "TABLETOP_REQUIRE_KUBECTL"
SEED = 3
T = TypeVar("T")


def kubectl_binary() -> str:
    """The kubectl to drive (``TABLETOP_KUBECTL`` or the one on PATH); skip, or fail under CI, without one."""
    path = os.environ.get("TABLETOP_KUBECTL") or shutil.which("kubectl")
    if path:
        return path
    message = "kubectl not found: install the Debian package `kubernetes-client` (apt-get install kubernetes-client)"
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{message}; {REQUIRE}=1 requires it", pytrace=False)
    pytest.skip(message)


def needs_openssl() -> None:
    """A twin with a token speaks HTTPS, and makes its certificate with openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not found: a twin with a token makes its TLS certificate with it (Debian package openssl)")


def with_fleet(loaded: LoadedScenario, deployments: dict[str, dict[str, Any]] | None = None, **sections: Any) -> LoadedScenario:
    """The loaded scenario with fields of its deployments changed (by name) and fleet sections replaced."""
    data = yaml.safe_load(loaded.path.read_text())
    fleet = data["fleet"]
    by_name = {d["name"]: d for d in fleet["deployments"]}
    for name, fields in (deployments or {}).items():
        by_name[name].update(fields)
    fleet.update(copy.deepcopy(sections))
    return replace(loaded, scenario=Scenario.model_validate(data))


class LiveTwin:
    def __init__(self, tmp_path: Path, loaded: LoadedScenario | None = None, *, speed: float = 120.0,
                 actor: str | None = "alice", token: str | None = None, seed: int = SEED,
                 without_faults: bool = False) -> None:
        self.tmp = tmp_path
        self.loaded = loaded or load_scenario(BUNDLED)
        self.speed = speed
        self.actor = actor
        self.token = token
        self.seed = seed
        self.without_faults = without_faults
        self.kubeconfig = tmp_path / "kubeconfig"
        self.timeline = tmp_path / "timeline.jsonl"
        self.stop = threading.Event()
        self._ready = threading.Event()
        self.twin: Twin | None = None
        self.drill: Drill | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="live-twin", daemon=True)

    def _run(self) -> None:
        def ready(twin: Twin) -> None:
            self.twin = twin
            self._ready.set()

        try:
            self.drill = run_twin(self.loaded, seed=self.seed, speed=self.speed, actor=self.actor, token=self.token,
                                  kubeconfig_path=self.kubeconfig, timeline_path=self.timeline, on_ready=ready,
                                  stop=self.stop, scenario_label="scenarios/serving-gpu-node-failure.yaml",
                                  without_faults=self.without_faults)
        except BaseException as error:  # reported by __enter__ or __exit__
            self.error = error
        finally:
            self._ready.set()

    def __enter__(self) -> "LiveTwin":
        self._thread.start()
        assert self._ready.wait(20), "the twin did not start"
        if self.error is not None:
            raise self.error
        return self

    def __exit__(self, *exc: object) -> None:
        self.end()

    def end(self) -> Drill:
        self.stop.set()
        self._thread.join(20)
        assert not self._thread.is_alive(), "the drill did not stop"
        if self.error is not None:
            raise self.error
        assert self.drill is not None
        return self.drill

    # looking at the drill ---------------------------------------------------------------------------
    def call(self, action: Callable[[Drill], T]) -> T:
        """``action(drill)`` in the drill's thread."""
        assert self.twin is not None
        drill = self.twin.drill
        return self.twin.call(lambda: action(drill))

    def wait_for(self, condition: Callable[[Drill], Any], timeout: float = 30.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.call(condition)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    def commands(self, actor: str | None = None) -> list[dict[str, Any]]:
        """Command events so far (from the timeline file, which the drill flushes as it goes)."""
        events = [json.loads(line) for line in self.timeline.read_text().splitlines()[1:] if line.strip()]
        return [e for e in events if e["kind"] == "command" and (actor is None or e["actor"] == actor)]

    # talking to the API -----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self.twin is not None
        return self.twin.port

    def kubectl(self, *args: str, check: bool = True, kubeconfig: Path | None = None, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        command = [kubectl_binary(), "--kubeconfig", str(kubeconfig or self.kubeconfig), "--cache-dir", str(self.tmp / "kube-cache"), *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                raw: bytes | None = None) -> tuple[int, Any, dict[str, str]]:
        """(status, decoded JSON or text, headers)."""
        assert self.twin is not None
        certificate = self.twin.server.certificate
        if certificate is None:
            connection: http.client.HTTPConnection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        else:
            trust = ssl.create_default_context(cadata=certificate.pem.decode())
            connection = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30, context=trust)
        try:
            sent = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
            all_headers = {"Content-Type": "application/json", **(headers or {})}
            if self.token and "Authorization" not in all_headers:
                all_headers["Authorization"] = f"Bearer {self.token}"
            connection.request(method, path, body=sent, headers=all_headers)
            response = connection.getresponse()
            data = response.read()
            try:
                decoded: Any = json.loads(data)
            except ValueError:
                decoded = data.decode(errors="replace")
            return response.status, decoded, {k.lower(): v for k, v in response.getheaders()}
        finally:
            connection.close()
