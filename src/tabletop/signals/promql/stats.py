"""Numeric kernels shared by range functions and aggregations, in Prometheus's exact arithmetic.

The order of floating-point operations follows Prometheus 2.42 so that results agree bit for
bit, including its compensated (Kahan–Neumaier) sums where Prometheus uses them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tabletop.signals.promql.gofloat import div

NAN = math.nan
INF = math.inf


def kahan_inc(inc: float, total: float, c: float) -> tuple[float, float]:
    """One step of Neumaier's compensated summation: the new sum and compensation."""
    t = total + inc
    if abs(total) >= abs(inc):
        c += (total - t) + inc
    else:
        c += (inc - t) + total
    return t, c


def mean(values: Sequence[float]) -> float:
    """Prometheus's running mean of ``avg``: divides before subtracting, keeps ±Inf."""
    result = 0.0
    count = 0.0
    for v in values:
        count += 1
        if result == INF or result == -INF:
            if (v == INF or v == -INF) and (result > 0) == (v > 0):
                continue
            if v == v and v != INF and v != -INF:
                continue
        result += v / count - result / count
    return result


def compensated_mean(values: Sequence[float]) -> float:
    """``avg_over_time``'s running mean: like ``mean`` but with a compensated sum of the steps."""
    result = c = 0.0
    count = 0.0
    for v in values:
        count += 1
        if result == INF or result == -INF:
            if (v == INF or v == -INF) and (result > 0) == (v > 0):
                continue
            if v == v and v != INF and v != -INF:
                continue
        result, c = kahan_inc(v / count - result / count, result, c)
    return result if result == INF or result == -INF else result + c


def minimum(values: Sequence[float]) -> float:
    """Smallest value; NaN only if all are NaN (Prometheus replaces a NaN minimum by any value)."""
    low = min(values)  # builtin min() keeps a NaN only when it comes first
    if low != low:
        numbers = [v for v in values if v == v]
        return min(numbers) if numbers else NAN
    return low


def maximum(values: Sequence[float]) -> float:
    """Largest value; NaN only if all are NaN."""
    high = max(values)
    if high != high:
        numbers = [v for v in values if v == v]
        return max(numbers) if numbers else NAN
    return high


def _nan_first(v: float) -> tuple[bool, float]:
    return (v == v, v)


def quantile(q: float, values: Sequence[float]) -> float:
    """Prometheus's ``quantile``: linear interpolation between the closest ranks; NaN sorts first."""
    if not values or q != q:
        return NAN
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    ordered = sorted(values, key=_nan_first)
    n = len(ordered)
    rank = q * (n - 1)
    lower = max(0, math.floor(rank))
    upper = min(n - 1, lower + 1)
    weight = rank - math.floor(rank)
    return ordered[lower] * (1 - weight) + ordered[upper] * weight


def linear_regression(ts: Sequence[float], vs: Sequence[float], origin: float) -> tuple[float, float]:
    """Least-squares slope and intercept at ``origin`` (seconds) of the points ``(ts, vs)``."""
    n = 0.0
    sum_x = c_x = sum_y = c_y = sum_xy = c_xy = sum_x2 = c_x2 = 0.0
    first = vs[0]
    constant = True
    for t, v in zip(ts, vs):
        if constant and v != first:
            constant = False
        n += 1.0
        x = t - origin
        sum_x, c_x = kahan_inc(x, sum_x, c_x)
        sum_y, c_y = kahan_inc(v, sum_y, c_y)
        sum_xy, c_xy = kahan_inc(x * v, sum_xy, c_xy)
        sum_x2, c_x2 = kahan_inc(x * x, sum_x2, c_x2)
    if constant:
        if math.isinf(first):
            return NAN, NAN
        return 0.0, first
    sum_x += c_x
    sum_y += c_y
    sum_xy += c_xy
    sum_x2 += c_x2
    cov_xy = sum_xy - sum_x * sum_y / n
    var_x = sum_x2 - sum_x * sum_x / n
    slope = div(cov_xy, var_x)
    return slope, sum_y / n - slope * sum_x / n
