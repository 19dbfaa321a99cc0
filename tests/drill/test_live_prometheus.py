"""End to end with a real Prometheus (Debian package ``prometheus``) scraping a live drill.

The scrape config sets ``honor_labels: true``: the drill impersonates many exporters and every
simulated series carries the ``job``/``instance`` of the exporter it stands for. Without it
Prometheus would rename them ``exported_job``/``exported_instance`` and the scenario's rules
(``up{job="nvidia-dcgm-exporter"}``, ...) would match nothing.
"""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tabletop.drill.engine import Drill
from tabletop.drill.live import run_live
from tabletop.drill.responders import make_responder
from tabletop.scenario.loader import load_scenario
from tests.prometheus_binaries import REQUIRE, prometheus, prometheus_binary

__all__ = ["prometheus"]  # the fixture, imported for pytest

BUNDLED = Path(__file__).resolve().parents[2] / "scenarios" / "serving-gpu-node-failure.yaml"
TIMEOUT = 60.0

CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: tabletop
    # Keep the job/instance labels of the exporters the drill impersonates.
    honor_labels: true
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveDrill:
    """The bundled drill at speed 30 in a thread, serving metrics on a free loopback port."""

    def __init__(self, timeline: Path) -> None:
        self.loaded = load_scenario(BUNDLED)
        self.timeline = timeline
        self.stop = threading.Event()
        self.ready: queue.Queue[int] = queue.Queue()
        self.drill: Drill | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.drill = run_live(self.loaded, make_responder("expert", self.loaded), seed=7, speed=30,
                                  metrics_port=0, timeline_path=self.timeline, on_ready=self.ready.put, stop=self.stop)
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error
            self.ready.put(0)

    def __enter__(self) -> int:
        """Start the drill; the port it serves on."""
        self.thread.start()
        try:
            port = self.ready.get(timeout=TIMEOUT)
        except queue.Empty:
            self.__exit__()
            raise
        assert self.error is None, self.error
        return port

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=TIMEOUT)


class Prometheus:
    """A real Prometheus scraping one target every second, from ``with`` to the end of the block."""

    def __init__(self, binary: str, target_port: int, folder: Path) -> None:
        self.config = folder / "prometheus.yml"
        self.config.write_text(CONFIG.replace("{port}", str(target_port)))
        self.tsdb = folder / "tsdb"
        self.log = folder / "prometheus.log"
        self.binary = binary
        self.web = f"127.0.0.1:{free_port()}"

    def __enter__(self) -> Prometheus:
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [self.binary, f"--config.file={self.config}", f"--storage.tsdb.path={self.tsdb}",
                 f"--web.listen-address={self.web}"], stdout=out, stderr=subprocess.STDOUT)
        try:
            self.eventually(lambda: self.get("/-/ready"), "ready Prometheus")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(f"http://{self.web}{path}", timeout=5) as response:
            return response.read()

    def api(self, path: str) -> Any:
        return json.loads(self.get(f"/api/v1/{path}"))["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        return self.api("query?" + urllib.parse.urlencode({"query": expr}))["result"]

    def eventually(self, check: Callable[[], Any], what: str) -> Any:
        """The first truthy result of ``check`` within the timeout; connection errors count as not yet."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                result = check()
            except (urllib.error.URLError, ConnectionError):
                result = None
            if result:
                return result
            time.sleep(0.2)
        pytest.fail(f"no {what} within {TIMEOUT:.0f} s; Prometheus log:\n{self.log.read_text()[-4000:]}")


def test_real_prometheus_scrapes_a_live_drill(prometheus: str, tmp_path: Path) -> None:
    live = LiveDrill(tmp_path / "timeline.jsonl")
    with live as port, Prometheus(prometheus, port, tmp_path) as server:
        gpus = server.eventually(lambda: server.query('DCGM_FI_DEV_GPU_UTIL{Hostname="gpu-serve-2"}'), "GPU series")
        assert len(gpus) == 8
        assert all(g["metric"]["job"] == "nvidia-dcgm-exporter" and "exported_job" not in g["metric"] for g in gpus)
        (replicas,) = server.query('kube_deployment_spec_replicas{deployment="chat-llm"}')
        assert replicas["value"][1] == "6" and replicas["metric"]["job"] == "kube-state-metrics"
        # The scenario's rules see the exporters' own up series...
        assert len(server.query('up{job="nvidia-dcgm-exporter"} == 1')) == 5
        # ...and the drill is the scrape target: its own series get the target's job and instance.
        (info,) = server.query("tabletop_drill_info")
        assert info["metric"] == {"__name__": "tabletop_drill_info", "job": "tabletop", "instance": f"127.0.0.1:{port}",
                                  "scenario": "serving-gpu-node-failure", "seed": "7", "responder": "expert"}
        (target,) = server.api("targets")["activeTargets"]
        assert target["health"] == "up" and target["lastError"] == "", target
        # The drill clock runs at speed 30 between Prometheus's scrapes.
        clock = lambda: float(server.query("tabletop_drill_elapsed_seconds")[0]["value"][1])  # noqa: E731
        first = clock()
        server.eventually(lambda: clock() >= first + 30, "advancing drill clock")
    assert live.error is None, live.error
    assert live.drill is not None and live.drill.ended
    ended = live.drill.timeline.events[-1]
    assert ended.kind == "drill.ended" and ended.data["reason"] == "aborted"
    assert '"reason":"aborted"' in live.timeline.read_text().splitlines()[-1]


def test_a_missing_binary_skips_or_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv(REQUIRE, raising=False)
    with pytest.raises(pytest.skip.Exception, match="install the Debian package `prometheus`"):
        prometheus_binary("promtool")
    monkeypatch.setenv(REQUIRE, "1")
    with pytest.raises(pytest.fail.Exception, match="install the Debian package `prometheus`"):
        prometheus_binary("promtool")
