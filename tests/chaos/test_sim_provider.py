"""The sim provider: Chaos Toolkit experiments that inject catalog faults into a live drill and
probe its SLOs and alerts, through the control API the twin serves under /tabletop/v1.

The experiment runs as the real ``chaos run`` in a subprocess (chaoslib only runs on a main
thread), finding the drill through TABLETOP_URL, exactly as tabletop's runner starts them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tabletop.drill.replay import first_difference, replay_timeline
from tabletop.drill.timeline_reader import read_timeline
from tests.twin.live import LiveTwin

ACTIONS, PROBES = "tabletop.chaos.sim.actions", "tabletop.chaos.sim.probes"
CHAOS = Path(sys.executable).parent / "chaos"


def activity(type_: str, name: str, module: str, func: str, /, **arguments: Any) -> dict[str, Any]:
    return {"type": type_, "name": name, "provider": {"type": "python", "module": module, "func": func, "arguments": arguments}}


def events(live: LiveTwin) -> list[dict[str, Any]]:
    return [json.loads(line) for line in live.timeline.read_text().splitlines()[1:] if line.strip()]


def chat_llm_gpu(live: LiveTwin, avoid: str = "gpu-serve-2") -> tuple[str, str, int]:
    """A chat-llm pod away from the node the scenario's own faults hit, its node and one of its GPUs."""
    def pick(drill: Any) -> tuple[str, str, int]:
        pod = next(p for name, p in sorted(drill.fleet.pods.items())
                   if name.startswith("chat-llm-") and p.node is not None and p.node.name != avoid)
        return pod.name, pod.node.name, next(g.index for g in pod.node.gpus if g.pod is pod)
    return live.call(pick)


def chaos_run(tmp_path: Path, live: LiveTwin, experiment: dict[str, Any], *extra: str,
              env: dict[str, str] | None = None) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    path = tmp_path / "experiment.json"
    path.write_text(json.dumps(experiment))
    journal_path = tmp_path / "journal.json"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TABLETOP_", "KUBERNETES_"))}
    assert live.twin is not None
    environment.update(TABLETOP_URL=live.twin.url, HOME=str(tmp_path), **(env or {}))
    ran = subprocess.run([str(CHAOS), "--no-version-check", "--no-log-file", "--settings", str(tmp_path / "settings.yaml"),
                          "run", str(path), "--journal-path", str(journal_path), *extra],
                         capture_output=True, text=True, timeout=180, cwd=tmp_path, env=environment)
    assert journal_path.exists(), ran.stdout + ran.stderr
    return json.loads(journal_path.read_text()), ran


