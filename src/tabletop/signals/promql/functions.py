"""Functions of instant vectors and scalars (everything but range functions and histogram_quantile)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from tabletop.signals.promql import gofloat
from tabletop.signals.promql.errors import PromQLError
from tabletop.signals.promql.labels import Vector, drop_names, ensure_unique, is_label_name
from tabletop.signals.promql.nodes import SCALAR, VECTOR, Context, Node
from tabletop.signals.promql.regex import compile_regex
from tabletop.signals.promql.selectors import VectorSelector

MATH: dict[str, Callable[[float], float]] = {
    "abs": abs,
    "ceil": gofloat.ceil,
    "floor": gofloat.floor,
    "exp": gofloat.exp,
    "sqrt": gofloat.sqrt,
    "ln": gofloat.ln,
    "log2": gofloat.log2,
    "log10": gofloat.log10,
    "sgn": gofloat.sgn,
}


class MathFunction(Node):
    """A function applied to each value; the metric name is dropped."""

    type = VECTOR

    def __init__(self, fn: Callable[[float], float], operand: Node) -> None:
        self.fn = fn
        self.operand = operand

    def eval(self, ctx: Context) -> Vector:
        fn = self.fn
        return [(labels, fn(v)) for labels, v in drop_names(self.operand.eval(ctx))]


class Round(Node):
    type = VECTOR

    def __init__(self, operand: Node, to_nearest: Node | None) -> None:
        self.operand = operand
        self.to_nearest = to_nearest

    def eval(self, ctx: Context) -> Vector:
        to_nearest = self.to_nearest.eval(ctx) if self.to_nearest is not None else 1.0
        inverse = gofloat.div(1.0, to_nearest)  # Prometheus divides by the inverse (fewer errors)
        return [
            (labels, gofloat.div(gofloat.floor(v * inverse + 0.5), inverse))
            for labels, v in drop_names(self.operand.eval(ctx))
        ]


class Clamp(Node):
    """clamp, clamp_min and clamp_max (a missing bound is None)."""

    type = VECTOR

    def __init__(self, operand: Node, low: Node | None, high: Node | None) -> None:
        self.operand = operand
        self.low = low
        self.high = high

    def eval(self, ctx: Context) -> Vector:
        vector = self.operand.eval(ctx)
        low = self.low.eval(ctx) if self.low is not None else None
        high = self.high.eval(ctx) if self.high is not None else None
        if low is not None and high is not None:
            if high < low:
                return []
            return [(lb, gofloat.fmax(low, gofloat.fmin(high, v))) for lb, v in drop_names(vector)]
        if low is not None:
            return [(lb, gofloat.fmax(v, low)) for lb, v in drop_names(vector)]
        return [(lb, gofloat.fmin(v, high)) for lb, v in drop_names(vector)]


class Timestamp(Node):
    """``timestamp(v)``: a selector's own sample times, otherwise the evaluation time."""

    type = VECTOR

    def __init__(self, operand: Node) -> None:
        self.operand = operand

    def eval(self, ctx: Context) -> Vector:
        operand = self.operand
        if isinstance(operand, VectorSelector):
            out = operand.timestamps(ctx)
            if operand.selector.names_vary:
                ensure_unique(out)
            return out
        return [(labels, ctx.t + ctx.store.epoch) for labels, _ in drop_names(operand.eval(ctx))]


class Time(Node):
    """``time()``: the evaluation time as Unix time."""

    type = SCALAR

    def eval(self, ctx: Context) -> float:
        return ctx.t + ctx.store.epoch


class VectorOf(Node):
    """``vector(s)``: one sample without labels."""

    type = VECTOR

    def __init__(self, operand: Node) -> None:
        self.operand = operand

    def eval(self, ctx: Context) -> Vector:
        return [({}, self.operand.eval(ctx))]


class ScalarOf(Node):
    """``scalar(v)``: the value of a one-element vector, NaN otherwise."""

    type = SCALAR

    def __init__(self, operand: Node) -> None:
        self.operand = operand

    def eval(self, ctx: Context) -> float:
        vector = self.operand.eval(ctx)
        return vector[0][1] if len(vector) == 1 else math.nan


class Absent(Node):
    """``absent(v)``: one sample (labels from the selector's equality matchers) when v is empty."""

    type = VECTOR

    def __init__(self, operand: Node, labels: dict[str, str]) -> None:
        self.operand = operand
        self.labels = labels

    def eval(self, ctx: Context) -> Vector:
        if self.operand.eval(ctx):
            return []
        return [(dict(self.labels), 1.0)]


def _nan_last(v: float) -> tuple[bool, float]:
    return (v != v, v)


def _nan_last_desc(v: float) -> tuple[bool, float]:
    return (v != v, -v)


class Sort(Node):
    """sort / sort_desc; NaN goes last either way."""

    type = VECTOR

    def __init__(self, operand: Node, descending: bool) -> None:
        self.operand = operand
        self.key = _nan_last_desc if descending else _nan_last

    def eval(self, ctx: Context) -> Vector:
        key = self.key
        return sorted(self.operand.eval(ctx), key=lambda sample: key(sample[1]))


def _check_label_name(name: str, what: str, function: str) -> None:
    if not is_label_name(name):
        raise PromQLError(f"invalid {what} label name in {function}(): {name}", construct=function)


_TEMPLATE_REF = re.compile(r"\$(?:(\$)|\{(\w+)\}|(\w+))")


def _expand(template: str, match: re.Match[str]) -> str:
    """Go's Regexp.ExpandString: ``$1``, ``${1}``, ``$name``, ``${name}``, ``$$``; anything else
    after ``$`` stays as written, and a reference to a missing group expands to nothing."""

    def ref(m: re.Match[str]) -> str:
        if m.group(1):
            return "$"
        name = m.group(2) or m.group(3)
        if name.isascii() and name.isdigit() and (len(name) == 1 or name[0] != "0"):
            index = int(name)
            return (match.group(index) or "") if index <= match.re.groups else ""
        if name in match.re.groupindex:
            return match.group(name) or ""
        return ""

    return _TEMPLATE_REF.sub(ref, template)


class LabelReplace(Node):
    type = VECTOR

    def __init__(self, operand: Node, dst: str, replacement: str, src: str, regex: str) -> None:
        _check_label_name(dst, "destination", "label_replace")
        self.operand = operand
        self.dst = dst
        self.replacement = replacement
        self.src = src
        self.pattern = compile_regex(regex)

    def eval(self, ctx: Context) -> Vector:
        out = []
        for labels, value in self.operand.eval(ctx):
            match = self.pattern.fullmatch(labels.get(self.src, ""))
            if match is not None:
                result = _expand(self.replacement, match)
                labels = {k: v for k, v in labels.items() if k != self.dst}
                if result:
                    labels[self.dst] = result
            out.append((labels, value))
        ensure_unique(out)
        return out


class LabelJoin(Node):
    type = VECTOR

    def __init__(self, operand: Node, dst: str, separator: str, sources: list[str]) -> None:
        _check_label_name(dst, "destination", "label_join")
        for source in sources:
            _check_label_name(source, "source", "label_join")
        self.operand = operand
        self.dst = dst
        self.separator = separator
        self.sources = sources

    def eval(self, ctx: Context) -> Vector:
        out = []
        for labels, value in self.operand.eval(ctx):
            joined = self.separator.join(labels.get(s, "") for s in self.sources)
            labels = {k: v for k, v in labels.items() if k != self.dst}
            if joined:
                labels[self.dst] = joined
            out.append((labels, value))
        ensure_unique(out)
        return out
