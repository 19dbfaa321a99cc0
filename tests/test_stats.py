"""The statistics of sweeps and reliability runs against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from tabletop.stats import shares, spread, t975


def test_five_values() -> None:
    # mean 3, s = sqrt(10 / 4) = 1.58114, t(0.975, 4) = 2.776: 3 ± 2.776 * 1.58114 / sqrt(5) = 3 ± 1.96293
    found = spread([1, 2, 3, 4, 5])
    assert (found.n, found.missing, found.mean) == (5, 0, 3.0)
    assert found.sd == pytest.approx(1.58114, abs=1e-5)
    assert (found.low, found.high) == (pytest.approx(1.03707, abs=1e-5), pytest.approx(4.96293, abs=1e-5))


def test_two_values_use_the_wide_t_of_one_degree_of_freedom() -> None:
    # mean 11, s = sqrt(2), t(0.975, 1) = 12.706: 11 ± 12.706 * sqrt(2) / sqrt(2)
    found = spread([10, 12])
    assert (found.low, found.high) == (pytest.approx(11 - 12.706), pytest.approx(11 + 12.706))


def test_missing_values_are_counted_not_averaged() -> None:
    found = spread([None, 2.0, 4.0, None])
    assert (found.n, found.missing, found.mean) == (2, 2, 3.0)
    alone = spread([7.5, None])
    assert (alone.n, alone.mean, alone.sd, alone.low) == (1, 7.5, None, None)
    assert spread([None]).to_json() == {"n": 0, "missing": 1, "mean": None, "sd": None, "ci95": None}


def test_the_t_table_and_the_normal_quantile_beyond_it() -> None:
    assert t975(4) == 2.776 and t975(30) == 2.042
    assert t975(40) == pytest.approx(2.0211, abs=1e-4)  # beyond the table: Cornish-Fisher
    assert t975(120) == pytest.approx(1.9799, abs=1e-4)
    assert t975(100_000) == pytest.approx(1.959964, abs=1e-4)
    # 200 runs of 0 and 1: s = sqrt(200 * 0.25 / 199), half-width t(199) * s / sqrt(200), t(199) = 1.97196
    found = spread([0, 1] * 100)
    half = 1.97196 * math.sqrt(50 / 199) / math.sqrt(200)
    assert (found.low, found.high) == (pytest.approx(0.5 - half, abs=1e-6), pytest.approx(0.5 + half, abs=1e-6))


def test_ratings_are_counted_most_common_first() -> None:
    assert shares(["S", "P", "P", None, "U", "S", "P"]) == {"P": 3, "S": 2, "U": 1}
