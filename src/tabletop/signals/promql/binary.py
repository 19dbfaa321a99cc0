"""Binary operators: arithmetic, comparisons (with and without ``bool``) and set operators,
between scalars and vectors, with Prometheus's vector matching (``on``, ``ignoring``,
``group_left``, ``group_right``) and its errors for ambiguous matches."""

from __future__ import annotations

import operator
from collections.abc import Callable, Hashable

from tabletop.signals.promql import gofloat, gomath
from tabletop.signals.promql.errors import PromQLError
from tabletop.signals.promql.labels import NAME, Vector, drop_names, format_labels, without_name
from tabletop.signals.promql.nodes import SCALAR, VECTOR, Context, Node
from tabletop.signals.store import label_key

ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": gofloat.div,
    "%": gofloat.mod,
    "^": gofloat.pow_,
    "atan2": gomath.atan2,
}
COMPARISON: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}
SET_OPERATORS = frozenset({"and", "or", "unless"})
_KEEPS_NAME = frozenset({"atan2"})
"""Arithmetic that keeps the metric name (Prometheus drops it for + - * / % ^ only)."""

ONE_TO_ONE, MANY_TO_ONE, ONE_TO_MANY = "one-to-one", "many-to-one", "one-to-many"


class Matching:
    """How two vectors' samples are paired: ``on``/``ignoring`` labels and the cardinality."""

    def __init__(self, card: str, on: bool, labels: list[str], include: list[str]) -> None:
        self.card = card
        self.on = on
        self.labels = sorted(set(labels))
        self.label_set = frozenset(labels)
        self.include = include
        self.excluded = frozenset(labels) | {NAME}

    def signature(self, labels: dict[str, str]) -> Hashable:
        if self.on:
            return tuple([labels.get(n, "") for n in self.labels])
        rest = labels.copy()
        for name in self.excluded:
            rest.pop(name, None)
        return frozenset(rest.items())

    def matched_labels(self, labels: dict[str, str]) -> dict[str, str]:
        if self.on:
            return {n: labels[n] for n in self.labels if n in labels}
        return {k: v for k, v in labels.items() if k not in self.excluded}


class ScalarBinary(Node):
    type = SCALAR

    def __init__(self, op: str, lhs: Node, rhs: Node) -> None:
        self.lhs = lhs
        self.rhs = rhs
        self.arithmetic = ARITHMETIC.get(op)
        self.comparison = COMPARISON.get(op)

    def eval(self, ctx: Context) -> float:
        a = self.lhs.eval(ctx)
        b = self.rhs.eval(ctx)
        if self.arithmetic is not None:
            return self.arithmetic(a, b)
        return 1.0 if self.comparison(a, b) else 0.0


class VectorScalarBinary(Node):
    """A vector and a scalar; ``swap`` when the scalar is the left operand."""

    type = VECTOR

    def __init__(self, op: str, vector: Node, scalar: Node, swap: bool, return_bool: bool) -> None:
        self.vector = vector
        self.scalar = scalar
        self.swap = swap
        self.return_bool = return_bool
        self.arithmetic = ARITHMETIC.get(op)
        self.comparison = COMPARISON.get(op)
        self.drops_name = op not in _KEEPS_NAME

    def eval(self, ctx: Context) -> Vector:
        vector = self.vector.eval(ctx)
        s = self.scalar.eval(ctx)
        fn = self.arithmetic
        if fn is not None:
            if self.drops_name:
                vector = drop_names(vector)
            if self.swap:
                return [(labels, fn(s, v)) for labels, v in vector]
            return [(labels, fn(v, s)) for labels, v in vector]
        cmp = self.comparison
        if self.return_bool:
            if self.swap:
                return [(lb, 1.0 if cmp(s, v) else 0.0) for lb, v in drop_names(vector)]
            return [(lb, 1.0 if cmp(v, s) else 0.0) for lb, v in drop_names(vector)]
        if self.swap:
            return [sample for sample in vector if cmp(s, sample[1])]
        return [sample for sample in vector if cmp(sample[1], s)]


