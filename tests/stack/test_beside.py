"""`tabletop stack TARGET`: the real Prometheus and Alertmanager beside a drill already running.

A paced drill serves its metrics in a process of its own (as an instructor would start it);
`tabletop stack URL` in another measures the drill's clock, brings the stack up, prints its
URLs and stays up until SIGTERM or until the drill is gone, leaving no server behind.
"""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tabletop.stack.beside import TargetError, measure_speed, parse_target, round_speed
from tests.prometheus_binaries import alertmanager_binary, prometheus_binary

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Lines:
    """The lines a process writes to one of its pipes, read in a thread, waited for with a timeout."""

    def __init__(self, pipe: Any) -> None:
        self.seen: list[str] = []
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        threading.Thread(target=self._read, args=(pipe,), daemon=True).start()

    def _read(self, pipe: Any) -> None:
        for line in pipe:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def until(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first line from now on matching ``pattern``; fails with what was seen after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                pytest.fail(f"no line matching {pattern!r}; seen:\n" + "\n".join(self.seen))
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found

    def text(self) -> str:
        """Every line so far, waiting for none."""
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return "\n".join(self.seen)
            if line is not None:
                self.seen.append(line)


Spawn = Callable[..., tuple[subprocess.Popen[str], Lines, Lines]]


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Starts ``tabletop ARGS...`` (its stdout and stderr lines); every process is killed at the end."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> tuple[subprocess.Popen[str], Lines, Lines]:
        process = subprocess.Popen([sys.executable, "-m", "tabletop", *args], cwd=ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        started.append(process)
        return process, Lines(process.stdout), Lines(process.stderr)

    yield start
    for process in started:
        process.kill()
        process.wait()


def tabletop(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tabletop", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout)


def get(url: str) -> Any:
    with _OPENER.open(url, timeout=10) as response:
        return json.loads(response.read())


def query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    return list(get(f"{prometheus}/api/v1/query?query={urllib.parse.quote(expr)}")["data"]["result"])


def leftovers(folder: Path) -> str:
    """The processes whose command line names ``folder`` (Prometheus, Alertmanager), as pgrep shows them."""
    return subprocess.run(["pgrep", "-af", str(folder)], capture_output=True, text=True).stdout


@pytest.fixture
def binaries() -> None:
    prometheus_binary("prometheus")
    alertmanager_binary("alertmanager")


@pytest.fixture
def drill(spawn: Spawn, tmp_path: Path, binaries: None) -> tuple[str, subprocess.Popen[str]]:
    """The bundled scenario paced at 60x (its GPU fault about 10 s in), serving its metrics."""
    process, _, errors = spawn("run", str(BUNDLED), "--speed", "60", "--metrics-port", "0", "--duration", "30m",
                               "--out", str(tmp_path / "drill"))
    url = errors.until(r"serving the drill's metrics at (http://127\.0\.0\.1:\d+/metrics)", timeout=30).group(1)
    return url, process


def stack_up(spawn: Spawn, url: str, out: Path) -> tuple[subprocess.Popen[str], Lines, dict[str, str]]:
    """``tabletop stack URL --out OUT`` once it has said where its UIs are."""
    process, lines, errors = spawn("stack", url, "--out", str(out))
    try:
        head = lines.until(r"drill serving-gpu-node-failure \(seed 0, responder expert\) at (\S+)x "
                           r"\(measured (\S+)x\)", timeout=40)
    except pytest.fail.Exception:
        pytest.fail(f"the stack did not come up; it said:\n{errors.text()}")
    urls = {"speed": head.group(1), "measured": head.group(2)}
    urls["prometheus"] = lines.until(r"Prometheus UI: +(http://127\.0\.0\.1:\d+)/graph$", 5).group(1)
    urls["prometheus_alerts"] = lines.until(r"its alerts: +(\S+)$", 5).group(1)
    urls["alertmanager"] = lines.until(r"Alertmanager UI: +(http://127\.0\.0\.1:\d+)/#/alerts$", 5).group(1)
    assert lines.until(r"files: +(\S+)$", 5).group(1) == str(out)
    return process, lines, urls


def ends_cleanly(process: subprocess.Popen[str], lines: Lines, saying: str, out: Path) -> None:
    """``process`` exits 0 saying ``saying`` and leaves no Prometheus or Alertmanager running."""
    assert process.wait(timeout=20) == 0
    lines.until(saying, 5)
    assert leftovers(out) == ""


def test_the_stack_beside_a_drill_shows_its_alerts_and_stops_on_sigterm(spawn: Spawn, drill: tuple[str, Any],
                                                                        tmp_path: Path) -> None:
    url, _ = drill
    out = tmp_path / "stack"
    process, lines, urls = stack_up(spawn, url, out)
    assert urls["speed"] == "60" and abs(float(urls["measured"]) - 60) < 1.5, urls
    assert urls["prometheus_alerts"] == urls["prometheus"] + "/alerts"
    prometheus = urls["prometheus"]
    targets = get(f"{prometheus}/api/v1/targets")["data"]["activeTargets"]
    assert [(t["scrapeUrl"], t["health"]) for t in targets] == [(url, "up")]
    assert query(prometheus, 'tabletop_drill_info{scenario="serving-gpu-node-failure"}')
    config = (out / "prometheus.yml").read_text()
    assert "honor_labels: true" in config and "scrape_interval: 500ms" in config  # 30 s at 60x

    firing: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while not firing and time.monotonic() < deadline:
        firing = query(prometheus, 'ALERTS{alertname="GPUXidError", alertstate="firing"}')
        time.sleep(0.25)
    assert firing, "GPUXidError never fired in Prometheus"
    assert firing[0]["metric"]["Hostname"].startswith("gpu-serve-")
    lines.until(r"^T\+00:\d\d:\d\d Alertmanager notified \S+ \(team=gpu-infra\): 1 firing GPUXidError$", 15)
    with _OPENER.open(urls["alertmanager"].split("#")[0], timeout=10) as page:
        assert page.status == 200  # the UI itself

    process.send_signal(signal.SIGTERM)
    ends_cleanly(process, lines, r"^stopping the stack \(files in .*\); the drill goes on$", out)
    assert (out / "prometheus.log").exists() and (out / "alertmanager.yml").exists()


def test_the_stack_stops_by_itself_when_the_drill_is_gone(spawn: Spawn, drill: tuple[str, Any],
                                                          tmp_path: Path) -> None:
    url, drill_process = drill
    out = tmp_path / "stack"
    process, lines, _ = stack_up(spawn, url, out)
    drill_process.kill()
    ends_cleanly(process, lines, rf"^the drill at {re.escape(url)} stopped answering: stopping the stack", out)


# --- bad input -------------------------------------------------------------------------------------

class FakeTarget(ThreadingHTTPServer):
    daemon_threads = True
    body = b""


class _Handler(BaseHTTPRequestHandler):
    server: FakeTarget

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake() -> Iterator[FakeTarget]:
    server = FakeTarget(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def address(server: FakeTarget) -> str:
    host, port = server.server_address[:2]
    return f"{host}:{port}"


def fails_with(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == f"error: {message}"
    assert "Traceback" not in result.stderr


def test_an_unreachable_target_is_one_clear_error() -> None:
    from tabletop.stack.server import free_port

    port = free_port()
    result = tabletop("stack", f"127.0.0.1:{port}")
    fails_with(result, f"http://127.0.0.1:{port}/metrics does not answer ([Errno 111] Connection refused): is the "
                       "drill running? (tabletop run SCENARIO --speed N --metrics-port P prints its metrics URL)")


def test_a_target_that_is_not_a_drill_is_one_clear_error(fake: FakeTarget) -> None:
    fake.body = b"# TYPE up gauge\nup 1\n"
    result = tabletop("stack", f"http://{address(fake)}/metrics")
    fails_with(result, f"http://{address(fake)}/metrics is not a tabletop drill's /metrics (no tabletop_drill_info)")


def test_a_drill_of_an_unknown_scenario_asks_for_its_file(fake: FakeTarget) -> None:
    fake.body = (b'tabletop_drill_info{responder="expert",scenario="no-such-drill",seed="0"} 1.0\n'
                 b"tabletop_drill_elapsed_seconds 12.5\n")
    result = tabletop("stack", address(fake))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "'no-such-drill'" in result.stderr and "--scenario" in result.stderr


def test_a_paused_drill_is_refused(fake: FakeTarget) -> None:
    fake.body = (b'tabletop_drill_info{responder="expert",scenario="serving-gpu-node-failure",seed="0"} 1.0\n'
                 b"tabletop_drill_elapsed_seconds 300\n")
    result = tabletop("stack", address(fake), "--out", "/nonexistent/never-written")
    fails_with(result, f"the drill at http://{address(fake)}/metrics is not running: tabletop_drill_elapsed_seconds "
                       "stayed at 300 s for 2 s of wall time (paused or ended?)")


@pytest.mark.parametrize("speed", ["0", "-3", "inf"])
def test_a_speed_that_is_not_positive_is_refused(speed: str) -> None:
    result = tabletop("stack", "127.0.0.1:9", "--speed", speed)
    fails_with(result, f"--speed: must be a positive number of drill seconds per wall second, got {float(speed):g}")


def test_a_missing_alertmanager_config_is_refused() -> None:
    fails_with(tabletop("stack", "127.0.0.1:9", "--alertmanager-config", "/no/such/alertmanager.yml"),
               "--alertmanager-config: /no/such/alertmanager.yml: no such file")


# --- the pieces ----------------------------------------------------------------------------------------

def test_targets_are_metrics_urls_or_host_port() -> None:
    assert parse_target("127.0.0.1:9464").url == "http://127.0.0.1:9464/metrics"
    assert parse_target("http://127.0.0.1:9464").url == "http://127.0.0.1:9464/metrics"
    assert parse_target("http://127.0.0.1:9464/").url == "http://127.0.0.1:9464/metrics"
    assert parse_target("http://[::1]:9464/drill/metrics").address == "[::1]:9464"
    assert parse_target("http://[::1]:9464/drill/metrics").path == "/drill/metrics"
    for bad in ("localhost", "https://127.0.0.1:9464/metrics", "http://127.0.0.1:x/metrics",
                "http://u@127.0.0.1:1/metrics", "127.0.0.1:9464/metrics?x=1"):
        with pytest.raises(TargetError):
            parse_target(bad)


def test_the_speed_is_measured_from_the_least_late_sightings_and_rounded() -> None:
    # steps of 6 drill seconds every 0.1 s at 60x, each seen 2 to 40 ms late
    lags = [0.031, 0.002, 0.017, 0.04, 0.009, 0.025, 0.002, 0.038, 0.011, 0.002, 0.029, 0.015, 0.002, 0.033]
    points = [(1000.0 + k * 0.1 + lag, 100.0 + k * 6.0) for k, lag in enumerate(lags)]
    assert measure_speed(points) == pytest.approx(60.0, rel=1e-9)
    assert round_speed(59.93) == 60 and round_speed(60.7) == 60 and round_speed(7.02) == 7
    assert round_speed(133.4) == 133 and round_speed(0.498) == 0.5 and round_speed(1.0) == 1
