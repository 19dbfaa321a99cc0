"""One run's behaviour: determinism, where the time goes, spares and repairs, bad data."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tabletop.reliability.run import simulate_fleet
from tabletop.scenario.problems import InputError
from tests.reliability.fleets import fleet_data
from tests.reliability.published import LLAMA3


def llama3() -> dict:
    return yaml.safe_load(LLAMA3.read_text(encoding="utf-8"))


def test_the_same_seed_gives_the_same_run_and_another_seed_another() -> None:
    assert simulate_fleet(llama3(), seed=7) == simulate_fleet(llama3(), seed=7)
    assert simulate_fleet(llama3(), seed=7) != simulate_fleet(llama3(), seed=8)


def test_a_run_is_the_same_in_another_interpreter() -> None:
    """What a sweep worker process computes for a seed is what this process computes."""
    code = ("import json, yaml; from tabletop.reliability.run import simulate_fleet; "
            f"print(json.dumps(simulate_fleet(yaml.safe_load(open({str(LLAMA3)!r})), seed=11)))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60, check=True)
    assert json.loads(result.stdout) == simulate_fleet(llama3(), seed=11)


def test_every_gpu_hour_is_useful_or_lost_in_one_category() -> None:
    row = simulate_fleet(llama3(), seed=3)
    categories = [k for k in row if k.startswith("lost_gpu_hours.")]
    assert len(categories) == 6
    assert sum(row[k] for k in categories) == pytest.approx(row["lost_gpu_hours"])
    assert row["useful_gpu_hours"] + row["lost_gpu_hours"] == pytest.approx(row["gpu_hours"])
    assert row["gpu_hours"] == pytest.approx(16384 * 54 * 24)
    assert row["ettr"] == pytest.approx(row["useful_gpu_hours"] / row["gpu_hours"])
    assert row["goodput"] == pytest.approx(row["ettr"] * 16384 / (16384 + 32 * 8))
    assert row["interruptions"] == sum(v for k, v in row.items() if k.startswith("interruptions."))
    assert row["job_mttf_hours"] == pytest.approx(54 * 24 / row["interruptions"])


def test_without_failures_only_checkpoint_writes_cost_time() -> None:
    row = simulate_fleet(fleet_data(failures=[]), seed=1)
    assert row["interruptions"] == 0 and row["job_mttf_hours"] is None
    assert row["ettr"] == pytest.approx(1800 / 1830, abs=1e-4)
    assert row["lost_gpu_hours"] == pytest.approx(row["lost_gpu_hours.checkpoint"])


def test_failure_times_do_not_depend_on_the_policy() -> None:
    """A sweep over a policy compares the same failures (common random numbers)."""
    causes = lambda row: {k: v for k, v in row.items() if k.startswith("interruptions.")}  # noqa: E731
    quick = simulate_fleet(llama3() | {"checkpoint": {"interval": "5m", "write": "10s"}}, seed=4)
    slow = simulate_fleet(llama3() | {"checkpoint": {"interval": "2h", "write": "10s"}}, seed=4)
    starved = simulate_fleet(llama3() | {"spare_nodes": 0}, seed=4)
    assert causes(quick) == causes(slow) == causes(starved)
    assert quick["lost_gpu_hours.lost_work"] < slow["lost_gpu_hours.lost_work"] / 5
    assert quick["ettr"] > slow["ettr"] > starved["ettr"]


def test_without_spares_every_node_loss_waits_for_its_repair() -> None:
    data = fleet_data(spare_nodes=0, repair="6h", failures=[
        {"cause": "gpu", "per_1000_node_days": 2.34}, {"cause": "bug", "per_1000_node_days": 1.0, "takes_out": "job"}])
    row = simulate_fleet(data, seed=2)
    assert row["capacity_waits"] == row["interruptions.gpu"] > 0
    hours_waiting = row["lost_gpu_hours.waiting"] / 2048
    # each loss waits its 6 hours less its detection (counted first), or less when losses overlap
    assert hours_waiting == pytest.approx(row["capacity_waits"] * (6 - 2.5 / 60), rel=0.05)
    ended_waiting = simulate_fleet(data | {"repair": "60d"}, seed=2)  # the first loss waits past the end
    assert ended_waiting["capacity_waits"] >= 1 and ended_waiting["ettr"] < 0.1
    assert ended_waiting["useful_gpu_hours"] + ended_waiting["lost_gpu_hours"] == pytest.approx(ended_waiting["gpu_hours"])
    unlimited = simulate_fleet(data | {"spare_nodes": None}, seed=2)
    assert unlimited["lost_gpu_hours.waiting"] == 0 and unlimited["capacity_waits"] == 0
    assert unlimited["ettr"] > row["ettr"]


def test_counts_are_rates_per_node_so_a_smaller_job_fails_less() -> None:
    half = llama3() | {"job": {"gpus": 8192, "gpus_per_node": 8}}
    full_runs = [simulate_fleet(llama3(), seed=s)["unexpected_interruptions"] for s in range(20)]
    half_runs = [simulate_fleet(half, seed=s)["unexpected_interruptions"] for s in range(20)]
    assert sum(half_runs) / sum(full_runs) == pytest.approx(0.5, abs=0.05)


def test_days_override_the_file() -> None:
    row = simulate_fleet(llama3(), days=7, seed=1)
    assert row["days"] == 7 and row["gpu_hours"] == pytest.approx(16384 * 7 * 24)
    assert row["planned_interruptions"] in (6, 7)  # one every 54/47 days


def test_bad_fleet_data_is_an_input_error_naming_the_key() -> None:
    data = llama3()
    data["checkpoint"] = {"interval": "often"}
    with pytest.raises(InputError) as raised:
        simulate_fleet(data, seed=1)
    assert [p.path for p in raised.value.problems] == ["checkpoint.interval"]
    assert "'often' is not a duration" in raised.value.problems[0].message
    del data["reference"]
    data["checkpoint"] = {"interval": "10m"}
    with pytest.raises(InputError) as raised:
        simulate_fleet(data, seed=1)
    assert [p.path for p in raised.value.problems] == ["failures[0].count"]


@settings(max_examples=80, deadline=None)
@given(
    interval=st.integers(60, 6 * 3600), write=st.integers(0, 600), restart=st.integers(0, 3600),
    detection=st.integers(0, 3600), repair=st.integers(0, 5 * 86400), spares=st.one_of(st.none(), st.integers(0, 8)),
    node_rate=st.floats(0, 200), job_rate=st.floats(0, 200), planned_every=st.one_of(st.none(), st.integers(600, 86400)),
    downtime=st.integers(0, 7200), seed=st.integers(0, 2**32),
)
def test_time_is_conserved_whatever_overlaps(interval: int, write: int, restart: int, detection: int, repair: int,
                                             spares: int | None, node_rate: float, job_rate: float,
                                             planned_every: int | None, downtime: int, seed: int) -> None:
    """Failures during a recovery, planned work during a failure, waits past the end: every second
    of wall time is counted once, in one category."""
    data = fleet_data(checkpoint={"interval": interval, "write": write}, restart=restart, detection=detection,
                      repair=repair, spare_nodes=spares, failures=[
                          {"cause": "node", "per_1000_node_days": node_rate},
                          {"cause": "bug", "per_1000_node_days": job_rate, "takes_out": "job"}],
                      planned=[{"cause": "upgrade", "every": planned_every, "downtime": downtime}] if planned_every else [])
    row = simulate_fleet(data, days=10, seed=seed)
    assert all(v >= 0 for k, v in row.items() if k.startswith("lost_gpu_hours"))
    assert row["useful_gpu_hours"] + row["lost_gpu_hours"] == pytest.approx(row["gpu_hours"], rel=1e-9)
    assert 0 <= row["ettr"] <= 1 and row["goodput"] <= row["ettr"]
    if spares is None:
        assert row["lost_gpu_hours.waiting"] == 0
    if not planned_every:
        assert row["lost_gpu_hours.planned"] == 0
