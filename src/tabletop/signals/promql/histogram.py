"""``histogram_quantile`` over classic histograms (``le``-labelled cumulative bucket series)."""

from __future__ import annotations

import math

from tabletop.signals.promql.gofloat import parse_float
from tabletop.signals.promql.labels import NAME, Vector, ensure_unique
from tabletop.signals.promql.nodes import VECTOR, Context, Node

_BOUNDS: dict[str, float] = {}
"""Parsed ``le`` values: a histogram has few distinct bounds."""


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus's bucketQuantile: ``buckets`` are (upper bound, cumulative count) pairs."""
    if q != q:
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    buckets.sort(key=lambda b: b[0])
    if buckets[-1][0] != math.inf:
        return math.nan
    bounds: list[float] = []
    counts: list[float] = []
    for bound, count in buckets:  # coalesce buckets with the same bound
        if bounds and bounds[-1] == bound:
            counts[-1] += count
        else:
            bounds.append(bound)
            counts.append(count)
    highest = -math.inf  # make the counts monotonic, as Prometheus does
    for i, count in enumerate(counts):
        if count > highest:
            highest = count
        elif count < highest:
            counts[i] = highest
    if len(bounds) < 2:
        return math.nan
    observations = counts[-1]
    if observations == 0:
        return math.nan
    rank = q * observations
    b = next((i for i in range(len(counts) - 1) if counts[i] >= rank), len(counts) - 1)
    if b == len(counts) - 1:
        return bounds[-2]
    if b == 0 and bounds[0] <= 0:
        return bounds[0]
    start = 0.0
    end = bounds[b]
    count = counts[b]
    if b > 0:
        start = bounds[b - 1]
        count -= counts[b - 1]
        rank -= counts[b - 1]
    return start + (end - start) * (rank / count)


class HistogramQuantile(Node):
    """Groups bucket samples by their labels without ``le``; the output drops ``le`` and the name."""

    type = VECTOR

    def __init__(self, q: Node, buckets: Node) -> None:
        self.q = q
        self.buckets = buckets
        self._buckets: dict[int, tuple[dict[str, str], tuple[frozenset, float, dict[str, str]] | None]] = {}
        """By ``id`` of a bucket sample's labels (kept, so the id stays theirs): its group key,
        bound and output labels. Aggregations and selectors hand out the same label dicts at
        every evaluation, so each is read once."""

    def _bucket(self, labels: dict[str, str]) -> tuple[frozenset, float, dict[str, str]] | None:
        cached = self._buckets.get(id(labels))
        if cached is not None and cached[0] is labels:
            return cached[1]
        found = None
        le = labels.get("le")
        bound = _BOUNDS.get(le) if le is not None else None
        if le is not None and bound is None:
            bound = parse_float(le)
            if bound is not None and len(_BOUNDS) < 4096:
                _BOUNDS[le] = bound
        if bound is not None:
            rest = labels.copy()
            del rest["le"]
            key = frozenset(rest.items())
            rest.pop(NAME, None)
            found = (key, bound, dict(sorted(rest.items())))
        if len(self._buckets) >= 4096:
            self._buckets.clear()
        self._buckets[id(labels)] = (labels, found)
        return found

    def eval(self, ctx: Context) -> Vector:
        q = self.q.eval(ctx)
        groups: dict[frozenset, tuple[dict[str, str], list[tuple[float, float]]]] = {}
        bucket = self._bucket
        for labels, value in self.buckets.eval(ctx):
            found = bucket(labels)
            if found is None:
                continue
            key, bound, out = found
            group = groups.get(key)
            if group is None:
                group = groups[key] = (out, [])
            group[1].append((bound, value))
        out = [(labels, bucket_quantile(q, buckets)) for labels, buckets in groups.values()]
        if len(out) > 1:
            ensure_unique(out)
        return out
