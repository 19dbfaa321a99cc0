"""Functions of a range vector: rate and friends, ``*_over_time``, deriv, predict_linear...

Each function is a kernel that gets one series' window, the samples ``ts[lo:hi]``/``vs[lo:hi]``
(non-stale, with ``start <= t <= end``), and returns the output value, or None when the series
has no output (e.g. rate with fewer than two samples). Kernels get the whole columns and
indices rather than slices: most only need a few of the window's samples.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable
from typing import Any

from tabletop.signals.promql.gofloat import NAN, div
from tabletop.signals.promql.labels import Vector, ensure_unique
from tabletop.signals.promql.nodes import VECTOR, Context, Node
from tabletop.signals.promql.selectors import Entry, RangeSelector
from tabletop.signals.promql.stats import (
    compensated_mean,
    kahan_inc,
    linear_regression,
    maximum,
    minimum,
    quantile,
)
from tabletop.signals.store import SeriesStore

Column = list[float]


class Window:
    """Bounds of the range at one evaluation, and the evaluation time itself."""

    __slots__ = ("start", "end", "range", "now")

    def __init__(self, start: float, end: float, range_: float, now: float) -> None:
        self.start = start
        self.end = end
        self.range = range_
        self.now = now


Kernel = Callable[[Column, Column, int, int, Window, float], "float | None"]


def _extrapolated_rate(is_counter: bool, is_rate: bool) -> Kernel:
    """Prometheus's extrapolatedRate: rate, increase and delta."""

    def kernel(ts: Column, vs: Column, lo: int, hi: int, w: Window, _: float) -> float | None:
        n = hi - lo
        if n < 2:
            return None
        first = vs[lo]
        result = vs[hi - 1] - first
        if is_counter:
            window = vs[lo:hi]
            # Python's sort keeps a list as it is exactly when no value is below its predecessor.
            if sorted(window) != window:
                prev = first
                for v in window:
                    if v < prev:
                        result += prev
                    prev = v
        to_start = ts[lo] - w.start
        to_end = w.end - ts[hi - 1]
        sampled = ts[hi - 1] - ts[lo]
        average = sampled / (n - 1)
        if is_counter and result > 0 and first >= 0:
            to_zero = sampled * (first / result)
            if to_zero < to_start:
                to_start = to_zero
        threshold = average * 1.1
        interval = sampled
        interval += to_start if to_start < threshold else average / 2
        interval += to_end if to_end < threshold else average / 2
        factor = div(interval, sampled)
        if is_rate:
            factor /= w.range
        return result * factor

    kernel.counter = is_counter  # type: ignore[attr-defined]  # see RangeFunction._counters
    kernel.per_second = is_rate  # type: ignore[attr-defined]
    return kernel


def _instant_value(is_rate: bool) -> Kernel:
    """irate and idelta: from the last two samples."""

    def kernel(ts: Column, vs: Column, lo: int, hi: int, w: Window, _: float) -> float | None:
        if hi - lo < 2:
            return None
        last, previous = vs[hi - 1], vs[hi - 2]
        result = last if is_rate and last < previous else last - previous
        interval = ts[hi - 1] - ts[hi - 2]
        if interval == 0:
            return None
        return result / interval if is_rate else result

    return kernel


def _of_values(fn: Callable[[Column], float]) -> Kernel:
    """A kernel of the window's values only."""

    def kernel(ts: Column, vs: Column, lo: int, hi: int, w: Window, _: float) -> float:
        return fn(vs[lo:hi])

    return kernel


def _sum(values: Column) -> float:
    total = 0.0
    c = 0.0
    for v in values:
        t = total + v
        if abs(total) >= abs(v):
            c += (total - t) + v
        else:
            c += (v - t) + total
        total = t
    return total if math.isinf(total) else total + c


def _stdvar(values: Column) -> float:
    count = 0.0
    running = c_running = 0.0
    aux = c_aux = 0.0
    for v in values:
        count += 1
        delta = v - (running + c_running)
        running, c_running = kahan_inc(delta / count, running, c_running)
        aux, c_aux = kahan_inc(delta * (v - (running + c_running)), aux, c_aux)
    return (aux + c_aux) / count


def _changes(values: Column) -> float:
    changes = 0
    prev = values[0]
    for v in values:
        if v != prev and (v == v or prev == prev):
            changes += 1
        prev = v
    return float(changes)


def _resets(values: Column) -> float:
    resets = 0
    prev = values[0]
    for v in values:
        if v < prev:
            resets += 1
        prev = v
    return float(resets)


def _count(ts: Column, vs: Column, lo: int, hi: int, w: Window, _: float) -> float:
    return float(hi - lo)


def _last(ts: Column, vs: Column, lo: int, hi: int, w: Window, _: float) -> float:
    return vs[hi - 1]


def _present(ts: Column, vs: Column, lo: int, hi: int, w: Window, _: float) -> float:
    return 1.0


def _quantile(ts: Column, vs: Column, lo: int, hi: int, w: Window, q: float) -> float:
    return quantile(q, vs[lo:hi])


