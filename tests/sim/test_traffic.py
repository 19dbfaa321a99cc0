"""Fluid traffic: queueing latency, overload errors, dead endpoints, dependencies, load shedding."""

from __future__ import annotations

import pytest

from tabletop.scenario.fleet import TrafficPattern
from tabletop.sim import mitigations, node_controller
from tabletop.sim.traffic import LatencyShape, daily_rate, queue_wait_ratio
from tests.sim.fleets import Harness


def test_daily_cycle_peaks_at_peak_time_and_bottoms_twelve_hours_later() -> None:
    pattern = TrafficPattern(base_rps=10, peak_rps=50, peak_at="10:00")
    assert daily_rate(pattern, 10 * 3600) == pytest.approx(50)
    assert daily_rate(pattern, 22 * 3600) == pytest.approx(10)
    assert daily_rate(pattern, 16 * 3600) == pytest.approx(30)


def test_queueing_wait_grows_sharply_near_saturation() -> None:
    waits = [queue_wait_ratio(rho, 32) for rho in (0.5, 0.9, 0.99)]
    assert waits[0] < 0.01 < waits[1] < 1 < waits[2]
    assert queue_wait_ratio(0.0, 32) == 0.0


def test_log_normal_shape_matches_its_quantiles() -> None:
    shape = LatencyShape(2.0, 0.5)
    assert shape.cdf(2.0) == pytest.approx(0.5)
    assert shape.cdf(shape.quantile(0.99)) == pytest.approx(0.99)


def test_losing_a_replica_at_the_peak_overloads_the_rest() -> None:
    h = Harness()
    h.run(85 * 60)  # 10:00, the daily peak
    healthy = h.step_traffic()["chat-llm"]
    assert healthy.errors == pytest.approx(0.0, abs=0.05)
    assert 0.8 < healthy.utilisation < 1.0
    h.fleet.gpu_lost(h.fleet.nodes["gpu-serve-2"].gpus[5])
    h.run(5)
    degraded = h.step_traffic()["chat-llm"]
    assert len(degraded.pods) == 5
    # five replicas cannot carry the morning peak: queues build up and the slowest requests time out
    assert degraded.utilisation > 0.95
    assert degraded.pods[0].latency.median > 3 * healthy.pods[0].latency.median
    assert degraded.timeouts > 0.005 * degraded.offered


def test_requests_to_a_hung_node_fail_until_its_pods_are_marked_not_ready() -> None:
    h = Harness()
    node_controller.node_down(h.fleet, h.fleet.nodes["gpu-serve-2"], "test")
    first = h.step_traffic()["chat-llm"]
    assert first.bad_gateway == pytest.approx(first.offered * 2 / 6, rel=1e-6)
    h.run(41)
    later = h.step_traffic()["chat-llm"]
    assert later.bad_gateway == 0.0 and len(later.pods) == 4


def test_feature_store_outage_fails_every_reader_request_until_failover() -> None:
    h = Harness()
    store = h.fleet.stores["online-features"]
    store.mode = "down"
    ranker = h.step_traffic()["ranker"]
    assert ranker.dependency_errors == pytest.approx(ranker.offered, rel=1e-9)
    assert h.step_traffic()["chat-llm"].dependency_errors == 0.0  # chat-llm does not read features
    assert mitigations.apply(h.fleet, "failover", "featurestore/online-features", {}).ok
    h.run(store.spec.failover_time + 1)
    assert h.step_traffic()["ranker"].dependency_errors == 0.0


def test_load_shedding_turns_timeouts_into_fewer_rejections() -> None:
    h = Harness()
    h.fleet.gpu_lost(h.fleet.nodes["gpu-serve-2"].gpus[5])
    h.run(5)
    before = h.step_traffic()["chat-llm"]
    mitigations.apply(h.fleet, "shed_load", "deployment/chat-llm", {"fraction": 0.2})
    after = h.step_traffic()["chat-llm"]
    assert after.shed == pytest.approx(0.2 * after.offered)
    assert after.timeouts < before.timeouts