def test_an_experiment_injects_a_gpu_fault_and_sees_the_slo_degrade(tmp_path: Path) -> None:
    with LiveTwin(tmp_path, speed=60.0) as live:
        pod, node, gpu = chat_llm_gpu(live)
        experiment = {
            "version": "1.0.0",
            "title": "A GPU under chat-llm falls off the bus",
            "description": "Xid 79 on one replica's GPU: the availability SLO breaks and the GPU alert fires.",
            "configuration": {"tabletop_url": {"type": "env", "key": "TABLETOP_URL"}},
            "steady-state-hypothesis": {"title": "chat-llm meets its availability SLO", "probes": [
                {**activity("probe", "availability", PROBES, "slo_good_ratio", slo="chat-llm-availability"),
                 "tolerance": {"type": "range", "range": [0.995, 1.0]}},
                {**activity("probe", "not-in-breach", PROBES, "slo_in_breach", slo="chat-llm-availability"), "tolerance": False},
            ]},
            "method": [
                {**activity("action", "surge-once-paged", ACTIONS, "inject_fault", kind="traffic_surge", target="deployment/ranker",
                            id="surge", when={"condition": 'ALERTS{alertname="GPUXidError", alertstate="firing"}'}),
                 "background": True},
                activity("action", "bad-fault", ACTIONS, "inject_fault", kind="gpu_xid", target=f"node/{node}",
                         parameters={"gpu": 99, "xid": 7, "colour": "red"}),
                activity("action", "xid-79", ACTIONS, "inject_fault", kind="gpu_xid", target=f"node/{node}",
                         parameters={"gpu": gpu, "xid": 79}, description="chaos: GPU off the bus"),
                activity("probe", "gpu-alert-fires", PROBES, "wait_until",
                         condition=f'ALERTS{{alertname="GPUXidError", alertstate="firing", Hostname="{node}"}}', timeout=60),
                activity("probe", "gpu-alert", PROBES, "alert_firing", alertname="GPUXidError"),
                activity("probe", "xid-seen", PROBES, "query_value",
                         promql=f'max(DCGM_FI_DEV_XID_ERRORS{{Hostname="{node}"}})'),
                activity("probe", "fault-active", PROBES, "fault_active", id="chaos-gpu-xid-1"),
                activity("probe", "two-minutes-on", PROBES, "wait", duration="2m", timeout=60),
                activity("probe", "breached", PROBES, "slo_in_breach", slo="chat-llm-availability"),
                activity("probe", "ratio", PROBES, "slo_good_ratio", slo="chat-llm-availability"),
                activity("probe", "budget", PROBES, "error_budget_burned", slo="chat-llm-availability"),
            ],
            "rollbacks": [
                activity("action", "replace-the-crashlooping-replica", ACTIONS, "mitigate", action="delete_pod",
                         target="pod/chat-llm-*"),
            ],
        }
        journal, ran = chaos_run(tmp_path, live, experiment, "--rollback-strategy", "always")
        runs = {run["activity"]["name"]: run for run in journal["run"]}
        log = ran.stdout + ran.stderr

        assert journal["steady_states"]["before"]["steady_state_met"] is True, log
        bad = runs["bad-fault"]
        assert bad["status"] == "failed"
        message = "".join(bad["exception"])
        assert "the drill refused (422)" in message
        assert "parameters.gpu: expected a number at most 15, got 99" in message
        assert "parameters.xid: expected one of 13, 31" in message
        assert "parameters.colour: gpu_xid has no parameter 'colour'; its parameters are gpu, xid" in message
        assert "the drill refused (422)" in log  # chaos shows why

        injected = runs["xid-79"]
        assert injected["status"] == "succeeded", log
        assert injected["output"]["id"] == "chaos-gpu-xid-1" and injected["output"]["status"] == "active"
        assert runs["gpu-alert-fires"]["status"] == "succeeded", log
        assert runs["gpu-alert"]["output"] is True
        assert runs["xid-seen"]["output"] == 79.0
        assert runs["fault-active"]["output"] is True
        assert runs["breached"]["output"] is True
        assert runs["ratio"]["output"] < 0.995
        assert runs["budget"]["output"] > 0
        assert journal["steady_states"]["after"]["steady_state_met"] is False  # the SLO is broken now
        rollback = journal["rollbacks"][0]
        assert rollback["status"] == "succeeded", log
        assert rollback["output"]["commands"] == [f"mitigate delete_pod pod/{pod}"]

        timeline = events(live)
        faults = [e for e in timeline if e["kind"] == "fault.injected" and e["data"]["fault"] == "chaos-gpu-xid-1"]
        assert len(faults) == 1
        assert faults[0]["actor"] == "alice"
        assert faults[0]["data"]["kind"] == "gpu_xid" and faults[0]["data"]["target"] == f"node/{node}"
        assert faults[0]["data"]["description"] == "chaos: GPU off the bus"
        assert faults[0]["data"]["params"]["xid"] == 79
        lines = [c["data"]["line"] for c in live.commands("alice")]
        assert [line.split(" id=")[0] for line in lines if line.startswith("fault ")] == [
            f"fault gpu_xid node/{node}", "fault traffic_surge deployment/ranker"]  # injections are commands
        assert [line for line in lines if not line.startswith("fault ")] == [f"mitigate delete_pod pod/{pod}"]
        assert runs["surge-once-paged"]["status"] == "succeeded", log  # waited in the background for its condition
        surge = next(e for e in timeline if e["kind"] == "fault.injected" and e["data"]["fault"] == "surge")
        gpu_alert = next(e for e in timeline if e["kind"] == "alert.firing" and e["data"]["alertname"] == "GPUXidError")
        assert faults[0]["t"] < gpu_alert["t"] <= surge["t"]
        assert not any(e["kind"] == "fault.injected" and e["data"]["target"] == f"node/{node}" and e is not faults[0]
                       for e in timeline)  # the refused one left nothing


