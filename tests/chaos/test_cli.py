"""`tabletop run` on a scenario with experiments: paced against the twin by itself; --live and
--allow-process; the refusal says what to change."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from tests.chaos.test_safety import Recorder, cluster, scenario  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "chaos-serving-replicas.yaml"
SCRIPT = Path(__file__).parent / "fixtures" / "responder.yaml"


def tabletop(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tabletop", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()[1:]]


def test_run_plays_the_experiment_against_the_twin_and_interrupts_it_at_the_end(tmp_path: Path) -> None:
    ran = tabletop("run", str(SCENARIO), "--speed", "60", "--duration", "5m", "--responder", str(SCRIPT), "--seed", "3",
                   "--out", str(tmp_path))
    assert ran.returncode == 0, ran.stderr
    assert "experiment lose-serving-capacity: runs against the twin" in ran.stderr
    assert "serving the simulated fleet as a Kubernetes API" in ran.stderr
    timeline = events(tmp_path / "timeline.jsonl")
    assert timeline[-1]["kind"] == "drill.ended" and timeline[-1]["data"]["reason"] == "duration"
    ended = [e["data"] for e in timeline if e["kind"] == "chaos.experiment.ended"]
    assert [(e["status"], e["mode"], e["reason"]) for e in ended] == [("interrupted", "twin", "the drill ended (duration)")]
    rollbacks = [e["data"] for e in timeline if e["kind"] == "chaos.activity.ended" and e["data"]["phase"] == "rollbacks"]
    assert [(r["activity"], r["status"]) for r in rollbacks] == [("uncordon-the-node", "succeeded")]
    assert (tmp_path / "chaos" / "lose-serving-capacity.journal.json").exists()
    assert "lose-serving-capacity" in (tmp_path / "postmortem.md").read_text()
    replayed = tabletop("replay", "--verify", str(tmp_path / "timeline.jsonl"))
    assert replayed.returncode == 0 and "identical" in replayed.stdout, replayed.stderr


def test_run_refuses_a_real_cluster_without_allowlist_and_live(tmp_path: Path, cluster: Recorder) -> None:  # noqa: F811
    path = scenario(tmp_path, cluster)
    ran = tabletop("run", str(path), "--speed", "60", "--duration", "4m", "--responder", str(SCRIPT), "--out", str(tmp_path / "out"),
                   "--live")
    assert ran.returncode == 0, ran.stderr
    assert cluster.requests == []
    kubernetes = next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if line.startswith("kubernetes:"))
    assert ("To run it: add 'prod-gpu' to kubernetes.allowlist.contexts (a new key under kubernetes, scenario.yaml line "
            f"{kubernetes}) and add '*', 'serving' to kubernetes.allowlist.namespaces") in ran.stderr
    assert "experiment lose-serving-capacity: completed (dry run: nothing was touched)" in ran.stderr
    assert "pass --live" not in ran.stderr.split("To run it:")[1]  # it was given
    assert "dry run: would run method action drain-a-node: chaosk8s.node.actions.drain_nodes(name='gpu-serve-2', timeout=120)" in ran.stderr
    ended = [e["data"] for e in events(tmp_path / "out" / "timeline.jsonl") if e["kind"] == "chaos.experiment.ended"]
    assert [(e["status"], e["mode"]) for e in ended] == [("completed", "dry-run")]


def test_a_real_cluster_drill_serves_its_metrics_with_metrics_port(tmp_path: Path, cluster: Recorder) -> None:  # noqa: F811
    """--metrics-port is honoured when the experiments aim at a real cluster (here refused: a dry
    run against a recording server that must see no request)."""
    path = scenario(tmp_path, cluster)
    process = subprocess.Popen([sys.executable, "-m", "tabletop", "run", str(path), "--speed", "60", "--duration", "4m",
                                "--metrics-port", "0", "--out", str(tmp_path / "out")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert process.stderr is not None
        lines = []
        for line in process.stderr:
            lines.append(line)
            found = re.search(r"serving the drill's metrics at (http://127\.0\.0\.1:\d+/metrics)", line)
            if found:
                break
        assert found, "".join(lines)
        body = ""
        for _ in range(100):  # the first scrape is at T+0 of the drill's clock, published by its first step
            with urllib.request.urlopen(found.group(1), timeout=10) as response:
                body = response.read().decode()
            if "kube_deployment_spec_replicas{" in body:
                break
            time.sleep(0.1)
        assert 'kube_deployment_spec_replicas{' in body and 'job="kube-state-metrics"' in body, body
        _, rest = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, "".join(lines) + rest
    assert "the drill runs without a twin (--twin serves one)" in "".join(lines) + rest
    assert cluster.requests == []


def test_a_real_cluster_drill_serves_the_twin_with_twin(tmp_path: Path, cluster: Recorder) -> None:  # noqa: F811
    path = scenario(tmp_path, cluster)
    ran = tabletop("run", str(path), "--speed", "60", "--duration", "4m", "--twin", "--out", str(tmp_path / "out"))
    assert ran.returncode == 0, ran.stderr
    assert "experiments act on kube context 'prod-gpu'; the twin serves the simulated fleet beside it" in ran.stderr
    assert "serving the simulated fleet as a Kubernetes API" in ran.stderr and (tmp_path / "out" / "kubeconfig").exists()
    assert cluster.requests == []  # the experiment still aims at prod-gpu (refused: a dry run), never at the twin
    ended = [e["data"] for e in events(tmp_path / "out" / "timeline.jsonl") if e["kind"] == "chaos.experiment.ended"]
    assert [(e["status"], e["mode"]) for e in ended] == [("completed", "dry-run")]


def test_run_allow_process(tmp_path: Path) -> None:
    data = yaml.safe_load(SCENARIO.read_text())
    experiment = data["experiments"][0]["experiment"]
    experiment["method"] = [{"type": "action", "name": "say-hello", "provider": {"type": "process", "path": "echo",
                                                                              "arguments": "hello from chaos"}}]
    experiment["rollbacks"] = []
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    refused = tabletop("run", str(path), "--speed", "60", "--duration", "4m", "--out", str(tmp_path / "refused"))
    assert refused.returncode == 0, refused.stderr
    assert ("refused to act (it runs programs on this machine ('say-hello': process 'echo')); playing a Chaos Toolkit "
            "dry run instead. To run it: pass --allow-process") in refused.stderr
    allowed = tabletop("run", str(path), "--speed", "60", "--duration", "4m", "--out", str(tmp_path / "allowed"), "--allow-process")
    assert allowed.returncode == 0, allowed.stderr
    ran = [e["data"] for e in events(tmp_path / "allowed" / "timeline.jsonl") if e["kind"] == "chaos.activity.ended"
           and e["data"]["activity"] == "say-hello"]
    assert [(r["status"], r["output"]["stdout"].strip(), r["dry"]) for r in ran] == [("succeeded", "hello from chaos", False)]
