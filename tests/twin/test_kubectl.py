"""Real kubectl against the twin: reads, every mitigation a responder types, and the timeline.

The binary is ``kubectl`` on PATH (CI: Debian's ``kubernetes-client``, 1.20) or
``TABLETOP_KUBECTL``; without one these tests skip, or fail when ``TABLETOP_REQUIRE_KUBECTL=1``.
Each test runs the bundled drill fast (120 virtual seconds per wall second) with its own twin.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tabletop.scenario.loader import load_scenario
from tests.twin.live import BUNDLED, ROOT, LiveTwin, kubectl_binary, needs_openssl, with_fleet


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveTwin]:
    kubectl_binary()
    with LiveTwin(tmp_path) as twin:
        yield twin


def lines(text: str) -> list[list[str]]:
    return [line.split() for line in text.strip().splitlines()]


def applied(live: LiveTwin) -> list[tuple[str, str]]:
    return [(c["data"]["args"]["action"], c["data"]["args"]["target"]) for c in live.commands("alice") if c["data"]["ok"]]


def test_get_tables_and_json_show_the_simulated_fleet(live: LiveTwin) -> None:
    pods = lines(live.kubectl("get", "pods").stdout)
    assert pods[0][:5] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    names = sorted(row[0] for row in pods[1:])
    fleet = live.call(lambda d: sorted(p.name for p in d.fleet.pods.values() if p.namespace == "serving"))
    assert names == fleet and len(names) == 10
    assert all(row[1] == "1/1" and row[2] == "Running" for row in pods[1:])

    nodes = lines(live.kubectl("get", "nodes").stdout)
    assert nodes[0][:3] == ["NAME", "STATUS", "ROLES"]
    assert [row[0] for row in nodes[1:]] == [f"gpu-serve-{i}" for i in range(5)]
    deployments = lines(live.kubectl("get", "deployments").stdout)
    assert deployments[0][:4] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE"]
    assert {row[0]: row[1] for row in deployments[1:]} == {"chat-llm": "6/6", "ranker": "4/4"}

    everything = lines(live.kubectl("get", "pods", "--all-namespaces").stdout)
    system = [row for row in everything if row[0] == "kube-system"]
    assert len(system) == 10 and all(row[1].startswith("nvidia-") for row in system)

    listed = json.loads(live.kubectl("get", "pods", "-o", "json").stdout)
    pod = next(p for p in listed["items"] if p["metadata"]["name"].startswith("chat-llm-"))
    meta = pod["metadata"]
    assert meta["uid"] and int(meta["resourceVersion"]) > 0 and meta["labels"]["app"] == "chat-llm"
    assert meta["ownerReferences"][0]["kind"] == "ReplicaSet" and meta["ownerReferences"][0]["controller"] is True
    assert meta["creationTimestamp"].endswith("Z") and meta["creationTimestamp"] < "2026-03-17T08:35:00Z"
    assert pod["status"]["phase"] == "Running" and {"type": "Ready", "status": "True"}.items() <= pod["status"]["conditions"][1].items()
    uid = live.call(lambda d: d.fleet.pods[meta["name"]].uid)
    assert meta["uid"] == uid

    node = json.loads(live.kubectl("get", "node", "gpu-serve-2", "-o", "json").stdout)
    assert node["status"]["allocatable"]["nvidia.com/gpu"] == "8"
    assert [c["type"] for c in node["status"]["conditions"]][-1] == "Ready"
    deployment = json.loads(live.kubectl("get", "deployment", "chat-llm", "-o", "json").stdout)
    assert deployment["spec"]["replicas"] == 6 and deployment["status"]["availableReplicas"] == 6
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":v2026.03.10")


@pytest.fixture
def fast(tmp_path: Path) -> Iterator[LiveTwin]:
    """The drill at 400x: its GPU fails (T+10m) 1.5 s in."""
    kubectl_binary()
    with LiveTwin(tmp_path, speed=400) as twin:
        yield twin


def test_describe_and_logs_of_the_crash_looping_replica(fast: LiveTwin) -> None:
    def broken(d):  # type: ignore[no-untyped-def]
        return next((p.name for p in d.fleet.pods.values() if p.restarts >= 1 and p.container_started_at and p.container_started_at > 600), None)

    live = fast
    name = live.wait_for(broken, what="the replica on the failed GPU to crash and restart")
    described = live.kubectl("describe", "pod", name).stdout
    assert f"Name:             {name}" in described or f"Name:         {name}" in described
    assert "Controlled By:  ReplicaSet/chat-llm-" in described
    assert "Restart Count:" in described and "Node:" in described and "gpu-serve-2" in described
    assert "Events:" in described and "Back-off restarting failed container" in described
    previous = live.kubectl("logs", name, "--previous").stdout
    assert "CUDA error" in previous
    nodes = live.kubectl("describe", "node", "gpu-serve-2").stdout
    assert "GPUUnhealthy" in nodes and name in nodes
    events = live.kubectl("get", "events").stdout
    assert "BackOff" in events and f"pod/{name}" in events


def test_delete_pod_goes_through_the_command_api(live: LiveTwin) -> None:
    victim = live.call(lambda d: sorted(p.name for p in d.fleet.pods.values() if p.name.startswith("ranker-"))[0])
    result = live.kubectl("delete", "pod", victim)
    assert f'pod "{victim}" deleted' in result.stdout
    assert live.call(lambda d: victim not in d.fleet.pods)  # kubectl waited for it to go
    assert live.call(lambda d: sum(1 for p in d.fleet.deployments["ranker"].pods if p.alive)) == 4
    assert ("delete_pod", f"pod/{victim}") in applied(live)

    forced = live.call(lambda d: sorted(p.name for p in d.fleet.pods.values() if p.name.startswith("ranker-") and p.alive)[0])
    live.kubectl("delete", "pod", forced, "--grace-period=0", "--force")
    assert live.call(lambda d: forced not in d.fleet.pods)
    assert f"mitigate delete_pod pod/{forced} grace=0" in [c["data"]["line"] for c in live.commands("alice")]


def test_cordon_uncordon_and_drain(live: LiveTwin) -> None:
    assert "node/gpu-serve-0 cordoned" in live.kubectl("cordon", "gpu-serve-0").stdout
    assert live.call(lambda d: d.fleet.nodes["gpu-serve-0"].cordoned)
    assert "SchedulingDisabled" in live.kubectl("get", "node", "gpu-serve-0").stdout
    assert "node/gpu-serve-0 uncordoned" in live.kubectl("uncordon", "gpu-serve-0").stdout
    assert live.call(lambda d: not d.fleet.nodes["gpu-serve-0"].cordoned)

    refused = live.kubectl("drain", "gpu-serve-3", check=False)
    assert refused.returncode != 0 and "DaemonSet" in refused.stderr
    on_node = live.call(lambda d: sorted(p.name for p in d.fleet.nodes["gpu-serve-3"].pods if p.alive))
    assert on_node
    drained = live.kubectl("drain", "gpu-serve-3", "--ignore-daemonsets")
    assert "nvidia-device-plugin-daemonset-" in drained.stderr + drained.stdout  # ignored, with a warning
    assert live.call(lambda d: d.fleet.nodes["gpu-serve-3"].cordoned and not any(p.alive for p in d.fleet.nodes["gpu-serve-3"].pods))
    done = applied(live)
    assert done[:3] == [("cordon", "node/gpu-serve-0"), ("uncordon", "node/gpu-serve-0"), ("cordon", "node/gpu-serve-3")]
    assert sorted(t for a, t in done if a == "evict") == [f"pod/{name}" for name in on_node]
    reasons = live.call(lambda d: [e.data["reason"] for e in d.timeline.events if e.kind == "fleet.event" and e.data["object"] == f"pod/{on_node[0]}"])
    assert "Evicted" in reasons and "Killing" in reasons


def test_kubectl_drain_waits_on_a_disruption_budget(tmp_path: Path) -> None:
    """kubectl drain evicts through the Eviction API; the twin answers 429 with Kubernetes'
    words while the budget allows no disruption, kubectl retries every 5 s, and a refused
    eviction is not a command on the timeline."""
    kubectl_binary()
    loaded = with_fleet(load_scenario(BUNDLED), {"ranker": {"disruption_budget": {"min_available": 4}}})
    with LiveTwin(tmp_path, loaded, speed=30) as live:
        budgets = lines(live.kubectl("get", "pdb", "-n", "serving").stdout)
        assert budgets[0] == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED", "DISRUPTIONS", "AGE"]
        assert budgets[1][:4] == ["ranker", "4", "N/A", "0"]
        pdb = json.loads(live.kubectl("get", "pdb", "ranker", "-n", "serving", "-o", "json").stdout)
        assert pdb["spec"] == {"minAvailable": 4, "selector": {"matchLabels": {"app": "ranker"}}}
        assert {k: pdb["status"][k] for k in ("currentHealthy", "desiredHealthy", "disruptionsAllowed", "expectedPods")} == {
            "currentHealthy": 4, "desiredHealthy": 4, "disruptionsAllowed": 0, "expectedPods": 4}
        node = live.call(lambda d: next(p.node.name for p in d.fleet.deployments["ranker"].pods if p.alive))
        drained = live.kubectl("drain", node, "--ignore-daemonsets", "--timeout=8s", check=False, timeout=60)
        assert drained.returncode != 0
        assert "Cannot evict pod as it would violate the pod's disruption budget" in drained.stderr
        assert "will retry after 5s" in drained.stderr
        held = live.call(lambda d: [p.name for p in d.fleet.nodes[node].pods if p.alive and p.owner.name == "ranker"])
        assert held, "the budget kept the ranker pods on the node"
        assert not any(target == f"pod/{name}" for _, target in applied(live) for name in held)


def test_scale_rollout_restart_and_undo(live: LiveTwin) -> None:
    assert "scaled" in live.kubectl("scale", "deployment/ranker", "--replicas=5").stdout
    assert live.call(lambda d: d.fleet.deployments["ranker"].replicas) == 5
    assert "restarted" in live.kubectl("rollout", "restart", "deployment/ranker").stdout
    assert live.call(lambda d: d.fleet.deployments["ranker"].restarts) == 1
    restarted = json.loads(live.kubectl("get", "deployment", "ranker", "-o", "json").stdout)
    assert "kubectl.kubernetes.io/restartedAt" in restarted["spec"]["template"]["metadata"]["annotations"]

    assert "rolled back" in live.kubectl("rollout", "undo", "deployment/chat-llm").stdout
    assert live.call(lambda d: d.fleet.deployments["chat-llm"].version) == "v2026.02.24"
    replica_sets = lines(live.kubectl("get", "replicasets", "-l", "app=chat-llm").stdout)
    assert len(replica_sets) == 3  # header, the previous version's and the current one's
    live.kubectl("rollout", "undo", "deployment/chat-llm")
    assert live.call(lambda d: d.fleet.deployments["chat-llm"].version) == "v2026.03.10"
    assert applied(live) == [("scale", "deployment/ranker"), ("rollout_restart", "deployment/ranker"),
                             ("rollback", "deployment/chat-llm"), ("rollback", "deployment/chat-llm")]


def test_watch_shows_what_the_simulation_does(live: LiveTwin) -> None:
    victim = live.call(lambda d: sorted(p.name for p in d.fleet.pods.values() if p.name.startswith("ranker-"))[0])
    command = [kubectl_binary(), "--kubeconfig", str(live.kubeconfig), "--cache-dir", str(live.tmp / "kube-cache"),
               "get", "pods", "-l", "app=ranker", "--watch", "--output-watch-events"]
    watcher = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rows: list[list[str]] = []
    reader = threading.Thread(target=lambda: rows.extend(line.split() for line in watcher.stdout), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while not any(row[:2] == ["ADDED", victim] for row in rows):
            assert time.monotonic() < deadline and watcher.poll() is None, rows
            time.sleep(0.05)
        live.kubectl("delete", "pod", victim, "--wait=false")
        replacement = live.wait_for(lambda d: next((p.name for p in d.fleet.deployments["ranker"].pods if p.ready and p.created_at > 0), None),
                                    what="a ready replacement")
        while not any(row[:3] == ["MODIFIED", replacement, "1/1"] for row in rows):
            assert time.monotonic() < deadline, rows
            time.sleep(0.05)
    finally:
        watcher.terminate()
        watcher.wait(10)
        reader.join(10)
    assert any(row[:2] == ["MODIFIED", victim] and "Terminating" in row for row in rows), rows
    assert any(row[:2] == ["DELETED", victim] for row in rows), rows
    assert any(row[:2] == ["ADDED", replacement] for row in rows), rows


def test_errors_reach_kubectl_as_statuses(live: LiveTwin) -> None:
    missing = live.kubectl("get", "pod", "nope", check=False)
    assert missing.returncode == 1 and 'pods "nope" not found' in missing.stderr
    too_many = live.kubectl("scale", "deployment/ranker", "--replicas=5000", check=False)
    assert too_many.returncode == 1 and "at most 2000" in too_many.stderr
    pod = live.call(lambda d: sorted(p.name for p in d.fleet.pods.values())[0])
    stranger = live.kubectl("--as=mallory", "delete", "pod", pod, check=False)
    assert stranger.returncode == 1 and "Forbidden" in stranger.stderr + stranger.stdout
    as_bob = live.kubectl("--as=bob", "cordon", "gpu-serve-1")
    assert "cordoned" in as_bob.stdout
    assert [(c["actor"], c["data"]["line"]) for c in live.commands()] == [("bob", "mitigate cordon node/gpu-serve-1")]


def test_a_token_is_required_when_configured(tmp_path: Path) -> None:
    kubectl_binary()
    needs_openssl()
    with LiveTwin(tmp_path, token="s3cret") as live:
        assert "token: s3cret" in live.kubeconfig.read_text() and "https://127.0.0.1:" in live.kubeconfig.read_text()
        assert "gpu-serve-0" in live.kubectl("get", "nodes").stdout
        anonymous = tmp_path / "anonymous"
        anonymous.write_text(live.kubeconfig.read_text().replace("token: s3cret", "token: wrong"))
        refused = live.kubectl("--kubeconfig", str(anonymous), "get", "nodes", check=False)
        assert refused.returncode == 1 and ("Unauthorized" in refused.stderr or "logged in" in refused.stderr)


def test_replay_of_a_kubectl_driven_drill_verifies(live: LiveTwin) -> None:
    victim, node = live.call(lambda d: next((p.name, p.node.name) for p in sorted(d.fleet.pods.values(), key=lambda p: p.name)
                                            if p.name.startswith("ranker-")))
    live.kubectl("cordon", node)
    live.kubectl("delete", "pod", victim, "--wait=false")
    live.kubectl("scale", "deployment/ranker", "--replicas=6")
    live.kubectl("drain", node, "--ignore-daemonsets", "--timeout=60s")
    live.wait_for(lambda d: d.now > 200, what="the drill to go on")
    drill = live.end()
    assert drill.ended and len(live.commands("alice")) >= 5
    replayed = subprocess.run([str(Path(sys.executable).parent / "tabletop"), "replay", str(live.timeline), "--verify",
                               "--scenario", str(ROOT / "scenarios" / "serving-gpu-node-failure.yaml")],
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
