"""Each fault kind's impact lasts exactly until what the fault catalog says ends it.

One small scenario per fault kind (``scenarios/<kind>.yaml``, the root fault at 5m) is run
through the real command line (``tabletop run --headless``), with seeds 1 and 2:

* with ``responders/bystander.yaml``, a responder who touches nothing: a fault that only a
  mitigation ends still hurts at the end of the drill (no ``fault.mitigated``, its alerts still
  firing, its SLO breach still open, its crash loop still looping), and a fault with a
  ``duration`` hurts until that duration is up and no longer (``fault.ended`` reason
  ``duration``);
* with ``responders/<kind>.fix.yaml`` (gpu_xid's is written per run: it deletes the very pod
  the bystander run showed crash-looping), which applies the scenario's ground-truth fixes:
  ``fault.mitigated`` comes after the fix and the impact stops.

Only the timeline is read: the facts a facilitator, the score and the postmortem have.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tabletop.cli import main
from tabletop.scenario.loader import load_scenario
from tabletop.sim.deployment import CUDA_INIT_TIME
from tabletop.sim.node import EVICTION_TOLERATION, NODE_MONITOR_GRACE

HERE = Path(__file__).parent
SCENARIOS = HERE / "scenarios"
RESPONDERS = HERE / "responders"
SEEDS = (1, 2)
KINDS = (
    "gpu_xid", "hbm_ecc", "gpu_thermal", "node_not_ready", "memory_leak", "bad_rollout",
    "feature_drift", "feature_store_outage", "traffic_surge", "nccl_hang", "checkpoint_storage_full",
)
MIN = 60.0
INJECTED_AT = 5 * MIN
DRILL_END = 90 * MIN
BACKOFF_CAP = 300.0
"""The kubelet's CrashLoopBackOff: 10 s, doubling, capped at 5 minutes."""
BACKOFF_MESSAGE = re.compile(r"\((?P<reason>[A-Za-z]+), restart (?P<restart>\d+), next try in (?P<delay>\d+)s\)")
TOLERANCE = 1.0
"""Seconds: timeline times are rounded to the millisecond, traffic moves at scrape steps."""


def expected_backoffs(count: int) -> list[float]:
    return [min(10.0 * 2**i, BACKOFF_CAP) for i in range(count)]


# --- running drills ---------------------------------------------------------------------------


@dataclass
class Run:
    kind: str
    seed: int
    events: list[dict[str, Any]]

    def of(self, kind: str, **data: Any) -> list[dict[str, Any]]:
        return [e for e in self.events if e["kind"] == kind and all(e["data"].get(k) == v for k, v in data.items())]

    def one(self, kind: str, **data: Any) -> dict[str, Any]:
        found = self.of(kind, **data)
        assert len(found) == 1, f"expected one {kind} {data or ''}, got {len(found)}: {found}"
        return found[0]

    def fleet(self, reason: str, prefix: str = "") -> list[dict[str, Any]]:
        return [e for e in self.of("fleet.event", reason=reason) if e["data"]["object"].startswith(prefix)]

    @property
    def end(self) -> float:
        return self.one("drill.ended")["t"]

    @property
    def root(self) -> str:
        return self.one("fault.injected")["data"]["fault"]

    def mitigated(self) -> list[dict[str, Any]]:
        return self.of("fault.mitigated", fault=self.root)

    def ended(self) -> list[dict[str, Any]]:
        return self.of("fault.ended", fault=self.root)

    def commands(self, prefix: str) -> list[dict[str, Any]]:
        return [e for e in self.of("command") if e["data"]["line"].startswith(prefix)]

    # alerts ------------------------------------------------------------------------------------
    def alert_history(self, alertname: str) -> dict[tuple[tuple[str, str], ...], list[tuple[float, str]]]:
        """Per label set of the alert: its (time, state) transitions."""
        history: dict[tuple[tuple[str, str], ...], list[tuple[float, str]]] = defaultdict(list)
        for event in self.events:
            if event["kind"].startswith("alert.") and event["data"]["alertname"] == alertname:
                history[tuple(sorted(event["data"]["labels"].items()))].append((event["t"], event["kind"][6:]))
        return history

    def firing_at_end(self, alertname: str) -> bool:
        """Some instance of the alert fires at the end of the drill."""
        return any(states[-1][1] == "firing" for states in self.alert_history(alertname).values())

    def fired(self, alertname: str) -> list[float]:
        return sorted(t for states in self.alert_history(alertname).values() for t, state in states if state == "firing")

    def resolved(self, alertname: str) -> list[float]:
        """Times instances of the alert stopped firing."""
        return sorted(t for states in self.alert_history(alertname).values()
                      for (t, state), (_, before) in zip(states[1:], states) if state == "resolved" and before == "firing")

    # SLOs --------------------------------------------------------------------------------------
    def breaches(self) -> list[tuple[str, float, float | None]]:
        """(slo, start, end or None while still open at the end of the drill)."""
        found: list[tuple[str, float, float | None]] = []
        open_since: dict[str, float] = {}
        for event in self.events:
            if event["kind"] == "slo.breach_start":
                open_since[event["data"]["slo"]] = event["t"]
            elif event["kind"] == "slo.breach_end":
                slo = event["data"]["slo"]
                found.append((slo, open_since.pop(slo), event["t"]))
        found += [(slo, start, None) for slo, start in open_since.items()]
        return sorted(found, key=lambda b: b[1])