class VectorBinary(Node):
    """Arithmetic or comparison between two vectors."""

    type = VECTOR

    def __init__(
        self, op: str, lhs: Node, rhs: Node, matching: Matching, return_bool: bool
    ) -> None:
        self.lhs = lhs
        self.rhs = rhs
        self.matching = matching
        self.return_bool = return_bool
        self.arithmetic = ARITHMETIC.get(op)
        self.comparison = COMPARISON.get(op)
        self.drops_name = return_bool or (self.arithmetic is not None and op not in _KEEPS_NAME)

    def eval(self, ctx: Context) -> Vector:
        lhs = self.lhs.eval(ctx)
        rhs = self.rhs.eval(ctx)
        if not lhs or not rhs:
            return []
        matching = self.matching
        swapped = matching.card == ONE_TO_MANY
        if swapped:  # the "one" side always ends up on the right
            lhs, rhs = rhs, lhs
        signature = matching.signature
        right: dict[Hashable, tuple[dict[str, str], float]] = {}
        for sample in rhs:
            sig = signature(sample[0])
            if sig in right:
                self._duplicate(right[sig][0], sample[0], "left" if swapped else "right")
            right[sig] = sample
        matched: dict[Hashable, set] = {}
        out = []
        for labels, v in lhs:
            sig = signature(labels)
            other = right.get(sig)
            if other is None:
                continue
            a, b = (other[1], v) if swapped else (v, other[1])
            if self.arithmetic is not None:
                value = self.arithmetic(a, b)
            else:
                keep = self.comparison(a, b)
                if self.return_bool:
                    value = 1.0 if keep else 0.0
                elif keep:
                    value = a
                else:
                    continue
            metric = self._result_labels(labels, other[0])
            seen = matched.get(sig)
            if matching.card == ONE_TO_ONE:
                if seen is not None:
                    raise PromQLError(
                        "multiple matches for labels: many-to-one matching must be explicit "
                        "(group_left/group_right)",
                        construct="vector matching",
                    )
                matched[sig] = set()
            else:
                if seen is None:
                    seen = matched[sig] = set()
                key = label_key(metric)
                if key in seen:
                    raise PromQLError(
                        "multiple matches for labels: grouping labels must ensure unique matches",
                        construct="vector matching",
                    )
                seen.add(key)
            out.append((metric, value))
        return out

    def _result_labels(self, labels: dict[str, str], one: dict[str, str]) -> dict[str, str]:
        """Labels of a result: the "many" side's, adjusted as Prometheus's resultMetric does."""
        matching = self.matching
        if self.drops_name:
            labels = without_name(labels)
        if matching.card == ONE_TO_ONE:
            if matching.on:
                labels = {k: v for k, v in labels.items() if k in matching.label_set}
            elif matching.labels:
                labels = {k: v for k, v in labels.items() if k not in matching.label_set}
        if matching.include:
            labels = dict(labels)
            for name in matching.include:
                value = one.get(name, "")
                if value:
                    labels[name] = value
                else:
                    labels.pop(name, None)
        return labels

    def _duplicate(self, labels: dict[str, str], other: dict[str, str], side: str) -> None:
        group = format_labels(self.matching.matched_labels(other))
        raise PromQLError(
            f"found duplicate series for the match group {group} on the {side} hand-side of the "
            f"operation: [{format_labels(labels)}, {format_labels(other)}];many-to-many matching "
            "not allowed: matching labels must be unique on one side",
            construct="vector matching",
        )


class SetOperation(Node):
    """``and``, ``or``, ``unless``: samples kept or added by whether their signature matches."""

    type = VECTOR

    def __init__(self, op: str, lhs: Node, rhs: Node, matching: Matching) -> None:
        self.op = op
        self.lhs = lhs
        self.rhs = rhs
        self.matching = matching

    def eval(self, ctx: Context) -> Vector:
        lhs = self.lhs.eval(ctx)
        rhs = self.rhs.eval(ctx)
        signature = self.matching.signature
        if self.op == "or":
            if not lhs or not rhs:
                return lhs or rhs
            left = {signature(labels) for labels, _ in lhs}
            return lhs + [s for s in rhs if signature(s[0]) not in left]
        if not lhs or not rhs:
            return [] if self.op == "and" else lhs
        right = {signature(labels) for labels, _ in rhs}
        if self.op == "and":
            return [s for s in lhs if signature(s[0]) in right]
        return [s for s in lhs if signature(s[0]) not in right]
