"""Inhibition end to end: the issue's case (a NotReady node inhibiting the pod alerts on it) run
with the real Prometheus and Alertmanager, and headless.

``tests/pager/fixtures/node-inhibits-pods.yaml`` pages KubePodNotReady one group per pod, so
without inhibition Alertmanager would notify the healthy replica's alert on the hung node at
its group's first flush, ``group_wait`` after it fired; with the scenario's inhibit rule written
into alertmanager.yml it sends nothing for it at all, while the node's alert that inhibits it
and the same rule's alert for the other pod on that node (before the node failed) are notified.
The headless pager holds back the very same alert.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tabletop.drill.responders import make_responder
from tabletop.drill.run import run_headless
from tabletop.drill.timeline_reader import RecordedTimeline, read_timeline
from tabletop.scenario.loader import load_scenario
from tests.prometheus_binaries import alertmanager_binary, prometheus_binary
from tests.stack.test_stack_drill import labels_key as key, tabletop

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "pager" / "fixtures" / "node-inhibits-pods.yaml"
BYSTANDER = ROOT / "tests" / "drills" / "responders" / "bystander.yaml"
DURATION = 50 * 60.0
"""gpu-serve-2 hangs at 40m; its KubeNodeNotReady and the healthy pod's KubePodNotReady fire at
46m, and the pod's group would notify 30 s later."""

Key = tuple[tuple[str, str], ...]


@pytest.fixture(scope="module")
def stack_run(tmp_path_factory: pytest.TempPathFactory) -> RecordedTimeline:
    prometheus_binary("prometheus")
    alertmanager_binary("alertmanager")
    out = tmp_path_factory.mktemp("stack-inhibition")
    done = tabletop("run", str(FIXTURE), "--stack", "--speed", "120", "--duration", "50m", "--responder", str(BYSTANDER),
                    "--out", str(out), timeout=300)
    assert done.returncode == 0, done.stderr
    written = yaml.safe_load((out / "stack" / "alertmanager.yml").read_text())
    assert written["inhibit_rules"] == [{"source_matchers": ['alertname="KubeNodeNotReady"'],
                                         "target_matchers": ['alertname=~"KubePod.*"'], "equal": ["node"]}]
    return read_timeline(out / "timeline.jsonl")


@pytest.fixture(scope="module")
def headless_inhibited() -> list[tuple[float, dict[str, str], dict[str, str]]]:
    """(time, labels, inhibiting alert's labels) of every alert the headless pager held back."""
    loaded = load_scenario(FIXTURE)
    drill = run_headless(loaded, make_responder(str(BYSTANDER), loaded), until=DURATION)
    return [(e.t, e.data["labels"], e.data["by"]["labels"]) for e in drill.timeline.events if e.kind == "alert.inhibited"]


def notified_firing(recorded: RecordedTimeline) -> dict[Key, float]:
    """Each alert Alertmanager sent as firing, and when it was first sent."""
    sent: dict[Key, float] = {}
    for event in recorded.events:
        if event.kind == "alertmanager.notification":
            for alert in event.data["alerts"]:
                if alert["status"] == "firing":
                    sent.setdefault(key(alert["labels"]), event.t)
    return sent


def test_alertmanager_never_notifies_the_alert_the_headless_pager_holds_back(
        stack_run: RecordedTimeline, headless_inhibited: list[tuple[float, dict[str, str], dict[str, str]]]) -> None:
    [(t, healthy, by)] = headless_inhibited
    assert healthy["alertname"] == "KubePodNotReady" and healthy["node"] == by["node"] == "gpu-serve-2"
    assert by["alertname"] == "KubeNodeNotReady"
    recorded = stack_run
    assert recorded.header.paging == "alertmanager"
    # the drill's own engine fired the same alerts at the same second as headless ...
    fired = {key(e.data["labels"]): e.t for e in recorded.events if e.kind == "alert.firing"}
    assert fired[key(healthy)] == fired[key(by)] == t
    ended = next(e for e in recorded.events if e.kind == "drill.ended")
    assert ended.t >= t + 30 + 60  # well past the pod group's first flush
    # ... and Alertmanager sent nothing for the inhibited one, in no notification, firing or resolved
    sent = notified_firing(recorded)
    listed = {key(a["labels"]) for e in recorded.events if e.kind == "alertmanager.notification" for a in e.data["alerts"]}
    assert key(healthy) not in listed
    assert sent[key(by)] >= t  # the inhibiting alert reached the webhook
    crash_looping = [labels for labels in fired if dict(labels).get("node") == "gpu-serve-2"
                     and dict(labels)["alertname"] == "KubePodNotReady" and labels != key(healthy)]
    assert len(crash_looping) == 1 and sent[crash_looping[0]] < t  # the same rule on the same node, before it failed
    pages = [e for e in recorded.events if e.kind == "page.triggered"]
    assert not any(p.data["group"].get("pod") == healthy["pod"] for p in pages)
    assert any(p.data["alerts"] == ["KubeNodeNotReady"] for p in pages)
    assert not any(e.kind == "alert.inhibited" for e in recorded.events)  # Alertmanager inhibits on its own here
