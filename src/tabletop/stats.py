"""Mean, standard deviation and 95% confidence interval of a metric over runs (sweeps and
reliability runs).

The interval is the mean ± t · s / √n with Student's t at 97.5% for n - 1 degrees of freedom:
from a table up to 30 degrees, beyond it from the Cornish-Fisher expansion around the normal
quantile (within 1e-4 of the exact value there). No interval for fewer than two values.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
         2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
         2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)
"""Student's t quantile at 97.5% for 1 to 30 degrees of freedom."""
_Z975 = statistics.NormalDist().inv_cdf(0.975)


def t975(df: int) -> float:
    """Student's t quantile at 97.5% for ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError("a t quantile needs at least one degree of freedom")
    if df <= len(_T975):
        return _T975[df - 1]
    z = _Z975
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass(frozen=True)
class Spread:
    n: int
    """Runs with a value."""
    missing: int
    """Runs without one (a milestone never reached, a criterion N/A)."""
    mean: float | None
    sd: float | None
    """Sample standard deviation (n - 1)."""
    low: float | None
    high: float | None
    """The 95% confidence interval of the mean."""

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "missing": self.missing, "mean": self.mean, "sd": self.sd,
                "ci95": None if self.low is None else [self.low, self.high]}


def spread(values: Iterable[Any]) -> Spread:
    """The spread of the numbers among ``values`` (None counts as missing)."""
    items = list(values)
    numbers = [float(v) for v in items if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
    n, missing = len(numbers), len(items) - len(numbers)
    if not numbers:
        return Spread(0, missing, None, None, None, None)
    mean = statistics.fmean(numbers)
    if n < 2:
        return Spread(n, missing, mean, None, None, None)
    sd = statistics.stdev(numbers)
    half = t975(n - 1) * sd / math.sqrt(n)
    return Spread(n, missing, mean, sd, mean - half, mean + half)


def shares(values: Iterable[Any]) -> dict[str, int]:
    """How many runs had each value of a text column (a criterion's rating), most common first."""
    counts: dict[str, int] = {}
    for value in values:
        if value is not None:
            counts[str(value)] = counts.get(str(value), 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
