"""`tabletop run --stack` end to end: real Prometheus and Alertmanager page a paced drill.

The bundled scenario runs twice, headless and with the stack at 60x. Prometheus evaluates the
time-scaled rules on the drill's own evaluation grid over the drill's own samples, so it must
fire every alert at the very drill second tabletop's engine fires it (Alertmanager reports
when Prometheus fired each alert, ``starts_at``). Every page comes from an Alertmanager
notification and says so, and `tabletop replay --verify` reproduces the timeline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tabletop.drill.responders import make_responder
from tabletop.drill.run import run_headless
from tabletop.drill.timeline_reader import read_timeline
from tabletop.scenario.loader import load_scenario
from tests.prometheus_binaries import alertmanager_binary, prometheus_binary

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"
UNTIL = 25 * 60.0
"""The bundled drill's first page comes at about 16 minutes; by 25 five alerts have fired."""


def tabletop(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tabletop", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=timeout)


def labels_key(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


@pytest.fixture(scope="module")
def stack_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    prometheus_binary("prometheus")
    alertmanager_binary("alertmanager")
    out = tmp_path_factory.mktemp("stack-run")
    done = tabletop("run", str(BUNDLED), "--stack", "--speed", "60", "--duration", "25m", "--responder", "novice",
                    "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "live stack in" in done.stderr and "Prometheus http://127.0.0.1:" in done.stderr
    return out


def test_prometheus_fires_every_alert_when_the_headless_engine_does(stack_run: Path) -> None:
    loaded = load_scenario(BUNDLED)
    headless = run_headless(loaded, make_responder("novice", loaded), until=UNTIL)
    fired = {(e.data["alertname"], labels_key(e.data["labels"])): e.t
             for e in headless.timeline.events if e.kind == "alert.firing"}
    recorded = read_timeline(stack_run / "timeline.jsonl")
    notified: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for event in recorded.events:
        if event.kind == "alertmanager.notification":
            for alert in event.data["alerts"]:
                notified.setdefault((alert["alertname"], labels_key(alert["labels"])), alert["starts_at"])
    assert len(notified) >= 5
    differences = {alert: round(notified[alert] - fired.get(alert, float("nan")), 3) for alert in notified}
    assert all(d == 0 for d in differences.values()), differences
    # and every alert that fired headless early enough to be notified by the end was notified
    late = UNTIL - 120  # group_wait 30 s, group_interval 5 min: later ones may still be on their way
    expected = {alert for alert, t in fired.items() if t < late - 300}
    assert expected <= set(notified), expected - set(notified)


def test_every_page_comes_from_alertmanager_with_its_receiver_group_and_fingerprints(stack_run: Path) -> None:
    recorded = read_timeline(stack_run / "timeline.jsonl")
    assert recorded.header.paging == "alertmanager"
    pages = [e for e in recorded.events if e.kind == "page.triggered"]
    assert pages
    notifications = [e for e in recorded.events if e.kind == "alertmanager.notification"]
    for page in pages:
        assert page.data["source"] == "alertmanager"
        cause = next(n for n in notifications if n.t == page.t and n.data["group_key"] == page.data["group_key"])
        assert page.data["receiver"] == cause.data["receiver"] == page.data["policy"]
        assert page.data["fingerprints"] == [a["fingerprint"] for a in cause.data["alerts"] if a["status"] == "firing"]
    # the warning-only routes (policy: null) reached the drill as notifications and paged nobody
    record_only = [n for n in notifications if n.data["receiver"] == "tabletop_record_only"]
    assert record_only and not any(p.data["receiver"] == "tabletop_record_only" for p in pages)
    first = pages[0]
    assert first.data["policy"] == "serving-oncall" and first.data["alerts"] == ["ChatLLMLatencyHigh"]


def test_the_stack_leaves_its_files_and_no_process(stack_run: Path) -> None:
    folder = stack_run / "stack"
    for name in ("prometheus.yml", "alertmanager.yml", "prometheus.log", "alertmanager.log"):
        assert (folder / name).exists(), name
    assert sorted(p.name.split(".")[0] for p in (folder / "rules").glob("*.yml")) == [
        "chat-llm-slo", "gpu-health", "kubernetes"]
    running = subprocess.run(["pgrep", "-f", str(folder)], capture_output=True, text=True)
    assert running.stdout.strip() == "", running.stdout


def test_replay_reproduces_a_drill_paged_by_alertmanager(stack_run: Path) -> None:
    done = tabletop("replay", str(stack_run / "timeline.jsonl"), "--verify")
    assert done.returncode == 0, done.stderr
    assert "identical" in done.stdout


def test_a_missing_binary_is_one_line_naming_its_package_and_writes_no_timeline(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}  # no prometheus, no alertmanager
    done = tabletop("run", str(BUNDLED), "--stack", "--speed", "60", "--duration", "1m", "--out", str(tmp_path / "out"),
                    env=env, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: alertmanager not found: install the Debian package `prometheus-alertmanager` "
        "(apt-get install prometheus-alertmanager)"]
    assert not (tmp_path / "out" / "timeline.jsonl").exists()


def test_options_the_stack_cannot_go_with_are_refused_before_anything_starts(tmp_path: Path) -> None:
    for args, said in (
        (["--stack", "--headless"], "drop --headless"),
        (["--alertmanager-config", str(tmp_path / "am.yml")], "add --stack"),
        (["--stack", "--alertmanager-config", str(tmp_path / "none.yml")], "no such file"),
        (["--stack", "--metrics-port", "0"], "drop --metrics-port"),
    ):
        done = tabletop("run", str(BUNDLED), *args, "--out", str(tmp_path / "out"), timeout=60)
        assert done.returncode == 1 and said in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_team_alertmanager_config_pages_through_its_receivers(tmp_path: Path) -> None:
    """The team's own alertmanager.yml: its receivers notify only the drill; the one named after
    an escalation policy pages it."""
    prometheus_binary("prometheus")
    alertmanager_binary("alertmanager")
    config = tmp_path / "alertmanager.yml"
    config.write_text(json.dumps({
        "route": {"receiver": "blackhole", "group_by": ["alertname"], "group_wait": "30s",
                  "routes": [{"matchers": ['severity="page"'], "receiver": "serving-oncall"}]},
        "receivers": [{"name": "blackhole"},
                      {"name": "serving-oncall", "pagerduty_configs": [{"routing_key": "not-a-real-key"}]}],
    }))
    out = tmp_path / "out"
    done = tabletop("run", str(BUNDLED), "--stack", "--alertmanager-config", str(config), "--speed", "60",
                    "--duration", "19m", "--responder", "novice", "--out", str(out))
    assert done.returncode == 0, done.stderr
    written = (out / "stack" / "alertmanager.yml").read_text()
    assert "pagerduty" not in written and "not-a-real-key" not in written
    recorded = read_timeline(out / "timeline.jsonl")
    pages = [e for e in recorded.events if e.kind == "page.triggered"]
    assert [(p.data["receiver"], p.data["group"]) for p in pages][:1] == [("serving-oncall", {"alertname": "ChatLLMLatencyHigh"})]
