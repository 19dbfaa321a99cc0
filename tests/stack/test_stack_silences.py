"""Silences both ways between a `--stack` drill and its real Alertmanager.

alice silences KubePodCrashLooping from the drill; bob adds a silence with the real `amtool`
beside it. Alertmanager must hold alice's silence (in her name) and mute both alerts, the
drill must record bob's, alice's `unsilence` must expire hers there (the alert then notifies),
and a replay must reproduce the timeline without any Alertmanager.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest

from tabletop.drill.replay import first_difference, replay_timeline
from tabletop.drill.responders.base import Responder
from tabletop.drill.timeline_reader import read_timeline
from tabletop.scenario.loader import load_scenario
from tabletop.stack.run import run_with_stack
from tests.prometheus_binaries import alertmanager_binary, prometheus_binary

BUNDLED = Path(__file__).resolve().parents[2] / "scenarios" / "serving-gpu-node-failure.yaml"
UNTIL = 1900.0
"""KubePodCrashLooping fires at 930 and KubeDeploymentReplicasMismatch at 1230 (drill seconds)."""


class Silencer(Responder):
    name = "silencer"

    def start(self) -> None:
        self.drill.submit(60, "alice", 'silence alertname=KubePodCrashLooping --duration 1h --comment "known: draining"')
        self.drill.submit(1500, "alice", "unsilence S1")
        self.drill.submit(1150, "alice", "ack P1")  # P1 (ChatLLMLatencyHigh) came from Alertmanager at about 1005


def notified(events, alertname: str) -> list[float]:
    return [e.t for e in events if e.kind == "alertmanager.notification"
            and any(a["alertname"] == alertname and a["status"] == "firing" for a in e.data["alerts"])]


@pytest.fixture(scope="module")
def drill_with_silences(tmp_path_factory: pytest.TempPathFactory):
    prometheus_binary("prometheus")
    amtool = alertmanager_binary("amtool")
    alertmanager_binary("alertmanager")
    folder = tmp_path_factory.mktemp("silences")
    loaded = load_scenario(BUNDLED)
    seen: dict[str, object] = {}

    def beside(live) -> None:
        url = live.alertmanager.url
        time.sleep(3)  # the drill is at about 3 minutes: alice's silence exists
        seen["alertmanager"] = live.alertmanager.silences()
        seen["amtool"] = subprocess.run(
            [amtool, "silence", "add", "alertname=KubeDeploymentReplicasMismatch", "--author=bob",
             "--comment=rollout in progress", "--duration=2h", f"--alertmanager.url={url}"],
            capture_output=True, text=True, timeout=30)
        time.sleep(24)  # past alice's unsilence at 1500
        seen["after"] = live.alertmanager.silences()

    threads: list[threading.Thread] = []

    def ready(live) -> None:
        thread = threading.Thread(target=beside, args=(live,), daemon=True)
        threads.append(thread)
        thread.start()

    drill = run_with_stack(loaded, Silencer(), folder=folder / "stack", speed=60, until=UNTIL,
                           timeline_path=folder / "timeline.jsonl", on_ready=ready)
    threads[0].join(timeout=60)
    return loaded, drill, folder, seen


def test_a_drill_silence_is_made_in_alertmanager_in_its_makers_name(drill_with_silences) -> None:
    _, drill, _, seen = drill_with_silences
    [made] = [s for s in seen["alertmanager"] if s["createdBy"] == "alice"]
    assert made["matchers"] == [{"name": "alertname", "value": "KubePodCrashLooping", "isRegex": False,
                                 "isEqual": True}]
    assert made["comment"] == "known: draining" and made["status"]["state"] == "active"
    reported = [e for e in drill.timeline.events if e.kind == "alertmanager.silence" and e.data["silence"] == "S1"]
    assert reported[0].data == {"id": made["id"], "silence": "S1", "state": "active"}
    assert drill.silences.find("S1").alertmanager_id == made["id"]


def test_an_amtool_silence_shows_in_the_drill(drill_with_silences) -> None:
    _, drill, _, seen = drill_with_silences
    assert seen["amtool"].returncode == 0, seen["amtool"].stderr
    am_id = seen["amtool"].stdout.strip()
    [reported] = [e for e in drill.timeline.events if e.kind == "alertmanager.silence" and e.data["id"] == am_id]
    assert reported.data["silence"] is None and reported.data["created_by"] == "bob"
    assert reported.data["matchers"] == ['alertname="KubeDeploymentReplicasMismatch"']
    assert reported.data["comment"] == "rollout in progress"
    assert 150 < reported.t < 400  # made about 3 wall seconds in, seen within a poll
    # amtool's --duration is wall time: two hours of it are 120 hours of a 60x drill
    assert reported.data["ends_at"] == pytest.approx(reported.t + 2 * 3600 * 60, abs=120)
    assert drill.silences.find(am_id) is not None


def test_silenced_alerts_page_nobody_until_unsilenced(drill_with_silences) -> None:
    _, drill, _, seen = drill_with_silences
    events = drill.timeline.events
    fired = {e.data["alertname"]: e.t for e in events if e.kind == "alert.firing"}
    assert fired["KubePodCrashLooping"] < 1500 and fired["KubeDeploymentReplicasMismatch"] < UNTIL - 300
    assert notified(events, "KubeDeploymentReplicasMismatch") == []  # bob's silence holds to the end
    crash = notified(events, "KubePodCrashLooping")
    assert crash and min(crash) > 1500  # muted until alice expired S1, then notified
    assert any(e.kind == "silence.expired" and e.data["silence"] == "S1" for e in events)
    [hers] = [s for s in seen["after"] if s["createdBy"] == "alice" and s["comment"] == "known: draining"]
    assert hers["status"]["state"] == "expired"
    assert notified(events, "GPUXidError")  # what no silence matches still notifies


def test_replay_reproduces_the_silences_without_alertmanager(drill_with_silences) -> None:
    loaded, _, folder, _ = drill_with_silences
    recorded = read_timeline(folder / "timeline.jsonl")
    assert first_difference(recorded, replay_timeline(loaded, recorded)) is None


def test_an_acknowledgement_silences_the_pages_alerts_in_alertmanager(drill_with_silences) -> None:
    _, drill, _, seen = drill_with_silences
    [acked] = [e for e in drill.timeline.events if e.kind == "page.acknowledged"]
    assert (acked.data["page"], acked.data["by"], acked.t) == ("P1", "alice", 1150)
    [ack] = [s for s in seen["after"] if s["comment"].startswith("ACK! P1")]
    assert ack["createdBy"] == "alice" and ack["status"]["state"] == "active"
    assert ack["matchers"] == [{"name": "team", "value": "serving", "isRegex": False, "isEqual": True},
                               {"name": "alertname", "value": "ChatLLMLatencyHigh", "isRegex": True, "isEqual": True}]
    [reported] = [e for e in drill.timeline.events if e.kind == "alertmanager.silence" and e.data.get("ack") == "P1"]
    assert reported.data["id"] == ack["id"]
    assert drill.silences.find(ack["id"]) is None  # Alertmanager's business: it mutes nothing in the drill itself
