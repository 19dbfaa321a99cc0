"""The stack's real servers: Prometheus and Alertmanager on loopback, from start to stop."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import pytest
import yaml

from tabletop.scenario.oncall import Routing
from tabletop.stack import server
from tabletop.stack.alertmanager import Alertmanager
from tabletop.stack.alertmanager_config import from_routing
from tabletop.stack.binaries import MissingBinary, find
from tabletop.stack.prometheus import Prometheus
from tabletop.stack.server import ServerError, free_port
from tests.prometheus_binaries import (
    REQUIRE_ALERTMANAGER, alertmanager, alertmanager_binary, amtool, prometheus, prometheus_binary,
)

__all__ = ["alertmanager", "amtool", "prometheus"]  # the fixtures, imported for pytest


def test_a_missing_binary_names_its_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(MissingBinary) as raised:
        find("alertmanager")
    assert str(raised.value) == ("alertmanager not found: install the Debian package `prometheus-alertmanager` "
                                 "(apt-get install prometheus-alertmanager)")
    for tool, package in (("amtool", "prometheus-alertmanager"), ("prometheus", "prometheus"), ("promtool", "prometheus")):
        with pytest.raises(MissingBinary, match=f"^{tool} not found: install the Debian package `{package}`"):
            find(tool)
    monkeypatch.setenv(REQUIRE_ALERTMANAGER, "1")  # CI: fail, not skip (tests/drill/test_live_prometheus.py tests skips)
    with pytest.raises(pytest.fail.Exception, match="`prometheus-alertmanager`.*; TABLETOP_REQUIRE_ALERTMANAGER=1 requires"):
        alertmanager_binary("alertmanager")


def test_alertmanager_is_found_under_either_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = tmp_path / "alertmanager"
    plain.write_text("#!/bin/sh\n")
    plain.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find("alertmanager") == plain


# --- the real servers ----------------------------------------------------------------------------

TEAM_RULES = """\
groups:
  - name: drill
    rules:
      - alert: QueueTooLong
        expr: tabletop_test_queue_length > 10
        labels: {severity: page}
        annotations: {summary: "queue of {{ $labels.team }} is {{ $value }} long"}
"""
ROUTING = Routing.model_validate({
    "group_by": ["team"],
    "routes": [{"matchers": ['severity="page"', 'team="serving"'], "policy": "serving-oncall"},
               {"matchers": ['severity="warning"'], "policy": None}],
})
SPEED = 300
"""group_wait 30s -> 100ms, group_interval 5m -> 1s, resolve_timeout 5m -> 1s of wall time."""
TIMEOUT = 20.0


class Loopback:
    """A small HTTP server on 127.0.0.1 in a thread, from ``with`` to the end of the block."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        handler.log_message = lambda *args: None  # type: ignore[method-assign]
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.address = f"127.0.0.1:{self.http.server_address[1]}"

    def __enter__(self) -> Self:
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.shutdown()
        self.http.server_close()

    @staticmethod
    def answer(handler: BaseHTTPRequestHandler, body: bytes = b"", kind: str = "text/plain") -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


class Exporter(Loopback):
    """A /metrics endpoint whose queue length the test sets."""

    def __init__(self) -> None:
        self.queue = 20
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                Loopback.answer(self, (f'# TYPE tabletop_test_queue_length gauge\n'
                                       f'tabletop_test_queue_length{{team="serving",job="model-server"}} {exporter.queue}\n'
                                       ).encode(), "text/plain; version=0.0.4")

        super().__init__(Handler)


