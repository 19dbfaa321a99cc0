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
from tabletop.signals.store import LabelKey, Series, SeriesStore

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
    """The series a set of matchers selects. The store only ever adds series, so when it
    registers new ones only those are tested and merged into the selection."""

    def __init__(self, name: str | None, tests: list[tuple[str, LabelTest]]) -> None:
        self.name = name
        self.tests = tests
        self.names_vary = False
        """Whether the selected series have more than one metric name."""
        self._store: SeriesStore | None = None
        self._generation = -1
        self._seen = 0
        """How many of the store's candidate series have been tested."""
        self._entries: list[Entry] = []

    def entries(self, store: SeriesStore) -> list[Entry]:
        """Matching series in Prometheus's order (sorted by label set)."""
        if store is not self._store:
            self._store, self._generation, self._seen, self._entries = store, -1, 0, []
            self.names_vary = False
        if store.generation != self._generation:
            self._select_new(store)
        return self._entries

    def _select_new(self, store: SeriesStore) -> None:
        new = store.with_name(self.name, self._seen) if self.name is not None else store.all_series(self._seen)
        self._seen += len(new)
        self._generation = store.generation
        tests = self.tests
        chosen = [s for s in new if all(test(s.labels.get(label, "")) for label, test in tests)]
        if not chosen:
            return
        entries = self._entries + [(s, s.labels, without_name(s.labels)) for s in chosen]
        entries.sort(key=_series_order)
        self._entries = entries
        if self.name is None:
            self.names_vary = len({entry[1].get("__name__") for entry in entries}) > 1


def _series_order(entry: Entry) -> LabelKey:
    return entry[0].key


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