def _deriv(ts: Column, vs: Column, lo: int, hi: int, w: Window, _: float) -> float | None:
    if hi - lo < 2:
        return None
    return linear_regression(ts[lo:hi], vs[lo:hi], ts[lo])[0]


def _predict_linear(ts: Column, vs: Column, lo: int, hi: int, w: Window, duration: float) -> float | None:
    if hi - lo < 2:
        return None
    slope, intercept = linear_regression(ts[lo:hi], vs[lo:hi], w.now)
    return slope * duration + intercept


KERNELS: dict[str, Kernel] = {
    "rate": _extrapolated_rate(is_counter=True, is_rate=True),
    "increase": _extrapolated_rate(is_counter=True, is_rate=False),
    "delta": _extrapolated_rate(is_counter=False, is_rate=False),
    "irate": _instant_value(is_rate=True),
    "idelta": _instant_value(is_rate=False),
    "avg_over_time": _of_values(compensated_mean),
    "sum_over_time": _of_values(_sum),
    "min_over_time": _of_values(minimum),
    "max_over_time": _of_values(maximum),
    "count_over_time": _count,
    "last_over_time": _last,
    "present_over_time": _present,
    "quantile_over_time": _quantile,
    "stddev_over_time": _of_values(lambda values: math.sqrt(_stdvar(values))),
    "stdvar_over_time": _of_values(_stdvar),
    "changes": _of_values(_changes),
    "resets": _of_values(_resets),
    "deriv": _deriv,
    "predict_linear": _predict_linear,
}


Grouper = Callable[[dict[str, str]], Hashable]
"""The group key of a sample's labels under an aggregation's ``by``/``without``."""

class _Run:
    """Consecutive selected series sharing one list of timestamps (a block's members, in
    Prometheus's order): ``RangeFunction._counters`` finds their window once for all, and
    skips them all at once when it has fewer than two samples (a target gone)."""

    __slots__ = ("ts", "series", "bares", "_grouper", "_keys")

    def __init__(self, entries: list[Entry]) -> None:
        self.ts = entries[0][0].ts
        self.series = [series for series, _, _ in entries]
        self.bares = [bare for _, _, bare in entries]
        self._grouper: Grouper | None = None
        self._keys: list[Hashable] = []

    def keys(self, group: Grouper, fallback: Grouper) -> list[Hashable]:
        """Each series' group key (see ``RangeFunction.sums``), found once."""
        if self._grouper is not group:
            self._grouper = group
            self._keys = [_group_key(bare, group, fallback) for bare in self.bares]
        return self._keys


def _group_key(labels: dict[str, str], group: Grouper, fallback: Grouper) -> Hashable:
    try:
        return group(labels)
    except KeyError:
        return fallback(labels)


def _runs(entries: list[Entry]) -> list[_Run]:
    """``entries`` cut where the list of timestamps changes."""
    runs = []
    begin = 0
    for i in range(1, len(entries) + 1):
        if i == len(entries) or entries[i][0].ts is not entries[begin][0].ts:
            runs.append(_Run(entries[begin:i]))
            begin = i
    return runs


