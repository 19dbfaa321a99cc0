"""A Chaos Toolkit experiment (chaostoolkit-kubernetes) run with ``chaos run`` against the twin.

chaoslib runs experiments on its main thread, so the experiment runs as the real CLI in a
subprocess, finding the API through ``KUBECONFIG`` and the context named after the scenario.
Its actions land on the timeline as the twin's participant; its probes see what the simulation
did. ``drain_nodes`` polls every 10 s, so this test takes about that long.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.twin.live import LiveTwin


def activity(kind: str, title: str, module: str, func: str, **arguments: Any) -> dict[str, Any]:
    return {"type": kind, "name": title, "secrets": ["k8s"],
            "provider": {"type": "python", "module": module, "func": func, "arguments": arguments}}


def experiment(node: str) -> dict[str, Any]:
    deployment_probes, pod_probes = "chaosk8s.deployment.probes", "chaosk8s.pod.probes"
    return {
        "version": "1.0.0",
        "title": "The serving pool loses a replica and a node",
        "description": "Terminate a chat-llm replica, add ranker headroom, drain a node, put it back.",
        "secrets": {"k8s": {"KUBERNETES_CONTEXT": "serving-gpu-node-failure"}},
        "steady-state-hypothesis": {"title": "ranker keeps serving", "probes": [
            {**activity("probe", "ranker-serves", deployment_probes, "deployment_partially_available", name="ranker", ns="serving"),
             "tolerance": True},
        ]},
        "method": [
            activity("probe", "chat-llm-healthy", deployment_probes, "deployment_available_and_healthy", name="chat-llm", ns="serving"),
            activity("probe", "ranker-pods", pod_probes, "count_pods", label_selector="app=ranker", ns="serving"),
            activity("probe", "ranker-running", pod_probes, "pods_in_phase", label_selector="app=ranker", phase="Running", ns="serving"),
            activity("action", "kill-a-replica", "chaosk8s.pod.actions", "terminate_pods", label_selector="app=chat-llm", ns="serving"),
            activity("action", "ranker-headroom", "chaosk8s.deployment.actions", "scale_deployment", name="ranker", replicas=5, ns="serving"),
            activity("probe", "ranker-ready", deployment_probes, "deployment_fully_available", name="ranker", ns="serving", timeout=30),
            activity("probe", "ranker-pods-after", pod_probes, "count_pods", label_selector="app=ranker", phase="Running", ns="serving"),
            activity("action", "drain", "chaosk8s.node.actions", "drain_nodes", name=node, timeout=60),
            activity("action", "uncordon", "chaosk8s.node.actions", "uncordon_node", name=node),
        ],
        "rollbacks": [],
    }


def test_chaostoolkit_kubernetes_experiment_drives_the_simulation(tmp_path: Path) -> None:
    with LiveTwin(tmp_path) as live:
        first, node = live.call(lambda d: (sorted(p for p in d.fleet.pods if p.startswith("chat-llm-"))[0],
                                           d.fleet.pods[sorted(p for p in d.fleet.pods if p.startswith("ranker-"))[0]].node.name))
        on_node = live.call(lambda d: sorted(p.name for p in d.fleet.nodes[node].pods if p.alive))
        path = tmp_path / "experiment.json"
        path.write_text(json.dumps(experiment(node)))
        journal_path = tmp_path / "journal.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
        env.update(KUBECONFIG=str(live.kubeconfig), HOME=str(tmp_path))
        chaos = Path(sys.executable).parent / "chaos"
        ran = subprocess.run([str(chaos), "--no-version-check", "--no-log-file", "--settings", str(tmp_path / "settings.yaml"),
                              "run", str(path), "--journal-path", str(journal_path)],
                             capture_output=True, text=True, timeout=180, cwd=tmp_path, env=env)
        journal = json.loads(journal_path.read_text())
        assert journal["status"] == "completed", ran.stdout + ran.stderr
        outputs = {run["activity"]["name"]: (run["status"], run.get("output")) for run in journal["run"]}
        assert outputs["chat-llm-healthy"] == ("succeeded", True)
        assert outputs["ranker-pods"] == ("succeeded", 4)
        assert outputs["ranker-running"] == ("succeeded", True)
        assert outputs["kill-a-replica"] == ("succeeded", [first])
        assert outputs["ranker-headroom"][0] == "succeeded"
        assert outputs["ranker-ready"] == ("succeeded", True)
        assert outputs["ranker-pods-after"] == ("succeeded", 5)
        assert outputs["drain"] == ("succeeded", [node])
        assert outputs["uncordon"] == ("succeeded", [node])
        assert journal["steady_states"]["after"]["steady_state_met"] is True

        assert live.call(lambda d: (first in d.fleet.pods and d.fleet.pods[first].alive, d.fleet.deployments["ranker"].replicas,
                                    d.fleet.nodes[node].cordoned)) == (False, 5, False)
        lines = [c["data"]["line"] for c in live.commands("alice")]
        assert lines[:3] == [f"mitigate delete_pod pod/{first}", "mitigate scale deployment/ranker replicas=5",
                             f"mitigate cordon node/{node}"]
        evictions = [c["data"] for c in live.commands("alice")][3:-1]
        assert evictions and all(e["line"].startswith("mitigate evict pod/") and e["message"].endswith(f"from {node}") for e in evictions)
        assert {e["line"].rpartition("/")[2] for e in evictions} >= set(on_node) - {first}
        assert lines[-1] == f"mitigate uncordon node/{node}"