class Webhook(Loopback):
    """Alertmanager's webhook notifications, as (path, JSON body)."""

    def __init__(self) -> None:
        self.received: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.put((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
                Loopback.answer(self)

        super().__init__(Handler)
        self.url = f"http://{self.address}/alertmanager"

    def next(self, status: str) -> tuple[str, dict[str, Any]]:
        """The next notification of that status, within the timeout."""
        deadline = time.monotonic() + TIMEOUT
        while (left := deadline - time.monotonic()) > 0:
            try:
                path, body = self.received.get(timeout=left)
            except queue.Empty:
                break
            if body["status"] == status:
                return path, body
        pytest.fail(f"no {status} notification within {TIMEOUT:g} s")


def eventually(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    pytest.fail(f"no {what} within {TIMEOUT:g} s")


def prometheus_for(folder: Path, target: str, alertmanager_url: str | None = None, rules: str = TEAM_RULES,
                   **options: Any) -> Prometheus:
    return Prometheus(folder, target=target, rules={"team.yml": rules}, scrape_interval="200ms", evaluation_interval="200ms",
                      lookback_delta="2s", alertmanager_url=alertmanager_url, **options)


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_firing_rule_reaches_alertmanager_and_the_drill_webhook(prometheus: str, alertmanager: str, tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    with Exporter() as exporter, Webhook() as webhook:
        config = from_routing(ROUTING, webhook_url=webhook.url, speed=SPEED)
        with Alertmanager(stack, config=config) as am, prometheus_for(stack, exporter.address, am.url) as prom:
            assert prom.url.startswith("http://127.0.0.1:") and am.url.startswith("http://127.0.0.1:")
            flags = prom.server.request("GET", "/api/v1/status/flags")["data"]
            assert flags["web.listen-address"] == prom.url.removeprefix("http://")
            assert flags["query.lookback-delta"] == "2s" and flags["rules.alert.resend-delay"] == "200ms"
            assert am.status()["cluster"]["status"] == "disabled"
            prom.wait_connected()
            (firing,) = eventually(lambda: [a for a in prom.alerts() if a["state"] == "firing"], "firing alert")
            assert firing["labels"] == {"alertname": "QueueTooLong", "severity": "page", "team": "serving",
                                        "job": "model-server", "instance": exporter.address}  # honor_labels: true
            (held,) = eventually(am.alerts, "alert in Alertmanager")
            assert held["labels"]["alertname"] == "QueueTooLong" and held["receivers"] == [{"name": "serving-oncall"}]
            path, note = webhook.next("firing")
            assert path == "/alertmanager/serving-oncall" and note["receiver"] == "serving-oncall"
            assert note["groupKey"] and note["groupLabels"] == {"team": "serving"}
            (alert,) = note["alerts"]
            assert alert["fingerprint"] == held["fingerprint"] and alert["annotations"]["summary"] == "queue of serving is 20 long"
            exporter.queue = 3
            path, note = webhook.next("resolved")
            assert path == "/alertmanager/serving-oncall" and note["alerts"][0]["status"] == "resolved"
    for name in ("prometheus.yml", "rules/team.yml", "prometheus.log", "prometheus-data", "alertmanager.yml",
                 "alertmanager.log", "alertmanager-data"):
        assert (stack / name).exists(), name
    assert yaml.safe_load((stack / "prometheus.yml").read_text())["scrape_configs"][0]["honor_labels"] is True


def test_a_group_resolved_within_group_wait_notifies_nobody_as_in_the_headless_pager(alertmanager: str,
                                                                                      tmp_path: Path) -> None:
    routing = ROUTING.model_copy(update={"group_wait": 300.0})  # 1 s of wall time at 300x
    with Webhook() as webhook, Alertmanager(tmp_path, config=from_routing(routing, webhook_url=webhook.url, speed=SPEED)) as am:
        now = datetime.now(timezone.utc)

        def send(team: str, ends: datetime) -> None:
            labels = {"alertname": "QueueTooLong", "severity": "page", "team": team}
            am.server.request("POST", "/api/v2/alerts", [{"labels": labels, "startsAt": now.isoformat(),
                                                          "endsAt": ends.isoformat()}])

        send("serving", now + timedelta(minutes=5))
        send("training", now + timedelta(minutes=5))  # another group, on the default (record-only) receiver
        send("serving", datetime.now(timezone.utc))  # resolved before its group's wait ends
        path, note = webhook.next("firing")
        assert path.endswith("/tabletop_record_only") and note["groupLabels"] == {"team": "training"}
        time.sleep(0.5)
        assert webhook.received.empty()  # the page.withheld of the headless pager


def test_reload_swaps_the_rules_and_a_refused_reload_keeps_the_old_ones(prometheus: str, tmp_path: Path) -> None:
    with prometheus_for(tmp_path, "127.0.0.1:1") as prom:
        with pytest.raises(ServerError, match=r"not connected within 0.3 s: no healthy scrape of 127.0.0.1:1"):
            prom.wait_connected(timeout=0.3)
        assert [g["name"] for g in prom.rules()] == ["drill"]
        prom.reload({"team.yml": TEAM_RULES.replace("name: drill", "name: scaled")})
        assert [g["name"] for g in prom.rules()] == ["scaled"]
        with pytest.raises(ServerError, match=r"did not reload .*rules: .*HTTP 500: failed to reload config"):
            prom.reload({"team.yml": "groups:\n  - name: broken\n    rules:\n      - alert: X\n        expr: rate(\n"})
        assert [g["name"] for g in prom.rules()] == ["scaled"]
        assert "name: scaled" in (tmp_path / "rules" / "team.yml").read_text()  # a restart runs what runs now
        prom.reload()
        assert prom.server.running


def test_silences_round_trip_and_amtool_silences_are_listed(alertmanager: str, amtool: str, tmp_path: Path) -> None:
    config = from_routing(ROUTING, webhook_url="http://127.0.0.1:9/hook", speed=SPEED)
    with Alertmanager(tmp_path, config=config) as am:
        now = datetime.now(timezone.utc)
        made = am.create_silence([{"name": "team", "value": "serving"}], now, now + timedelta(hours=1),
                                 created_by="alice", comment="drill: known issue")
        (listed,) = am.silences()
        assert listed["id"] == made and listed["status"]["state"] == "active" and listed["createdBy"] == "alice"
        assert listed["matchers"] == [{"name": "team", "value": "serving", "isRegex": False, "isEqual": True}]
        am.expire_silence(made)
        assert am.silences()[0]["status"]["state"] == "expired"
        added = subprocess.run([amtool, "silence", "add", f"--alertmanager.url={am.url}", "--author=bob",
                                "--comment=from amtool", "--duration=10m", "alertname=QueueTooLong", 'team=~"serv.*"'],
                               capture_output=True, text=True, timeout=30)
        assert added.returncode == 0, added.stderr
        from_amtool = next(s for s in am.silences() if s["id"] == added.stdout.strip())
        assert from_amtool["createdBy"] == "bob" and from_amtool["status"]["state"] == "active"
        assert {"name": "team", "value": "serv.*", "isRegex": True, "isEqual": True} in from_amtool["matchers"]
        refused = "Alertmanager answered POST /api/v2/silences with HTTP 422: .*matchers in body should have at least 1"
        with pytest.raises(ServerError, match=refused):
            am.create_silence([], now, now + timedelta(hours=1), created_by="alice", comment="no matchers")
    with Alertmanager(tmp_path, config=config, keep_data=True) as again:
        assert len(again.silences()) == 2
    with Alertmanager(tmp_path, config=config) as fresh:  # a new drill in the same folder: no old silences
        assert fresh.silences() == []


def test_no_server_is_left_behind_when_the_caller_raises(prometheus: str, alertmanager: str, tmp_path: Path) -> None:
    config = from_routing(ROUTING, webhook_url="http://127.0.0.1:9/hook", speed=SPEED)
    with pytest.raises(RuntimeError, match="the drill failed"):
        with Alertmanager(tmp_path, config=config) as am, prometheus_for(tmp_path, "127.0.0.1:1", am.url) as prom:
            pids = [am.server.process.pid, prom.server.process.pid]  # type: ignore[union-attr]
            assert not any(gone(pid) for pid in pids)
            raise RuntimeError("the drill failed")
    assert all(gone(pid) for pid in pids)
    assert not am.server.running and not prom.server.running


def test_a_server_that_cannot_start_says_why_with_its_log_and_leaves_nothing(prometheus: str, alertmanager: str,
                                                                             tmp_path: Path) -> None:
    prom = prometheus_for(tmp_path, "127.0.0.1:1", rules="groups: [{name: x, rules: [{alert: X, expr: 'rate('}]}]\n")
    with pytest.raises(ServerError, match=r"(?s)Prometheus exited \(code 1\) before it was ready.*last lines of .*prometheus.log"):
        prom.start()
    assert not prom.server.running and "parse error" in prom.server.log_tail()
    am = Alertmanager(tmp_path, config="route: {receiver: nobody}\nreceivers: []\n")
    with pytest.raises(ServerError, match=r'(?s)Alertmanager exited .*undefined receiver \\"nobody\\"'):
        am.start()
    assert not am.server.running


@pytest.mark.parametrize("kind", ["prometheus", "alertmanager"])
def test_a_port_taken_before_the_server_binds_it_gets_one_retry(kind: str, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    alertmanager_binary("alertmanager") if kind == "alertmanager" else prometheus_binary("prometheus")
    config = from_routing(ROUTING, webhook_url="http://127.0.0.1:9/hook", speed=SPEED)
    stack = Alertmanager(tmp_path, config=config) if kind == "alertmanager" else prometheus_for(tmp_path, "127.0.0.1:1")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = iter([taken.getsockname()[1]])
        monkeypatch.setattr(server, "free_port", lambda: next(ports, None) or free_port())
        with stack:
            assert stack.url != f"http://127.0.0.1:{taken.getsockname()[1]}" and stack.server.running
            assert server.ADDRESS_IN_USE in stack.server.log.read_text()