class RangeFunction(Node):
    """A kernel applied to every series a range selector selects; drops the metric name
    except for ``last_over_time``."""

    type = VECTOR

    def __init__(self, kernel: Kernel, matrix: RangeSelector, param: Node | None, keep_name: bool):
        self.kernel = kernel
        self.matrix = matrix
        self.param = param
        self.keep_name = keep_name
        self.counter = getattr(kernel, "counter", False)
        """rate and increase: evaluated by ``_counters``."""
        self.is_rate = getattr(kernel, "per_second", False)
        self._cached_runs: tuple[list[Entry], int, list[_Run]] | None = None

    def eval(self, ctx: Context) -> Vector:
        matrix = self.matrix
        end = ctx.t - matrix.offset
        start = end - matrix.range
        w = Window(start, end, matrix.range, ctx.t)
        if self.counter:
            out = self._counters(ctx, w)
        else:
            out = self._windows(ctx, w)
        if not self.keep_name and matrix.selector.names_vary:
            ensure_unique(out)
        return out

    def _windows(self, ctx: Context, w: Window) -> Vector:
        start, end = w.start, w.end
        param = self.param.eval(ctx) if self.param is not None else NAN
        kernel = self.kernel
        keep_name = self.keep_name
        out = []
        for series, labels, bare in self.matrix.selector.entries(ctx.store):
            ts = series.ts
            if not ts:
                continue
            newest = ts[-1]
            if newest < start:
                continue
            lo = bisect_left(ts, start)
            if newest <= end:
                hi = len(ts)
            else:
                hi = bisect_right(ts, end, lo)
                if hi == lo:
                    continue
            vs = series.vs
            if series.last_stale >= lo:  # stale markers are not samples
                ts, vs, lo, hi = _without_stale(ts, vs, lo, hi)
                if hi == 0:
                    continue
            value = kernel(ts, vs, lo, hi, w, param)
            if value is not None:
                out.append((labels if keep_name else bare, value))
        return out

    def sums(self, ctx: Context, group: Grouper, fallback: Grouper) -> dict[Hashable, float] | None:
        """``sum by`` of this rate or increase, summed as the samples are made (in the order and
        with the float sums ``Aggregate`` would make): ``group`` maps a result's labels to its
        group key, ``fallback`` where ``group`` raises KeyError. None when the selector's names
        vary (its results must first be checked unique)."""
        matrix = self.matrix
        if not self.counter or matrix.selector.entries(ctx.store) and matrix.selector.names_vary:
            return None
        end = ctx.t - matrix.offset
        return self._counters(ctx, Window(end - matrix.range, end, matrix.range, ctx.t), group, fallback)

    def _counters(self, ctx: Context, w: Window, group: Grouper | None = None, fallback: Grouper | None = None) -> Any:
        """``_windows`` for rate and increase, with the kernel inlined for the common window (no
        stale marker, no counter reset) and the window found once for the series of a run (they
        share their timestamps): the hottest loop of a drill's rules, a latency histogram's
        buckets times its targets. Keep it in step with ``_extrapolated_rate``.

        With ``group``, returns the sums per group (``sums``) instead of the vector."""
        start, end, range_ = w.start, w.end, w.range
        kernel = self.kernel
        is_rate = self.is_rate
        out: Vector = []
        sums: dict[Hashable, float] = {}
        for run in self._runs(ctx.store):
            window = _counter_window(run.ts, start, end, range_, is_rate)
            if window is None:
                continue
            lo, hi, sampled, to_start, tail, threshold, base = window
            falls = run.series[0].falls_within(lo, hi)  # a block's members fall together
            keys = run.bares if group is None else run.keys(group, fallback)  # type: ignore[arg-type]
            for series, bare, k in zip(run.series, run.bares, keys):
                factor = base
                if falls or series.last_stale >= lo:  # the kernel, on this series' own window
                    ts, vs = series.ts, series.vs
                    value = kernel(*(_without_stale(ts, vs, lo, hi) if series.last_stale >= lo else (ts, vs, lo, hi)), w, NAN)
                    if value is None:
                        continue
                else:
                    vs = series.vs
                    first = vs[lo]
                    value = vs[hi - 1] - first
                    if value > 0 and first >= 0:
                        to_zero = sampled * (first / value)
                        if to_zero < to_start:  # the counter would reach zero inside the gap: stop there
                            head = to_zero if to_zero < threshold else sampled / (hi - lo - 1) / 2
                            factor = div(sampled + head + tail, sampled)
                            if is_rate:
                                factor /= range_
                    value *= factor
                if group is None:
                    out.append((bare, value))
                else:
                    sums[k] = sums[k] + value if k in sums else value
        return out if group is None else sums

    def _runs(self, store: SeriesStore) -> list[_Run]:
        """The selected series cut into runs, anew when the selection or the blocks change."""
        entries = self.matrix.selector.entries(store)
        cached = self._cached_runs
        if cached is None or cached[0] is not entries or cached[1] != store.generation:
            cached = self._cached_runs = (entries, store.generation, _runs(entries))
        return cached[2]


def _counter_window(ts: Column, start: float, end: float, range_: float, is_rate: bool) -> tuple | None:
    """(lo, hi, sampled, to_start, tail, threshold, factor) of a counter's window ``[start, end]``
    in ``ts``: what extrapolatedRate computes from the timestamps alone (``factor`` before the
    zero-point adjustment); None when the window has fewer than two samples."""
    if not ts:
        return None
    newest = ts[-1]
    if newest < start:
        return None
    lo = bisect_left(ts, start)
    hi = len(ts) if newest <= end else bisect_right(ts, end, lo)
    if hi - lo < 2:
        return None
    sampled = ts[hi - 1] - ts[lo]
    to_start = ts[lo] - start
    to_end = end - ts[hi - 1]
    average = sampled / (hi - lo - 1)
    threshold = average * 1.1
    tail = to_end if to_end < threshold else average / 2
    factor = div(sampled + (to_start if to_start < threshold else average / 2) + tail, sampled)
    if is_rate:
        factor /= range_
    return lo, hi, sampled, to_start, tail, threshold, factor


def _without_stale(ts: Column, vs: Column, lo: int, hi: int) -> tuple[Column, Column, int, int]:
    """The window's samples without its stale markers (they are not samples), as new columns."""
    kept = [i for i in range(lo, hi) if vs[i] is not None]
    return [ts[i] for i in kept], [vs[i] for i in kept], 0, len(kept)


class AbsentOverTime(Node):
    """``absent_over_time``: one sample (labels from the selector's equality matchers) when no
    selected series has a sample in the range."""

    type = VECTOR

    def __init__(self, matrix: RangeSelector, labels: dict[str, str]) -> None:
        self.matrix = matrix
        self.labels = labels

    def eval(self, ctx: Context) -> Vector:
        matrix = self.matrix
        end = ctx.t - matrix.offset
        start = end - matrix.range
        for series, _, _ in matrix.selector.entries(ctx.store):
            ts = series.ts
            lo = bisect_left(ts, start)
            hi = bisect_right(ts, end, lo)
            if any(v is not None for v in series.vs[lo:hi]):
                return []
        return [(dict(self.labels), 1.0)]
