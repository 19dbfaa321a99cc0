"""Aggregation operators (sum, avg, topk, quantile, count_values...) with ``by`` / ``without``."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from operator import itemgetter

from tabletop.signals.promql.errors import PromQLError
from tabletop.signals.promql.gofloat import format_f, format_v
from tabletop.signals.promql.labels import NAME, Vector, is_label_name
from tabletop.signals.promql.nodes import VECTOR, Context, Node
from tabletop.signals.promql.range_functions import Grouper, RangeFunction
from tabletop.signals.promql.stats import maximum, mean, minimum, quantile

_INT64 = 2.0**63


def _stdvar(values: list[float]) -> float:
    """Welford's variance, in the order Prometheus's aggregation computes it."""
    count = 1
    running = values[0]
    total = 0.0
    for v in values[1:]:
        count += 1
        delta = v - running
        running += delta / count
        total += delta * (v - running)
    return total / count


REDUCERS: dict[str, Callable[[list[float], float], float]] = {
    "avg": lambda vs, _: mean(vs),
    "min": lambda vs, _: minimum(vs),
    "max": lambda vs, _: maximum(vs),
    "count": lambda vs, _: float(len(vs)),
    "group": lambda vs, _: 1.0,
    "stdvar": lambda vs, _: _stdvar(vs),
    "stddev": lambda vs, _: math.sqrt(_stdvar(vs)),
    "quantile": lambda vs, q: quantile(q, vs),
}
OPERATORS = frozenset(REDUCERS) | {"sum", "topk", "bottomk", "count_values"}


class _Grouping:
    """The group key and output labels of a sample under ``by (...)`` or ``without (...)``."""

    def __init__(self, labels: list[str], without: bool) -> None:
        self.names = sorted(set(labels))
        self.without = without
        self.excluded = frozenset(labels) | {NAME}
        self._get = itemgetter(*self.names) if self.names else None
        self.by_present = self.key if without or not self.names else self._get
        """``key`` for labels that have every ``by`` label (KeyError otherwise): faster."""
        self._labels: dict[Hashable, dict[str, str]] = {}

    def key(self, labels: dict[str, str]) -> Hashable:
        if self.without:
            rest = labels.copy()
            for name in self.excluded:
                rest.pop(name, None)
            return frozenset(rest.items())
        if self._get is None:
            return ()
        try:
            return self._get(labels)
        except KeyError:  # a missing label groups like an empty one
            values = tuple([labels.get(n, "") for n in self.names])
            return values[0] if len(values) == 1 else values

    def labels(self, key: Hashable) -> dict[str, str]:
        """Output labels of a group; they depend on its key only, so they are cached."""
        out = self._labels.get(key)
        if out is None:
            if self.without:
                out = dict(sorted(key))
            elif len(self.names) == 1:
                out = {self.names[0]: key} if key else {}
            else:
                out = {n: v for n, v in zip(self.names, key) if v}
            if len(self._labels) >= 65536:
                self._labels.clear()
            self._labels[key] = out
        return out


def _less_topk(a: float, b: float) -> bool:
    return a != a or a < b


def _less_bottomk(a: float, b: float) -> bool:
    return a != a or a > b


def _select_k(samples: Vector, k: int, less: Callable[[float, float], bool]) -> Vector:
    """Prometheus's heap selection (Go's container/heap), so ties pick the same samples."""
    heap: Vector = []

    def up(j: int) -> None:
        while j > 0:
            i = (j - 1) // 2
            if not less(heap[j][1], heap[i][1]):
                break
            heap[i], heap[j] = heap[j], heap[i]
            j = i

    def down(i: int, n: int) -> None:
        while True:
            j = 2 * i + 1
            if j >= n:
                break
            if j + 1 < n and less(heap[j + 1][1], heap[j][1]):
                j += 1
            if not less(heap[j][1], heap[i][1]):
                break
            heap[i], heap[j] = heap[j], heap[i]
            i = j

    for sample in samples:
        if len(heap) < k or less(heap[0][1], sample[1]):
            if len(heap) == k:
                last = len(heap) - 1
                heap[0], heap[last] = heap[last], heap[0]
                down(0, last)
                heap.pop()
            heap.append(sample)
            up(len(heap) - 1)
    # Output order: the "largest" first by the heap's own ordering (NaN last).
    return sorted(heap, key=lambda s: (s[1] != s[1], -s[1] if less is _less_topk else s[1]))


class Aggregate(Node):
    type = VECTOR

    def __init__(
        self,
        op: str,
        operand: Node,
        labels: list[str],
        without: bool,
        param: Node | None,
        value_label: str | None = None,
    ) -> None:
        """``param`` is the scalar of topk/bottomk/quantile; ``value_label`` that of count_values."""
        self.op = op
        self.operand = operand
        self.param = param
        self.value_label = value_label
        if value_label is not None:
            if not is_label_name(value_label):
                raise PromQLError(f"invalid label name {value_label!r}", construct=op)
            if not without:
                labels = labels + [value_label]
        self.grouping = _Grouping(labels, without)

    def _summed_as_made(self, ctx: Context, get: Grouper, key: Grouper) -> dict[Hashable, float] | None:
        """The group sums of a ``sum`` over ``rate``/``increase``, made without the vector between
        them (the latency and error-ratio rules of every serving drill): None for other operands."""
        operand = self.operand
        if self.value_label is None and isinstance(operand, RangeFunction) and operand.counter:
            return operand.sums(ctx, get, key)
        return None

    def eval(self, ctx: Context) -> Vector:
        key = self.grouping.key
        out_labels = self.grouping.labels
        if self.op == "sum":
            fused = self._summed_as_made(ctx, self.grouping.by_present, key)
            if fused is not None:
                return [(out_labels(k), total) for k, total in fused.items()]
        vector = self.operand.eval(ctx)
        param = self.param.eval(ctx) if self.param is not None else math.nan
        if self.value_label is not None:
            label = self.value_label
            vector = [({**labels, label: format_f(v)}, v) for labels, v in vector]
        if self.op == "sum":  # the most common aggregation: one pass, no lists
            get = self.grouping.by_present
            sums: dict[Hashable, float] = {}
            for labels, v in vector:
                try:
                    k = get(labels)
                except KeyError:
                    k = key(labels)
                sums[k] = sums[k] + v if k in sums else v
            return [(out_labels(k), total) for k, total in sums.items()]
        if self.op == "max" or self.op == "min":  # also one pass; NaN only if a group is all NaN
            best: dict[Hashable, float] = {}
            above = self.op == "max"
            get = self.grouping.by_present
            for labels, v in vector:
                try:
                    k = get(labels)
                except KeyError:
                    k = key(labels)
                current = best.get(k)
                if current is None or current != current or (v > current if above else v < current):
                    best[k] = v
            return [(out_labels(k), value) for k, value in best.items()]
        groups: dict[Hashable, Vector] = {}
        for sample in vector:
            k = key(sample[0])
            group = groups.get(k)
            if group is None:
                groups[k] = [sample]
            else:
                group.append(sample)
        if self.op in ("topk", "bottomk"):
            return self._select(groups, param)
        if self.value_label is not None:
            return [(out_labels(k), float(len(ss))) for k, ss in groups.items()]
        reducer = REDUCERS[self.op]
        return [(out_labels(k), reducer([v for _, v in ss], param)) for k, ss in groups.items()]

    def _select(self, groups: dict[Hashable, Vector], k: float) -> Vector:
        if not -_INT64 <= k < _INT64:
            raise PromQLError(f"Scalar value {format_v(k)} overflows int64", construct=self.op)
        count = int(k)
        if count < 1:
            return []
        less = _less_topk if self.op == "topk" else _less_bottomk
        out: Vector = []
        for samples in groups.values():
            out.extend(_select_k(samples, count, less))
        return out