def test_the_control_api_checks_faults_and_names_the_caller(tmp_path: Path) -> None:
    with LiveTwin(tmp_path) as live:
        _, node, gpu = chat_llm_gpu(live)
        status, body, _ = live.request("POST", "/tabletop/v1/faults", {"kind": "gpu_xd", "target": f"node/{node}"})
        assert status == 422 and body["kind"] == "Status" and body["reason"] == "Invalid"
        assert "kind: unknown kind 'gpu_xd' (did you mean 'gpu_xid'?)" in body["message"]
        assert body["details"]["causes"][0]["field"] == "kind"

        status, body, _ = live.request("POST", "/tabletop/v1/faults", {"kind": "gpu_xid", "target": "node/gpu-serve-99"})
        assert status == 422 and "target: there is no node 'gpu-serve-99'" in body["message"]
        status, body, _ = live.request("POST", "/tabletop/v1/faults", {"kind": "gpu_xid", "target": "deployment/chat-llm"})
        assert status == 422 and "a gpu_xid fault targets a node (node/NAME), not a deployment" in body["message"]
        status, body, _ = live.request("POST", "/tabletop/v1/faults", {"kind": "bad_rollout", "target": "deployment/chat-llm"})
        assert status == 422 and "parameters.new_version: bad_rollout needs 'new_version'" in body["message"]
        status, body, _ = live.request("POST", "/tabletop/v1/faults",
                                       {"kind": "node_not_ready", "target": f"node/{node}", "duration": "soon", "when": 3})
        assert status == 422
        assert "duration: 'soon' is not a duration" in body["message"] and "when: unknown field" in body["message"]
        status, body, _ = live.request("POST", "/tabletop/v1/faults", {"kind": "gpu_xid", "target": f"node/{node}"},
                                       headers={"Impersonate-User": "mallory"})
        assert status == 403 and "'mallory' is not a participant" in body["message"]

        status, body, _ = live.request("POST", "/tabletop/v1/faults", {
            "kind": "gpu_thermal", "target": f"node/{node}", "parameters": {"gpus": [gpu]}, "duration": "5m",
            "id": "hot-gpu"}, headers={"Impersonate-User": "facilitator"})
        assert status == 201, body
        assert body["id"] == "hot-gpu" and body["status"] == "active" and body["by"] == "facilitator"
        status, body, _ = live.request("POST", "/tabletop/v1/faults", {"kind": "gpu_thermal", "target": f"node/{node}", "id": "hot-gpu"})
        assert status == 422 and "id: the drill already has a fault 'hot-gpu'" in body["message"]
        status, body, _ = live.request("POST", "/tabletop/v1/faults", {"kind": "traffic_surge", "target": "deployment/ranker"})
        assert status == 201 and body["id"] == "chaos-traffic-surge-1" and body["by"] == "alice"

        status, listed, _ = live.request("GET", "/tabletop/v1/faults")
        assert [f["id"] for f in listed["items"]] == ["gpu-falls-off-bus", "node-hangs", "hot-gpu", "chaos-traffic-surge-1"]
        assert listed["items"][0]["status"] in ("scheduled", "active")
        status, one, _ = live.request("GET", "/tabletop/v1/faults/hot-gpu")
        assert status == 200 and one["kind"] == "gpu_thermal"
        assert live.request("GET", "/tabletop/v1/faults/nope")[0] == 404

        injected = [e for e in events(live) if e["kind"] == "fault.injected"]
        assert [(e["data"]["fault"], e["actor"]) for e in injected][-2:] == [("hot-gpu", "facilitator"), ("chaos-traffic-surge-1", "alice")]
        assert injected[-2]["data"]["params"]  # what the fault did, as for the scenario's own faults

    recorded = read_timeline(live.timeline)  # injections are commands, so a replay injects them again
    assert first_difference(recorded, replay_timeline(live.loaded, recorded)) is None


def test_the_control_api_reads_signals_and_mitigates(tmp_path: Path) -> None:
    with LiveTwin(tmp_path) as live:
        status, clock, _ = live.request("GET", "/tabletop/v1/clock")
        assert status == 200 and clock["scenario"] == "serving-gpu-node-failure" and clock["ended"] is False
        status, slos, _ = live.request("GET", "/tabletop/v1/slos")
        assert [s["id"] for s in slos["items"]] == ["chat-llm-availability", "chat-llm-latency"]
        assert slos["items"][0]["objective"] == 0.995 and 0 <= slos["items"][0]["good_ratio"] <= 1
        status, body, _ = live.request("GET", "/tabletop/v1/slos/nope")
        assert status == 404 and "SLOs: chat-llm-availability, chat-llm-latency" in body["message"]
        live.wait_for(lambda d: d.now > 60, what="a scrape")
        status, answer, _ = live.request("GET", "/tabletop/v1/query?query=" + "count(up)")
        assert status == 200 and answer["resultType"] == "vector" and float(answer["result"][0]["value"][1]) > 0
        status, answer, _ = live.request("POST", "/tabletop/v1/query", {"query": "1 + 1"})
        assert answer == {"resultType": "scalar", "result": [answer["result"][0], "2"]}
        status, body, _ = live.request("POST", "/tabletop/v1/query", {"query": "sum(("})
        assert status == 400 and "bad query" in body["message"]
        status, alerts, _ = live.request("GET", "/tabletop/v1/alerts?state=firing")
        assert status == 200 and isinstance(alerts["items"], list)
        assert live.request("GET", "/tabletop/v1/alerts?state=bogus")[0] == 400
        assert live.request("DELETE", "/tabletop/v1/slos")[0] == 405
        assert live.request("GET", "/tabletop/v1/nothing")[0] == 404

        status, body, _ = live.request("POST", "/tabletop/v1/mitigations", {"action": "scale", "target": "deployment/ranker",
                                                                            "parameters": {"replicas": 5}})
        assert status == 200 and body["commands"] == ["mitigate scale deployment/ranker replicas=5"], body
        status, body, _ = live.request("POST", "/tabletop/v1/mitigations", {"action": "scael", "target": "deployment/ranker"})
        assert status == 422 and "scael" in body["message"]
        status, body, _ = live.request("POST", "/tabletop/v1/mitigations", {"action": "rollback", "target": "deployment/nope"})
        assert status == 409 and "deployment/nope does not exist" in body["message"]
        status, body, _ = live.request("POST", "/tabletop/v1/mitigations", {"action": "delete_pod", "target": "pod/ranker-*"})
        assert status == 200 and body["commands"] == [] and body["message"].startswith("nothing to do")
        lines = [(c["data"]["line"], c["data"]["ok"]) for c in live.commands("alice")]
        assert lines == [("mitigate scale deployment/ranker replicas=5", True), ("mitigate rollback deployment/nope", False)]


