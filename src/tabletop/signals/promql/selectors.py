"""Series selection and the instant-vector selector.

Prometheus 2.x semantics: an instant selector at time t (after ``offset``) takes each series'
newest sample in ``[t - 5m, t]``; a stale marker there means the series has no value. A range
selector takes the non-stale samples in ``[t - range, t]``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

from tabletop.signals.promql.labels import Vector, without_name
from tabletop.signals.promql.nodes import VECTOR, Context, Node
from tabletop.signals.promql.regex import compile_regex
from tabletop.signals.store import Series, SeriesStore, label_key

LOOKBACK = 300.0
"""Prometheus's default lookback delta (``--query.lookback-delta``), in seconds."""

Entry = tuple[Series, dict[str, str], dict[str, str]]
"""A selected series, its labels and its labels without ``__name__``."""

LabelTest = Callable[[str], bool]


def label_test(op: str, value: str) -> LabelTest:
    """The test one matcher (``=``, ``!=``, ``=~``, ``!~``) applies to a label value."""
    if op == "=":
        return value.__eq__
    if op == "!=":
        return value.__ne__
    pattern = compile_regex(value)
    if op == "=~":
        return lambda v: pattern.fullmatch(v) is not None
    return lambda v: pattern.fullmatch(v) is None


class Selector:
    """The series a set of matchers selects, cached until the store registers a new series."""

    def __init__(self, name: str | None, tests: list[tuple[str, LabelTest]]) -> None:
        self.name = name
        self.tests = tests
        self.names_vary = False
        """Whether the selected series have more than one metric name."""
        self._store: SeriesStore | None = None
        self._generation = -1
        self._entries: list[Entry] = []

    def entries(self, store: SeriesStore) -> list[Entry]:
        """Matching series in Prometheus's order (sorted by label set)."""
        if store is not self._store or store.generation != self._generation:
            self._select(store)
        return self._entries

    def _select(self, store: SeriesStore) -> None:
        candidates = store.with_name(self.name) if self.name is not None else store.all_series()
        tests = self.tests
        chosen = [
            s for s in candidates if all(test(s.labels.get(label, "")) for label, test in tests)
        ]
        chosen.sort(key=lambda s: label_key(s.labels))
        self._entries = [(s, s.labels, without_name(s.labels)) for s in chosen]
        self.names_vary = len({s.labels.get("__name__") for s in chosen}) > 1
        self._store = store
        self._generation = store.generation


def newest(ts: list[float], ref: float) -> int:
    """Index of the newest sample in ``[ref - LOOKBACK, ref]``, or -1."""
    i = len(ts) - 1
    if i < 0:
        return -1
    if ts[i] > ref:
        i = bisect_right(ts, ref) - 1
        if i < 0:
            return -1
    return i if ts[i] >= ref - LOOKBACK else -1


class VectorSelector(Node):
    type = VECTOR

    def __init__(self, selector: Selector, offset: float) -> None:
        self.selector = selector
        self.offset = offset

    def eval(self, ctx: Context) -> Vector:
        ref = ctx.t - self.offset
        oldest = ref - LOOKBACK
        out = []
        for series, labels, _ in self.selector.entries(ctx.store):
            ts = series.ts  # newest() inlined: this loop is the hottest in rule evaluation
            i = len(ts) - 1
            if i < 0:
                continue
            if ts[i] > ref:
                i = bisect_right(ts, ref) - 1
                if i < 0:
                    continue
            if ts[i] >= oldest:
                value = series.vs[i]
                if value is not None:
                    out.append((labels, value))
        return out

    def timestamps(self, ctx: Context) -> Vector:
        """``timestamp(selector)``: each selected sample's own time, without the metric name."""
        ref = ctx.t - self.offset
        out = []
        for series, _, bare in self.selector.entries(ctx.store):
            i = newest(series.ts, ref)
            if i >= 0 and series.vs[i] is not None:
                out.append((bare, series.ts[i] + ctx.store.epoch))
        return out


class RangeSelector:
    """``selector[range] offset o``: the argument of a range function, not a value of its own."""

    def __init__(self, selector: Selector, range_: float, offset: float) -> None:
        self.selector = selector
        self.range = range_
        self.offset = offset