_CACHE: dict[tuple[str, int, str], Run] = {}


def run_drill(tmp: Path, kind: str, seed: int, script: Path) -> Run:
    key = (kind, seed, script.read_text())
    if key not in _CACHE:
        out = tmp / f"{kind}-{script.stem}-seed{seed}"
        result = CliRunner().invoke(main, [
            "run", str(SCENARIOS / f"{kind}.yaml"), "--headless", "--responder", str(script),
            "--seed", str(seed), "--out", str(out),
        ])
        assert result.exit_code == 0, result.output + repr(result.exception)
        lines = (out / "timeline.jsonl").read_text().splitlines()
        header = json.loads(lines[0])
        assert header["seed"] == seed and header["scenario"]["id"] == f"kind-{kind.replace('_', '-')}"
        _CACHE[key] = Run(kind, seed, [json.loads(line) for line in lines[1:]])
    return _CACHE[key]


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("drills")


def idle(tmp: Path, kind: str, seed: int) -> Run:
    return run_drill(tmp, kind, seed, RESPONDERS / "bystander.yaml")


def fixed(tmp: Path, kind: str, seed: int) -> Run:
    if kind == "gpu_xid":
        return run_drill(tmp, kind, seed, gpu_xid_fix(tmp, seed))
    return run_drill(tmp, kind, seed, RESPONDERS / f"{kind}.fix.yaml")


def gpu_xid_fix(tmp: Path, seed: int) -> Path:
    """Cordon the node and delete the pod that the bystander run (same seed) shows crash-looping."""
    looping = {e["data"]["object"] for e in idle(tmp, "gpu_xid", seed).fleet("BackOff", "pod/chat-llm-")}
    assert len(looping) == 1, looping
    script = tmp / f"gpu_xid.fix.seed{seed}.yaml"
    script.write_text(
        "apiVersion: tabletop/v1\nkind: ResponderScript\nname: gpu-xid-fix\n"
        "description: Cordon the node, then delete the crash-looping replica so it is recreated elsewhere.\n"
        "commands:\n"
        "  - {at: 20m, as: alice, run: \"mitigate cordon node/gpu-serve-1\"}\n"
        f"  - {{at: 20m, as: alice, run: \"mitigate delete_pod {looping.pop()}\"}}\n"
    )
    return script


def spec(kind: str) -> Any:
    return load_scenario(SCENARIOS / f"{kind}.yaml").scenario


