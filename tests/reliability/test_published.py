"""The bundled fleets against the figures they come from, within their Poisson uncertainty."""

from __future__ import annotations

import math

import pytest

from tabletop.reliability import theory
from tabletop.reliability.fleet import DAY, load_fleet
from tabletop.reliability.run import simulate_runs
from tests.reliability import published

RUNS = 200
CHI2_17_999 = 40.79
"""The 99.9% quantile of the chi-square distribution with 17 degrees of freedom (18 causes)."""


@pytest.fixture(scope="module")
def llama3_runs() -> list[dict]:
    return simulate_runs(load_fleet(published.LLAMA3), runs=RUNS, seed=1)


def test_the_llama3_fleet_is_the_papers_job_with_table5_rates() -> None:
    fleet = load_fleet(published.LLAMA3)
    assert (fleet.job.gpus, fleet.nodes, fleet.days) == (published.LLAMA3_GPUS, 2048, published.LLAMA3_DAYS)
    expected = {f.title: fleet.nodes * fleet.node_rate(f) * fleet.days * DAY for f in fleet.failures}
    assert expected == pytest.approx(published.LLAMA3_TABLE5)
    assert sum(published.LLAMA3_TABLE5.values()) == published.LLAMA3_UNEXPECTED
    assert [fleet.days * DAY / fleet.period(p) for p in fleet.planned] == pytest.approx([published.LLAMA3_PLANNED])


def test_llama3_runs_have_419_unexpected_interruptions_within_poisson_uncertainty(llama3_runs: list[dict]) -> None:
    counts = [row["unexpected_interruptions"] for row in llama3_runs]
    expected = published.LLAMA3_UNEXPECTED
    mean = sum(counts) / RUNS
    assert abs(mean - expected) < 3 * math.sqrt(expected / RUNS)
    assert all(abs(c - expected) < 4.5 * math.sqrt(expected) for c in counts)
    variance = sum((c - mean) ** 2 for c in counts) / (RUNS - 1)
    assert 0.7 < variance / expected < 1.4  # Poisson: the variance is the mean
    assert {row["planned_interruptions"] for row in llama3_runs} == {published.LLAMA3_PLANNED}
    assert {row["interruptions"] - row["unexpected_interruptions"] for row in llama3_runs} == {published.LLAMA3_PLANNED}


def test_llama3_interruptions_by_cause_follow_table5(llama3_runs: list[dict]) -> None:
    fleet = load_fleet(published.LLAMA3)
    observed = {f.title: sum(row[f"interruptions.{f.cause}"] for row in llama3_runs) for f in fleet.failures}
    total = sum(observed.values())
    chi2 = sum((observed[c] - total * n / published.LLAMA3_UNEXPECTED) ** 2 / (total * n / published.LLAMA3_UNEXPECTED)
               for c, n in published.LLAMA3_TABLE5.items())
    assert chi2 < CHI2_17_999
    assert observed["Faulty GPU"] / total == pytest.approx(148 / 419, abs=0.01)  # 35.3%, not the printed 30.1%


def test_llama3_effective_training_time_is_above_90_percent(llama3_runs: list[dict]) -> None:
    ettrs = [row["ettr"] for row in llama3_runs]
    assert min(ettrs) > published.LLAMA3_ETTR_ABOVE
    assert sum(ettrs) / RUNS == pytest.approx(theory.expected_ettr(load_fleet(published.LLAMA3)), abs=0.005)


def test_the_research_cluster_variant_fails_at_rsc1s_rate() -> None:
    fleet = load_fleet(published.RSC1)
    rows = simulate_runs(fleet, runs=50, seed=1)
    node_days = fleet.nodes * fleet.days * len(rows)
    failures = sum(row["unexpected_interruptions"] for row in rows)
    per_1000 = failures / node_days * 1000
    assert abs(per_1000 - published.RSC1_RF) < 3 * math.sqrt(failures) / node_days * 1000
    assert sum(row["capacity_waits"] for row in rows) / failures < 0.001  # its 48 spares suffice
