"""The simulation against the closed forms, where they apply."""

from __future__ import annotations

import math
import statistics

import pytest

from tabletop.reliability import theory
from tabletop.reliability.fleet import DAY, fleet_from_data
from tabletop.reliability.run import simulate_fleet
from tests.reliability.fleets import fleet_data


def runs(data: dict, count: int, days: float | None = None) -> list[dict]:
    return [simulate_fleet(data, days=days, seed=seed) for seed in range(1, count + 1)]


def test_job_mttf_is_one_over_n_r() -> None:
    data = fleet_data(job={"gpus": 16384}, failures=[{"cause": "node-failure", "per_1000_node_days": 6.50}])
    rows = runs(data, 100)
    expected_hours = 1 / (2048 * 6.50 / 1000) * 24
    wall = sum(row["days"] * 24 for row in rows)
    failures = sum(row["unexpected_interruptions"] for row in rows)
    assert wall / failures == pytest.approx(expected_hours, rel=3 / math.sqrt(failures))
    assert theory.job_mttf(fleet_from_data(data)) / 3600 == pytest.approx(expected_hours)


def test_ettr_matches_kokolis_where_n_r_u0_is_small() -> None:
    data = fleet_data()  # N r = 0.6 failures a day, u0 = 6.5 minutes: N r u0 ~ 0.003
    rows = runs(data, 60)
    ettrs = [row["ettr"] for row in rows]
    n_r = 256 * 2.34 / 1000 / DAY
    u0, dt, w = 150 + 240, 1800, 30
    kokolis = (1 - n_r * (u0 + dt / 2)) / (1 + w / dt)
    assert theory.expected_ettr(fleet_from_data(data)) == pytest.approx(kokolis)
    standard_error = statistics.stdev(ettrs) / math.sqrt(len(ettrs))
    assert abs(statistics.mean(ettrs) - kokolis) < 3 * standard_error + 0.001


def test_ettr_with_planned_interruptions_subtracts_their_downtime_and_restart() -> None:
    data = fleet_data(failures=[], planned=[{"cause": "upgrade", "every": "1d", "downtime": "20m"}])
    row = simulate_fleet(data, seed=1)
    assert row["lost_gpu_hours.lost_work"] == 0
    assert row["ettr"] == pytest.approx(theory.expected_ettr(fleet_from_data(data)), abs=2e-4)


def test_the_best_checkpoint_interval_is_near_youngs() -> None:
    base = fleet_data(job={"gpus": 16384}, checkpoint={"interval": "10m", "write": "60s"},
                      failures=[{"cause": "node-failure", "per_1000_node_days": 6.50}], spare_nodes=None)
    young = theory.young_interval(fleet_from_data(base))
    assert young == pytest.approx(math.sqrt(2 * 60 * DAY / (2048 * 6.50 / 1000)))  # ~14.7 minutes
    minutes = [5, 7.5, 10, 12.5, 15, 17.5, 20, 25, 30, 40]
    mean_ettr = {}
    for interval in minutes:
        data = base | {"checkpoint": {"interval": f"{interval}m", "write": "60s"}}
        mean_ettr[interval] = statistics.mean(row["ettr"] for row in runs(data, 8, days=100))
    best = max(mean_ettr, key=mean_ettr.__getitem__)
    assert abs(best * 60 - young) / young < 0.25
    assert mean_ettr[best] - mean_ettr[5] > 0.01 and mean_ettr[best] - mean_ettr[40] > 0.01  # a real optimum


def test_spare_nodes_wait_as_often_as_the_poisson_queue_says() -> None:
    data = fleet_data(job={"gpus": 16384}, spare_nodes=16,
                      failures=[{"cause": "node-failure", "per_1000_node_days": 6.50, "repair": "1d"}])
    fleet = fleet_from_data(data)
    assert theory.nodes_in_repair(fleet) == pytest.approx(2048 * 6.50 / 1000)  # 13.3 nodes away
    rows = runs(data, 20, days=200)
    waits = sum(row["capacity_waits"] for row in rows) / sum(row["unexpected_interruptions"] for row in rows)
    assert waits == pytest.approx(theory.no_spare_free(fleet), abs=0.04)  # ~0.22
    assert all(row["lost_gpu_hours.waiting"] > 0 for row in rows)
    enough = data | {"spare_nodes": theory.spares_needed(fleet)}
    roomy = runs(enough, 20, days=200)
    assert sum(r["capacity_waits"] for r in roomy) / sum(r["unexpected_interruptions"] for r in roomy) < 0.015
    assert statistics.mean(r["ettr"] for r in roomy) > statistics.mean(r["ettr"] for r in rows)