def test_the_provider_says_where_the_drill_should_be(tmp_path: Path) -> None:
    code = ("import json\nfrom chaoslib.exceptions import ActivityFailed\nfrom tabletop.chaos.sim import probes\n"
            "out = []\n"
            "for config in (None, {'tabletop_url': 'ftp://x'}, {'tabletop_url': 'http://127.0.0.1:9'}):\n"
            "    try:\n        probes.drill_time(configuration=config)\n"
            "    except ActivityFailed as error:\n        out.append(str(error))\n"
            "print(json.dumps(out))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TABLETOP_")}
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert ran.returncode == 0, ran.stderr
    missing, scheme, refused = json.loads(ran.stdout)
    assert "TABLETOP_URL" in missing and "tabletop_url" in missing
    assert "http(s)://HOST:PORT" in scheme
    assert refused.startswith("cannot reach the drill at http://127.0.0.1:9")


def test_a_twin_with_a_token_needs_it_and_the_provider_sends_it(tmp_path: Path) -> None:
    from tests.twin.live import needs_openssl

    needs_openssl()
    with LiveTwin(tmp_path, token="s3cret") as live:
        assert live.twin is not None and live.twin.server.certificate is not None
        assert live.request("GET", "/tabletop/v1/clock", headers={"Authorization": "Bearer wrong"})[0] == 401
        ca = tmp_path / "ca.pem"
        ca.write_bytes(live.twin.server.certificate.pem)
        code = "from tabletop.chaos.sim import probes\nprint(probes.drill_time() >= 0, probes.alerts_firing() is not None)\n"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TABLETOP_")}
        env.update(TABLETOP_URL=live.twin.url, TABLETOP_TOKEN="s3cret", TABLETOP_CA_FILE=str(ca))
        ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
        assert ran.returncode == 0 and ran.stdout.split() == ["True", "True"], ran.stderr
        env["TABLETOP_TOKEN"] = "wrong"
        ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
        assert ran.returncode != 0 and "the drill refused (401): Unauthorized" in ran.stderr


def test_the_exported_scenario_runs_against_a_twin_of_it_without_its_faults(tmp_path: Path) -> None:
    """`tabletop chaos export` then `tabletop twin SCENARIO --without-faults`: the experiment
    injects the scenario's faults under their own ids, on the drill's clock, once each, and the
    timeline (its header says the faults were left out) replays byte for byte."""
    from tabletop.chaos.export import export_experiment
    from tabletop.scenario.loader import load_scenario
    from tests.twin.live import BUNDLED

    loaded = load_scenario(BUNDLED)
    experiment = export_experiment(loaded.scenario).experiment
    with LiveTwin(tmp_path, speed=120.0, without_faults=True) as live:
        journal, ran = chaos_run(tmp_path, live, experiment)
        log = ran.stdout + ran.stderr
        injections = [run for run in journal["run"] if run["activity"]["name"].startswith("inject-")]
        assert [run["status"] for run in injections] == ["succeeded"] * len(loaded.scenario.faults), log
        timeline = events(live)
    injected = [e for e in timeline if e["kind"] == "fault.injected"]
    assert sorted(e["data"]["fault"] for e in injected) == sorted(f.id for f in loaded.scenario.faults)
    for fault in loaded.scenario.faults:  # on the drill's clock, as the scenario places them
        at = next(e["t"] for e in injected if e["data"]["fault"] == fault.id)
        assert fault.when.at is not None and fault.when.at <= at < fault.when.at + 30
    header = json.loads(live.timeline.read_text().splitlines()[0])
    assert header["scenario"]["without_faults"] is True
    recorded = read_timeline(live.timeline)
    assert recorded.header.without_faults
    assert first_difference(recorded, replay_timeline(live.loaded, recorded)) is None
