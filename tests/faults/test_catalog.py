"""Every fault kind: its effect on the fleet, the traces it leaves, and how it ends."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from tabletop.faults.catalog import CATALOG
from tabletop.faults.injector import FaultInjector
from tabletop.scenario.faults import TARGET_KIND, Fault
from tabletop.sim import mitigations
from tabletop.sim.pod import PodState
from tests.sim.fleets import TRAINING, Harness, with_fleet

FAULT = TypeAdapter(Fault)


class Injected:
    def __init__(self, spec: dict[str, Any], harness: Harness | None = None) -> None:
        self.h = harness or Harness(with_fleet(**TRAINING))
        self.records: list[tuple[float, str, dict[str, Any]]] = []
        fault = FAULT.validate_python({"id": "f", "when": {"at": 0}, **spec})
        self.injector = FaultInjector(self.h.fleet, [fault], lambda kind, data: self.records.append((self.h.env.now, kind, data)))
        self.h.run(1)

    def kinds(self) -> list[str]:
        return [kind for _, kind, _ in self.records]

    def logs(self, pattern: str) -> list[str]:
        return [line.message for line in self.h.fleet.logs.search(pattern)]

    def mitigate(self, action: str, target: str, **params: Any) -> None:
        outcome = mitigations.apply(self.h.fleet, action, target, params)
        assert outcome.ok, outcome.message
        self.injector.last_command = (99, self.h.env.now)


def test_catalog_covers_every_fault_kind_of_the_format() -> None:
    assert set(CATALOG) == set(TARGET_KIND) == {
        "gpu_xid", "hbm_ecc", "gpu_thermal", "node_not_ready", "memory_leak", "bad_rollout", "rollout",
        "feature_drift", "feature_store_outage", "traffic_surge", "nccl_hang", "checkpoint_storage_full",
    }
    for kind, cls in CATALOG.items():
        assert "Ends" in (cls.__doc__ or ""), f"{kind} must say how it ends"


def test_gpu_xid_79_impact_ends_when_the_pod_leaves_and_the_fault_with_a_reboot() -> None:
    f = Injected({"kind": "gpu_xid", "target": "node/gpu-serve-2", "gpu": 5, "xid": 79})
    assert f.kinds() == ["fault.injected"]
    assert any("Xid (PCI:0000:ab:00): 79" in line and "fallen off the bus" in line for line in f.logs("Xid"))
    pod = f.h.fleet.nodes["gpu-serve-2"].gpus[5].pod
    f.h.run(60)
    assert pod.state is PodState.BACKOFF
    f.mitigate("delete_pod", pod.ref)
    f.h.run(1)
    assert f.kinds() == ["fault.injected", "fault.mitigated"]
    assert f.records[-1][2] == {"fault": "f", "command": 99}
    f.mitigate("reboot", "node/gpu-serve-2")
    f.h.run(600)
    assert f.kinds()[-1] == "fault.ended" and f.records[-1][2]["reason"] == "reboot"


def test_transient_xid_crashes_once_and_heals() -> None:
    f = Injected({"kind": "gpu_xid", "target": "node/gpu-serve-0", "gpu": 0, "xid": 13})
    pod = f.h.fleet.nodes["gpu-serve-0"].gpus[0].pod
    assert pod.restarts == 1
    f.h.run(10 + 6 * 60 + 5)
    assert pod.state is PodState.READY
    assert "fault.ended" in f.kinds()


def test_hbm_ecc_counts_sbe_then_dbe_kills_the_gpu() -> None:
    f = Injected({"kind": "hbm_ecc", "target": "node/gpu-serve-0", "gpu": 1, "sbe_per_hour": 3600, "dbe_after": "10m"})
    gpu = f.h.fleet.nodes["gpu-serve-0"].gpus[1]
    f.h.run(300)
    assert gpu.sbe_count(f.h.env.now) == pytest.approx(301, abs=1)
    assert not gpu.lost
    f.h.run(301)
    assert gpu.lost and gpu.ecc_dbe_total == 1 and gpu.last_xid == 48


def test_thermal_throttling_slows_the_gpus_until_its_duration_ends() -> None:
    f = Injected({"kind": "gpu_thermal", "target": "node/gpu-train-0", "duration": "20m"})
    gpus = f.h.fleet.nodes["gpu-train-0"].gpus
    assert all(g.speed == 0.55 and g.throttled_temp_c == 92 for g in gpus)
    job = f.h.fleet.jobs["llm-pretrain"]
    assert job.speed() == 0.55  # the whole gang runs at its slowest GPU
    f.h.run(20 * 60)
    assert all(g.speed == 1.0 for g in gpus)
    assert f.kinds()[-1] == "fault.ended" and f.records[-1][2]["reason"] == "duration"


def test_node_not_ready_impact_ends_when_its_pods_are_gone() -> None:
    f = Injected({"kind": "node_not_ready", "target": "node/gpu-serve-2", "duration": "1h"})
    assert f.logs("soft lockup")
    f.mitigate("drain", "node/gpu-serve-2")
    f.h.run(1)
    assert "fault.mitigated" in f.kinds()
    f.h.run(3600)
    assert f.kinds()[-1] == "fault.ended"


def test_memory_leak_oom_kills_until_rolled_back() -> None:
    f = Injected({"kind": "memory_leak", "target": "deployment/chat-llm", "rate_per_hour": "56Gi"})
    chat = f.h.fleet.deployments["chat-llm"]
    f.h.run(3600 + 5)  # headroom 96Gi - 40Gi at 56Gi/h: one hour
    assert all(p.last_terminated_reason == "OOMKilled" for p in chat.pods)
    assert f.logs("Memory cgroup out of memory")
    f.mitigate("rollback", "deployment/chat-llm")
    f.h.run(3 * 3600)
    assert "fault.mitigated" in f.kinds() and all(p.version == "v2026.02.24" for p in chat.pods)


def test_bad_rollout_regresses_latency_until_rollback() -> None:
    f = Injected({"kind": "bad_rollout", "target": "deployment/ranker", "new_version": "v119", "latency_factor": 3})
    ranker = f.h.fleet.deployments["ranker"]
    f.h.run(600)
    assert {p.version for p in ranker.pods} == {"v119"}
    slow = f.h.step_traffic()["ranker"].pods[0].latency.median
    f.mitigate("rollback", "deployment/ranker")
    f.h.run(600)
    assert "fault.mitigated" in f.kinds()
    assert f.h.step_traffic()["ranker"].pods[0].latency.median < slow / 2


def test_a_rollout_replaces_every_pod_serves_as_before_and_completes() -> None:
    f = Injected({"kind": "rollout", "target": "deployment/ranker", "new_version": "v119"})
    ranker = f.h.fleet.deployments["ranker"]
    untouched = Harness(with_fleet(**TRAINING))
    f.h.run(1200)
    untouched.run(1200)
    assert {p.version for p in ranker.pods if p.alive} == {"v119"} and ranker.version == "v119"
    assert f.h.step_traffic()["ranker"].pods[0].latency.median == pytest.approx(
        untouched.step_traffic()["ranker"].pods[0].latency.median, rel=1e-6)
    assert "fault.mitigated" not in f.kinds()  # it harmed nothing, so nothing mitigated it
    assert f.records[-1][1:] == ("fault.ended", {"fault": "f", "reason": "completed"})


def test_rolling_back_a_rollout_ends_it_as_mitigated_by_the_rollback() -> None:
    f = Injected({"kind": "rollout", "target": "deployment/ranker", "new_version": "v119"})
    f.h.run(120)
    f.mitigate("rollback", "deployment/ranker")
    f.h.run(1200)
    assert f.records[-1][1:] == ("fault.ended", {"fault": "f", "reason": "mitigation"})


def test_traffic_surge_ramps_and_ends() -> None:
    f = Injected({"kind": "traffic_surge", "target": "deployment/ranker", "factor": 2, "ramp": "10m", "duration": "30m"})
    ranker = f.h.fleet.deployments["ranker"]
    [multiplier] = ranker.demand.values()
    assert multiplier(1 + 300) == pytest.approx(1.5, abs=0.01)
    f.h.run(1800)
    assert ranker.demand == {} and f.kinds()[-1] == "fault.ended"


def test_feature_drift_raises_psi_until_pinned() -> None:
    f = Injected({"kind": "feature_drift", "target": "pipeline/user-features", "psi_per_hour": 0.3})
    pipeline = f.h.fleet.pipelines["user-features"]
    f.h.run(3600)
    assert pipeline.psi(f.h.env.now) == pytest.approx(0.02 + 0.3, abs=0.01)
    f.mitigate("pin_features", "pipeline/user-features")
    f.h.run(1)
    assert "fault.mitigated" in f.kinds()


def test_feature_store_outage_ends_with_failover() -> None:
    f = Injected({"kind": "feature_store_outage", "target": "featurestore/online-features"})
    assert f.h.fleet.stores["online-features"].down
    assert f.logs("feast online read")
    f.mitigate("failover", "featurestore/online-features")
    f.h.run(91)
    assert f.kinds()[-2:] == ["fault.mitigated", "fault.ended"]


def test_nccl_hang_ends_when_the_watchdog_restarts_the_job() -> None:
    f = Injected({"kind": "nccl_hang", "target": "job/llm-pretrain", "watchdog": True})
    job = f.h.fleet.jobs["llm-pretrain"]
    assert job.state == "Hung"
    f.h.run(601)
    assert job.restarts == 1 and f.kinds()[-2:] == ["fault.mitigated", "fault.ended"]
    assert f.logs("Watchdog caught collective operation timeout")


def test_checkpoint_storage_full_ends_when_space_is_freed() -> None:
    f = Injected({"kind": "checkpoint_storage_full", "target": "job/llm-pretrain"})
    job = f.h.fleet.jobs["llm-pretrain"]
    f.h.run(20 * 60)
    assert job.checkpoint_failures == 1 and f.logs("No space left on device")
    f.mitigate("free_checkpoint_space", "job/llm-pretrain")
    f.h.run(1)
    assert f.kinds()[-2:] == ["fault.mitigated", "fault.ended"]


def test_condition_triggered_fault_waits_for_its_condition_and_after() -> None:
    h = Harness()
    records: list[str] = []
    fault = FAULT.validate_python({"id": "c", "kind": "traffic_surge", "target": "deployment/ranker",
                                   "when": {"condition": "up == 0", "after": "5m"}})
    injector = FaultInjector(h.fleet, [fault], lambda kind, data: records.append(kind))
    injector.check_conditions(lambda expr: True)
    assert records == []  # not before 'after'
    h.run(300)
    injector.check_conditions(lambda expr: expr == "up == 0")
    assert records == ["fault.injected"]
    injector.check_conditions(lambda expr: True)
    assert records == ["fault.injected"]  # once only
