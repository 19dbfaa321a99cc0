"""Safe by default: a real cluster is touched only with the allowlist and --live.

The "real cluster" is a recording HTTP server on 127.0.0.1 that a kubeconfig (context
``prod-gpu``) points at; a refused experiment must not send it a single request, and must
instead play a Chaos Toolkit dry run that shows its activities. With the allowlist and --live
the same experiment does reach it (so the refusal is what kept it away).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tabletop.chaos.experiments import LoadedExperiment
from tabletop.chaos.runner import run_chaos_drill
from tabletop.chaos.safety import decide
from tabletop.drill.engine import Drill
from tabletop.drill.replay import first_difference, replay_timeline
from tabletop.drill.timeline_reader import read_timeline
from tabletop.scenario.chaos import KubernetesTarget
from tabletop.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "chaos-serving-replicas.yaml"
EXPERIMENT = "lose-serving-capacity"


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.requests: list[str] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        self.server.requests.append(f"{self.command} {self.path}")  # type: ignore[attr-defined]
        body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "recording server",
                           "code": 500}).encode()
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def cluster() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def scenario(tmp_path: Path, cluster: Recorder, **kubernetes: Any) -> Path:
    """The bundled chaos scenario aimed at the recording server through kubeconfig context prod-gpu."""
    host, port = cluster.server_address[:2]
    kubeconfig = {
        "apiVersion": "v1", "kind": "Config", "current-context": "prod-gpu",
        "clusters": [{"name": "prod", "cluster": {"server": f"http://{host}:{port}"}}],
        "users": [{"name": "me", "user": {"token": "not-a-secret"}}],
        "contexts": [{"name": "prod-gpu", "context": {"cluster": "prod", "user": "me", "namespace": "serving"}}],
    }
    (tmp_path / "prod.kubeconfig").write_text(yaml.safe_dump(kubeconfig))
    data = yaml.safe_load(SCENARIO.read_text())
    data["kubernetes"] = {"context": "prod-gpu", "kubeconfig": "prod.kubeconfig", "namespaces": ["serving"], **kubernetes}
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run(path: Path, out: Path, **options: Any) -> tuple[Drill, list[str]]:
    messages: list[str] = []
    drill = run_chaos_drill(load_scenario(path), out_dir=out, speed=60, until=300, notify=messages.append, **options)
    return drill, messages


def of(drill: Drill, kind: str) -> list[dict[str, Any]]:
    return [e.data for e in drill.timeline.events if e.kind == kind]


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if line.strip().startswith(text))


def test_a_real_context_without_allowlist_and_live_is_refused_and_dry_run(tmp_path: Path, cluster: Recorder) -> None:
    path = scenario(tmp_path, cluster)
    drill, messages = run(path, tmp_path / "out")
    assert cluster.requests == []

    kubernetes = line_of(path, "kubernetes:")
    refused = of(drill, "chaos.experiment.refused")
    assert refused == [{
        "experiment": EXPERIMENT, "context": "prod-gpu", "dry_run": True,
        "reasons": ["kube context 'prod-gpu' is not in kubernetes.allowlist.contexts",
                    "namespace '*', 'serving' are not in kubernetes.allowlist.namespaces "
                    "('*': node actions that move pods touch every namespace)",
                    "--live was not given"],
        "fix": f"add 'prod-gpu' to kubernetes.allowlist.contexts (a new key under kubernetes, scenario.yaml line {kubernetes}), "
               f"add '*', 'serving' to kubernetes.allowlist.namespaces (a new key under kubernetes, scenario.yaml line "
               f"{kubernetes}) and pass --live",
    }]
    assert messages[0] == (f"experiment {EXPERIMENT}: refused to act ({'; '.join(refused[0]['reasons'])}); playing a Chaos "
                           f"Toolkit dry run instead. To run it: {refused[0]['fix']}")

    # the dry run shows what would have happened: every activity, with its arguments, touching nothing
    started = of(drill, "chaos.activity.started")
    assert [(a["phase"], a["type"], a["activity"], a["dry"]) for a in started] == [
        ("hypothesis", "probe", "chat-llm-available", True), ("method", "action", "terminate-a-replica", True),
        ("method", "action", "drain-a-node", True), ("hypothesis", "probe", "chat-llm-available", True),
        ("rollbacks", "action", "uncordon-the-node", True)]
    assert started[2]["provider"] == {"type": "python", "module": "chaosk8s.node.actions", "func": "drain_nodes",
                                      "arguments": {"name": "gpu-serve-2", "timeout": 120}}
    assert all(a["status"] == "succeeded" and a["output"] is None for a in of(drill, "chaos.activity.ended"))
    assert "  dry run: would run method action drain-a-node: chaosk8s.node.actions.drain_nodes(name='gpu-serve-2', timeout=120)" in messages
    ended = of(drill, "chaos.experiment.ended")
    assert [(e["status"], e["mode"]) for e in ended] == [("completed", "dry-run")]
    assert not any(e.kind in ("command", "mitigation.applied") for e in drill.timeline.events)
    recorded = read_timeline(tmp_path / "out" / "timeline.jsonl")
    assert first_difference(recorded, replay_timeline(load_scenario(path), recorded)) is None
    assert cluster.requests == []


def test_allowlisted_but_without_live_is_still_a_dry_run(tmp_path: Path, cluster: Recorder) -> None:
    path = scenario(tmp_path, cluster, allowlist={"contexts": ["prod-gpu"], "namespaces": ["serving", "*"]})
    drill, _ = run(path, tmp_path / "out")
    refused = of(drill, "chaos.experiment.refused")
    assert [(r["reasons"], r["fix"]) for r in refused] == [(["--live was not given"], "pass --live")]
    assert [e["mode"] for e in of(drill, "chaos.experiment.ended")] == ["dry-run"]
    assert cluster.requests == []


def test_live_without_the_namespace_in_the_allowlist_is_refused(tmp_path: Path, cluster: Recorder) -> None:
    path = scenario(tmp_path, cluster, allowlist={"contexts": ["prod-gpu"], "namespaces": ["serving"]})
    drill, _ = run(path, tmp_path / "out", live=True)
    refused = of(drill, "chaos.experiment.refused")[0]
    assert refused["reasons"] == ["namespace '*' is not in kubernetes.allowlist.namespaces "
                                  "('*': node actions that move pods touch every namespace)"]
    allowed = next(n for n, text in enumerate(path.read_text().splitlines(), start=1) if "namespaces:" in text and n > line_of(path, "allowlist:"))
    assert refused["fix"] == f"add '*' to kubernetes.allowlist.namespaces (scenario.yaml line {allowed})"
    assert cluster.requests == []


def test_with_the_allowlist_and_live_it_does_reach_the_cluster(tmp_path: Path, cluster: Recorder) -> None:
    path = scenario(tmp_path, cluster, allowlist={"contexts": ["prod-gpu"], "namespaces": ["serving", "*"]})
    drill, messages = run(path, tmp_path / "out", live=True)
    assert of(drill, "chaos.experiment.refused") == []
    assert messages[0] == f"experiment {EXPERIMENT}: runs against 'prod-gpu'"
    assert cluster.requests  # the gate was the only thing keeping it away
    assert any("/namespaces/serving/" in r for r in cluster.requests)
    ended = of(drill, "chaos.experiment.ended")
    assert [e["mode"] for e in ended] == ["live"] and ended[0]["status"] in ("failed", "completed")
    rollbacks = [a for a in of(drill, "chaos.activity.ended") if a["phase"] == "rollbacks"]
    assert [a["activity"] for a in rollbacks] == ["uncordon-the-node"]  # played whatever happened (strategy always)


def _experiment(*activities: dict[str, Any]) -> LoadedExperiment:
    return LoadedExperiment("e", {"title": "t", "description": "d", "method": list(activities)}, "inline", 0)


def _python(title: str, module: str, func: str, **arguments: Any) -> dict[str, Any]:
    return {"type": "action", "name": title, "provider": {"type": "python", "module": module, "func": func, "arguments": arguments}}


def test_programs_run_only_with_allow_process_even_against_the_twin() -> None:
    experiment = _experiment({"type": "action", "name": "stress", "provider": {"type": "process", "path": "stress-ng"}},
                             _python("shell", "os", "system", command="rm -rf /tmp/x"))
    refused = decide(KubernetesTarget(), experiment, default_namespaces=["serving"])
    assert refused.mode == "dry-run"
    assert refused.reasons == ["it runs programs on this machine ('stress': process 'stress-ng', 'shell': python os.system)"]
    assert refused.fix == "pass --allow-process"
    assert decide(KubernetesTarget(), experiment, default_namespaces=["serving"], allow_process=True).mode == "twin"


def test_namespaces_touched_come_from_arguments_and_provider_defaults() -> None:
    target = KubernetesTarget(context="prod", allowlist={"contexts": ["prod"], "namespaces": ["serving", "default"]})
    experiment = _experiment(_python("kill", "chaosk8s.pod.actions", "terminate_pods", label_selector="app=x"),
                             _python("cordon", "chaosk8s.node.actions", "cordon_node", name="n1"),
                             _python("scale", "chaosk8s.deployment.actions", "scale_deployment", name="d", replicas=2, ns="${ns}"))
    decision = decide(target, experiment, default_namespaces=["serving"], live=True)
    assert decision.namespaces == ["default", "serving"]  # terminate_pods' ns defaults to "default"; cordon moves no pods
    assert decision.reasons == ["activity 'scale' names its namespace with '${ns}', unknown before it runs"]
    experiment.document["configuration"] = {"ns": "serving"}
    assert decide(target, experiment, default_namespaces=["serving"], live=True).mode == "live"


def test_a_context_named_in_the_experiments_secrets_must_be_allowlisted_too() -> None:
    target = KubernetesTarget(context="staging", allowlist={"contexts": ["staging"], "namespaces": ["serving"]})
    experiment = _experiment(_python("kill", "chaosk8s.pod.actions", "terminate_pods", ns="serving"))
    experiment.document["secrets"] = {"k8s": {"KUBERNETES_CONTEXT": "prod"}}
    decision = decide(target, experiment, default_namespaces=["serving"], live=True)
    assert decision.reasons == ["kube context 'prod' is not in kubernetes.allowlist.contexts"]