# --- the scenarios themselves -------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_scenario_validates_without_problems(kind: str) -> None:
    files = [SCENARIOS / f"{kind}.yaml", RESPONDERS / "bystander.yaml"]
    if kind != "gpu_xid":
        files.append(RESPONDERS / f"{kind}.fix.yaml")
    result = CliRunner().invoke(main, ["validate", *map(str, files)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if "warning:" in line]
    assert len(warnings) <= 1 and all("the scenario has no runbook" in w for w in warnings), result.output  # written from the docs alone
    scenario = spec(kind)
    assert scenario.metadata.id == f"kind-{kind.replace('_', '-')}"
    assert scenario.metadata.duration == DRILL_END
    [fault] = scenario.faults
    assert fault.kind == kind and fault.when.at == INJECTED_AT
    assert scenario.ground_truth.root_cause.fault == fault.id
    assert not scenario.runbooks


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", KINDS)
def test_the_root_fault_is_injected_at_5m_and_pages(tmp: Path, kind: str, seed: int) -> None:
    run = idle(tmp, kind, seed)
    injected = run.one("fault.injected")
    assert injected["t"] == INJECTED_AT and injected["data"]["kind"] == kind
    assert run.end == DRILL_END
    assert run.of("page.triggered"), "the fault should page someone"
    assert all(e["t"] >= INJECTED_AT for e in run.of("alert.firing")), "nothing fires before the fault"
    assert all(start >= INJECTED_AT for _, start, _ in run.breaches())


# --- without a mitigation ----------------------------------------------------------------------


def assert_crash_loops_until_the_end(run: Run, pod_prefix: str, reason: str, runs_for: float, since: float) -> None:
    """Every pod whose container keeps dying is restarted with back-offs 10 s, 20 s, 40 s, ...
    capped at 300 s, each container dies ``runs_for`` seconds after it starts, and the next
    death would come only after the end of the drill."""
    crashes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in run.of("fleet.event"):
        if event["data"]["object"].startswith(pod_prefix) and event["data"]["reason"] in ("BackOff", "OOMKilled"):
            crashes[event["data"]["object"]].append(event)
    assert crashes, f"no crash of {pod_prefix}*"
    for pod, events in crashes.items():
        parsed = [BACKOFF_MESSAGE.search(e["data"]["message"]) for e in events]
        assert all(parsed), [e["data"]["message"] for e in events]
        assert {m["reason"] for m in parsed} == {reason}, f"{pod}: {[m['reason'] for m in parsed]}"
        assert [int(m["restart"]) for m in parsed] == list(range(1, len(events) + 1)), pod
        delays = [float(m["delay"]) for m in parsed]
        times = [e["t"] for e in events]
        assert len(events) >= 7, f"{pod} crashed only at {[round(t / MIN, 2) for t in times]} min (delays {delays})"
        assert delays == expected_backoffs(len(events)), f"{pod}: back-off delays {delays}"
        assert times[0] == pytest.approx(since, abs=TOLERANCE + CUDA_INIT_TIME), pod
        for before, after, delay in zip(times, times[1:], delays):
            assert after - before == pytest.approx(delay + runs_for, abs=TOLERANCE), (
                f"{pod}: restarted {delay:.0f}s after the crash at {before / MIN:.2f} min, "
                f"crashed again {after - before - delay:.0f}s later, expected {runs_for:.0f}s")
        assert run.end - times[-1] < delays[-1] + runs_for, (
            f"{pod}: last crash at {times[-1] / MIN:.2f} min, but it restarts {delays[-1]:.0f}s later and would "
            f"crash again {runs_for:.0f}s after that, before the end at {run.end / MIN:.0f} min")


def assert_lasts_to_the_end(run: Run, *alerts: str) -> None:
    """A fault that only a mitigation ends: nothing says its impact is over."""
    assert not run.mitigated(), run.mitigated()
    assert not run.ended(), run.ended()
    for alert in alerts:
        assert run.firing_at_end(alert), f"{alert} should still fire at the end: {run.alert_history(alert)}"


def assert_breach_open_at_end(run: Run) -> None:
    breaches = run.breaches()
    assert breaches, "the fault should breach the SLO"
    assert any(end is None for _, _, end in breaches), f"SLO breach should still be open at the end: {breaches}"


def assert_ends_at_its_duration(run: Run, duration: float, impact_until_then: bool = False) -> float:
    """A fault with a ``duration`` ends exactly then, its impact over by then at the latest
    (one ``fault.mitigated``); with ``impact_until_then`` nothing ended the impact earlier."""
    ends_at = INJECTED_AT + duration
    [ended] = run.ended()
    assert ended["data"]["reason"] == "duration" and ended["t"] == pytest.approx(ends_at, abs=0.01), ended
    [mitigated] = run.mitigated()
    assert mitigated["t"] <= ended["t"], mitigated
    if impact_until_then:
        assert mitigated["t"] == ended["t"] and mitigated["data"]["command"] is None, mitigated
    return ends_at


def assert_impact_until(run: Run, ends_at: float, *alerts: str, breach: bool = True) -> None:
    """The impact (alerts firing, an SLO breach) starts after the injection, lasts through
    ``ends_at`` and stops after it."""
    for alert in alerts:
        fired = run.fired(alert)
        assert fired and fired[0] < ends_at, f"{alert} should fire before {ends_at / MIN:.0f} min: {fired}"
        resolved = run.resolved(alert)
        assert resolved and min(resolved) >= ends_at, (
            f"{alert} stopped firing at {[round(t / MIN, 2) for t in resolved]} min, before the fault ended "
            f"at {ends_at / MIN:.0f} min")
        assert not run.firing_at_end(alert), f"{alert} still fires at the end, long after the fault ended"
    if breach:
        breaches = run.breaches()
        assert breaches, "the fault should breach the SLO"
        for slo, start, end in breaches:
            assert start < ends_at, f"{slo} breach starting at {start / MIN:.2f} min, after the fault ended"
            assert end is not None and end >= ends_at, (
                f"{slo} breach ended at {end and end / MIN:.2f} min, before the fault ended at {ends_at / MIN:.0f} min")


@pytest.mark.parametrize("seed", SEEDS)
def test_gpu_xid_lost_gpu_crash_loops_until_the_pod_is_moved(tmp: Path, seed: int) -> None:
    """Xid 79 loses the GPU: the replica holding it crash-loops in place for the rest of the drill."""
    run = idle(tmp, "gpu_xid", seed)
    assert_lasts_to_the_end(run, "ChatLLMErrorBudgetBurn", "GPUXidError", "KubePodCrashLooping")
    assert_breach_open_at_end(run)
    assert_crash_loops_until_the_end(run, "pod/chat-llm-", "Error", CUDA_INIT_TIME, INJECTED_AT)


@pytest.mark.parametrize("seed", SEEDS)
def test_hbm_ecc_hurts_from_the_double_bit_error_to_the_end(tmp: Path, seed: int) -> None:
    """Correctable errors hurt nobody; the double-bit error at dbe_after kills the replica, which
    then crash-loops on the lost GPU until the end."""
    run = idle(tmp, "hbm_ecc", seed)
    [fault] = spec("hbm_ecc").faults
    dbe_at = INJECTED_AT + fault.dbe_after
    assert_lasts_to_the_end(run, "ChatLLMErrorBudgetBurn")
    assert run.fired("GPUECCSingleBitErrorsRising")[0] < dbe_at, "the SBEs are the warning before the DBE"
    assert_breach_open_at_end(run)
    assert all(start >= dbe_at for _, start, _ in run.breaches()), run.breaches()
    assert_crash_loops_until_the_end(run, "pod/chat-llm-", "Error", CUDA_INIT_TIME, dbe_at)


@pytest.mark.parametrize("seed", SEEDS)
def test_hbm_ecc_double_bit_error_shows_in_dcgm(tmp: Path, seed: int) -> None:
    run = idle(tmp, "hbm_ecc", seed)
    [fault] = spec("hbm_ecc").faults
    fired = run.fired("GPUECCDoubleBitError")
    assert fired and fired[0] >= INJECTED_AT + fault.dbe_after
    assert run.firing_at_end("GPUECCDoubleBitError")


@pytest.mark.parametrize("seed", SEEDS)
def test_gpu_thermal_hurts_until_its_duration(tmp: Path, seed: int) -> None:
    run = idle(tmp, "gpu_thermal", seed)
    [fault] = spec("gpu_thermal").faults
    ends_at = assert_ends_at_its_duration(run, fault.duration, impact_until_then=True)
    assert_impact_until(run, ends_at, "GPUTemperatureHigh", "ChatLLMErrorBudgetBurn")


@pytest.mark.parametrize("seed", SEEDS)
def test_node_not_ready_impact_ends_at_the_eviction_and_the_fault_at_its_duration(tmp: Path, seed: int) -> None:
    """The hung node's replica is lost until the taint manager evicts it (40 s + 5 min); the node
    itself stays NotReady until the fault's duration is up."""
    run = idle(tmp, "node_not_ready", seed)
    [fault] = spec("node_not_ready").faults
    evicted_at = INJECTED_AT + NODE_MONITOR_GRACE + EVICTION_TOLERATION
    [mitigated] = run.mitigated()
    assert mitigated["t"] == pytest.approx(evicted_at, abs=0.01) and mitigated["data"]["command"] is None
    [eviction] = run.fleet("TaintManagerEviction")
    assert eviction["t"] == pytest.approx(evicted_at, abs=0.01)
    assert run.one("fleet.event", reason="NodeNotReady")["t"] == pytest.approx(INJECTED_AT + NODE_MONITOR_GRACE, abs=0.01)
    ends_at = assert_ends_at_its_duration(run, fault.duration)
    assert run.one("fleet.event", reason="NodeReady")["t"] == pytest.approx(ends_at, abs=0.01)
    assert_impact_until(run, ends_at, "KubeNodeNotReady", breach=False)
    [(_, start, end)] = run.breaches()
    assert start < evicted_at < end, "the replica is missing until its replacement has loaded"


@pytest.mark.parametrize("seed", SEEDS)
def test_memory_leak_re_ooms_after_every_restart_until_the_end(tmp: Path, seed: int) -> None:
    """The key check of the issue: every restarted container leaks again and is OOMKilled again,
    with the kubelet's back-off growing 10 s, 20 s, 40 s, ... capped at 5 min, until the end."""
    run = idle(tmp, "memory_leak", seed)
    scenario = spec("memory_leak")
    [fault] = scenario.faults
    [ranker] = scenario.fleet.deployments
    time_to_oom = (ranker.memory_limit - ranker.memory_working_set) / (fault.rate_per_hour / 3600)
    assert_crash_loops_until_the_end(run, "pod/ranker-", "OOMKilled", time_to_oom, INJECTED_AT + time_to_oom)
    assert len({e["data"]["object"] for e in run.fleet("OOMKilled")}) == ranker.replicas
    assert_lasts_to_the_end(run, "RankerErrorBudgetBurn", "KubePodCrashLooping")
    assert_breach_open_at_end(run)


@pytest.mark.parametrize("seed", SEEDS)
def test_bad_rollout_hurts_until_the_end(tmp: Path, seed: int) -> None:
    run = idle(tmp, "bad_rollout", seed)
    assert_lasts_to_the_end(run, "ChatLLMErrorBudgetBurn", "ChatLLMLatencyHigh")
    assert_breach_open_at_end(run)
    [rollout] = run.fleet("ScalingReplicaSet")
    assert rollout["t"] == INJECTED_AT and "v2026.03.17" in rollout["data"]["message"]
    new_hash = rollout["data"]["message"].split()[2].removeprefix("chat-llm-")
    ready = {e["data"]["object"] for e in run.fleet("Ready", f"pod/chat-llm-{new_hash}-")}
    assert len(ready) == spec("bad_rollout").fleet.deployments[0].replicas, "the rollout completes"


@pytest.mark.parametrize("seed", SEEDS)
def test_feature_drift_hurts_until_its_duration(tmp: Path, seed: int) -> None:
    run = idle(tmp, "feature_drift", seed)
    [fault] = spec("feature_drift").faults
    ends_at = assert_ends_at_its_duration(run, fault.duration, impact_until_then=True)
    assert_impact_until(run, ends_at, "RankerAccuracyLow", "FeatureDriftHigh", breach=False)
    assert not run.breaches(), "drift costs accuracy, not availability"


@pytest.mark.parametrize("seed", SEEDS)
def test_feature_store_outage_hurts_until_its_duration(tmp: Path, seed: int) -> None:
    run = idle(tmp, "feature_store_outage", seed)
    [fault] = spec("feature_store_outage").faults
    ends_at = assert_ends_at_its_duration(run, fault.duration, impact_until_then=True)
    assert_impact_until(run, ends_at, "RankerErrorBudgetBurn", "FeatureStoreReadErrors")


@pytest.mark.parametrize("seed", SEEDS)
def test_traffic_surge_hurts_until_its_duration(tmp: Path, seed: int) -> None:
    run = idle(tmp, "traffic_surge", seed)
    [fault] = spec("traffic_surge").faults
    ends_at = assert_ends_at_its_duration(run, fault.duration, impact_until_then=True)
    assert_impact_until(run, ends_at, "ChatLLMErrorBudgetBurn", "ChatLLMLatencyHigh")


@pytest.mark.parametrize("seed", SEEDS)
def test_nccl_hang_without_watchdog_stalls_until_the_end(tmp: Path, seed: int) -> None:
    run = idle(tmp, "nccl_hang", seed)
    scenario = spec("nccl_hang")
    [job] = scenario.fleet.training_jobs
    assert_lasts_to_the_end(run, "TrainerProgressStalled")
    assert not run.fleet("TrainingJobRestarting"), "nothing restarts a hang without the watchdog"
    gpus = job.gang_size * scenario.fleet.node_pools[0].gpus_per_node
    lost = run.one("drill.ended")["data"]["gpu_hours_lost"]
    assert lost == pytest.approx(gpus * (DRILL_END - INJECTED_AT) / 3600, rel=0.01), "every GPU idles from the hang on"


@pytest.mark.parametrize("seed", SEEDS)
def test_checkpoint_storage_full_fails_every_checkpoint_until_the_end(tmp: Path, seed: int) -> None:
    run = idle(tmp, "checkpoint_storage_full", seed)
    [job] = spec("checkpoint_storage_full").fleet.training_jobs
    assert_lasts_to_the_end(run, "KubePersistentVolumeFillingUp", "TrainerCheckpointFailing")
    failures = [e["t"] for e in run.fleet("CheckpointFailed")]
    assert len(failures) >= 3 and failures[0] > INJECTED_AT, failures
    period = job.checkpoint_interval + job.checkpoint_write_time
    assert all(b - a == pytest.approx(period, abs=TOLERANCE) for a, b in zip(failures, failures[1:])), failures
    assert run.end - failures[-1] < period, "the next checkpoint would fail too, after the end"


# --- with the ground-truth fixes ----------------------------------------------------------------


def assert_mitigated_by(run: Run, command_prefix: str, *, credited: bool = True) -> dict[str, Any]:
    """``fault.mitigated`` for the root fault, at or after the fix command (credited to it when
    the impact ended at once)."""
    [command] = run.commands(command_prefix)
    assert command["data"]["ok"], command
    [mitigated] = run.mitigated()
    assert mitigated["t"] >= command["t"]
    if credited:
        assert mitigated["t"] == command["t"] and mitigated["data"]["command"] == command["seq"], mitigated
    return mitigated


def assert_impact_stops(run: Run, after: float, *alerts: str, breach: bool = True) -> None:
    """From ``after`` on: no SLO breach starts, every breach has ended by the end, and the
    alerts no longer fire (none fires again)."""
    for slo, start, end in run.breaches():
        assert start < after, f"{slo} breach starting at {start / MIN:.2f} min, after the impact stopped"
        assert end is not None, f"{slo} breach still open at the end"
    if breach:
        assert run.breaches(), "the fault should have breached the SLO before the fix"
    for alert in alerts:
        assert not run.firing_at_end(alert), f"{alert} still fires at the end: {run.alert_history(alert)}"
        assert all(t <= after for t in run.fired(alert)), f"{alert} fires again after {after / MIN:.2f} min"


def last_ready(run: Run, prefix: str, since: float) -> float:
    times = [e["t"] for e in run.fleet("Ready", prefix) if e["t"] >= since]
    assert times, f"no {prefix}* became Ready after {since / MIN:.2f} min"
    return max(times)


@pytest.mark.parametrize("seed", SEEDS)
def test_gpu_xid_ends_when_the_crash_looping_pod_is_deleted(tmp: Path, seed: int) -> None:
    run = fixed(tmp, "gpu_xid", seed)
    mitigated = assert_mitigated_by(run, "mitigate delete_pod")
    pod = run.commands("mitigate delete_pod")[0]["data"]["args"]["target"]
    assert not [e for e in run.fleet("BackOff") if e["t"] > mitigated["t"]], "no crash after the pod is gone"
    assert not run.ended(), "the GPU stays lost until the node is rebooted"
    assert run.firing_at_end("GPUXidError")
    replacement = [e for e in run.fleet("Scheduled", "pod/chat-llm-") if e["t"] >= mitigated["t"]]
    assert [e["data"]["message"].split()[-1] for e in replacement] == ["gpu-serve-4"], "onto the spare node"
    assert replacement[0]["data"]["object"] != pod
    assert_impact_stops(run, last_ready(run, "pod/chat-llm-", mitigated["t"]), "ChatLLMErrorBudgetBurn")


@pytest.mark.parametrize("seed", SEEDS)
def test_hbm_ecc_drained_before_the_double_bit_error_has_no_impact(tmp: Path, seed: int) -> None:
    run = fixed(tmp, "hbm_ecc", seed)
    assert_mitigated_by(run, "mitigate drain")
    assert not run.ended(), "the HBM is still failing; only a reboot resets it"
    assert not run.fleet("BackOff"), "the double-bit error hits a GPU without workload"
    assert not run.breaches(), run.breaches()
    assert not run.fired("ChatLLMErrorBudgetBurn")
    assert run.one("drill.ended")["data"]["failed_requests"]["chat-llm"] == 0


@pytest.mark.parametrize("seed", SEEDS)
def test_gpu_thermal_impact_ends_with_the_drain(tmp: Path, seed: int) -> None:
    run = fixed(tmp, "gpu_thermal", seed)
    [fault] = spec("gpu_thermal").faults
    mitigated = assert_mitigated_by(run, "mitigate drain")
    assert_ends_at_its_duration(run, fault.duration)
    assert mitigated["t"] < INJECTED_AT + fault.duration
    assert_impact_stops(run, mitigated["t"] + 0.5 * MIN, "ChatLLMErrorBudgetBurn")
    for _, _, end in run.breaches():
        assert end < INJECTED_AT + fault.duration, "the breach ends long before the cooling is back"


@pytest.mark.parametrize("seed", SEEDS)
def test_node_not_ready_drained_early_ends_its_impact_before_the_eviction(tmp: Path, seed: int) -> None:
    run = fixed(tmp, "node_not_ready", seed)
    [fault] = spec("node_not_ready").faults
    mitigated = assert_mitigated_by(run, "mitigate drain")
    assert mitigated["t"] < INJECTED_AT + NODE_MONITOR_GRACE + EVICTION_TOLERATION
    assert not run.fleet("TaintManagerEviction"), "nothing left to evict"
    assert_ends_at_its_duration(run, fault.duration)
    assert_impact_stops(run, last_ready(run, "pod/chat-llm-", mitigated["t"]), "ChatLLMErrorBudgetBurn")
    [(_, _, end)] = run.breaches()
    [(_, _, idle_end)] = idle(tmp, "node_not_ready", seed).breaches()
    assert end < idle_end, "draining early shortens the breach"


@pytest.mark.parametrize("seed", SEEDS)
def test_memory_leak_stops_ooming_after_the_rollback(tmp: Path, seed: int) -> None:
    run = fixed(tmp, "memory_leak", seed)
    mitigated = assert_mitigated_by(run, "mitigate rollback", credited=False)
    [ended] = run.ended()
    assert ended["data"]["reason"] == "mitigation" and ended["t"] == mitigated["t"]
    assert run.fleet("OOMKilled"), "it leaked before the rollback"
    assert not [e for e in run.fleet("OOMKilled") if e["t"] >= mitigated["t"]], "no OOMKilled once v118 is gone"
    assert_impact_stops(run, last_ready(run, "pod/ranker-", mitigated["t"]), "RankerErrorBudgetBurn")


@pytest.mark.parametrize("seed", SEEDS)
def test_bad_rollout_ends_when_the_rollback_replaced_every_pod(tmp: Path, seed: int) -> None:
    run = fixed(tmp, "bad_rollout", seed)
    mitigated = assert_mitigated_by(run, "mitigate rollback", credited=False)
    [ended] = run.ended()
    assert ended["data"]["reason"] == "mitigation" and ended["t"] == mitigated["t"]
    assert_impact_stops(run, last_ready(run, "pod/chat-llm-", mitigated["t"]), "ChatLLMErrorBudgetBurn",
                        "ChatLLMLatencyHigh")


@pytest.mark.parametrize("seed", SEEDS)
def test_feature_drift_impact_ends_when_features_are_pinned(tmp: Path, seed: int) -> None:
    run = fixed(tmp, "feature_drift", seed)
    [fault] = spec("feature_drift").faults
    mitigated = assert_mitigated_by(run, "mitigate pin_features")
    assert run.fired("RankerAccuracyLow")[0] < mitigated["t"], "the drift hurt before the pin"
    assert_ends_at_its_duration(run, fault.duration)
    assert_impact_stops(run, mitigated["t"], "RankerAccuracyLow", "FeatureDriftHigh", breach=False)
    assert min(run.resolved("RankerAccuracyLow")) < INJECTED_AT + fault.duration


@pytest.mark.parametrize("seed", SEEDS)
def test_feature_store_outage_ends_with_the_failover(tmp: Path, seed: int) -> None:
    run = fixed(tmp, "feature_store_outage", seed)
    [fault] = spec("feature_store_outage").faults
    [store] = spec("feature_store_outage").fleet.feature_stores
    [command] = run.commands("mitigate failover")
    mitigated = assert_mitigated_by(run, "mitigate failover", credited=False)
    assert mitigated["t"] == pytest.approx(command["t"] + store.failover_time, abs=0.01), "reads fail while promoting"
    [ended] = run.ended()
    assert ended["t"] == mitigated["t"] and ended["data"]["reason"] != "duration"
    assert_impact_stops(run, mitigated["t"], "RankerErrorBudgetBurn", "FeatureStoreReadErrors")
    for _, _, end in run.breaches():
        assert end < INJECTED_AT + fault.duration


@pytest.mark.parametrize("seed", SEEDS)
def test_traffic_surge_scaled_out_stops_hurting_but_ends_only_at_its_duration(tmp: Path, seed: int) -> None:
    """The catalog: a surge ends by itself after its duration; scaling out only limits the
    damage meanwhile. So the impact on users stops once the new replicas serve, yet the fault
    is recorded as mitigated only when it ends, at its duration."""
    run = fixed(tmp, "traffic_surge", seed)
    [fault] = spec("traffic_surge").faults
    [command] = run.commands("mitigate scale")
    ends_at = assert_ends_at_its_duration(run, fault.duration, impact_until_then=True)
    serving = last_ready(run, "pod/chat-llm-", command["t"])
    assert_impact_stops(run, serving, "ChatLLMErrorBudgetBurn", "ChatLLMLatencyHigh")
    for _, _, end in run.breaches():
        assert serving < end < ends_at


@pytest.mark.parametrize("seed", SEEDS)
def test_nccl_hang_ends_with_the_restart_without_the_hung_node(tmp: Path, seed: int) -> None:
    run = fixed(tmp, "nccl_hang", seed)
    mitigated = assert_mitigated_by(run, "mitigate restart_training")
    [ended] = run.ended()
    assert ended["t"] == mitigated["t"] and ended["data"]["reason"] == "restart"
    [restarting] = run.fleet("TrainingJobRestarting")
    assert restarting["t"] == mitigated["t"]
    [running] = run.fleet("TrainingJobRunning")
    assert running["t"] > mitigated["t"]
    assert not [e for e in run.fleet("Scheduled", "pod/llm-pretrain-worker-")
                if e["t"] >= mitigated["t"] and e["data"]["message"].endswith(" gpu-train-3")]
    assert_impact_stops(run, running["t"] + 0.5 * MIN, "TrainerProgressStalled", breach=False)
    lost = run.one("drill.ended")["data"]["gpu_hours_lost"]
    assert lost < idle(tmp, "nccl_hang", seed).one("drill.ended")["data"]["gpu_hours_lost"]


@pytest.mark.parametrize("seed", SEEDS)
def test_checkpoint_storage_full_ends_when_space_is_freed(tmp: Path, seed: int) -> None:
    run = fixed(tmp, "checkpoint_storage_full", seed)
    mitigated = assert_mitigated_by(run, "mitigate free_checkpoint_space")
    [ended] = run.ended()
    assert ended["t"] == mitigated["t"] and ended["data"]["reason"] == "mitigation"
    assert run.fleet("CheckpointFailed") and not [e for e in run.fleet("CheckpointFailed") if e["t"] > mitigated["t"]]
    assert min(run.resolved("KubePersistentVolumeFillingUp")) == pytest.approx(mitigated["t"], abs=0.5 * MIN)
    assert_impact_stops(run, mitigated["t"] + 30 * MIN, "KubePersistentVolumeFillingUp", "TrainerCheckpointFailing",
                        breach=False)
