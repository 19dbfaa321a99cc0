"""Compiled expression nodes: the evaluation context, the node base class and literals.

A node evaluates to a raw value of its ``type``: a vector is a list of ``(labels, value)``
pairs, a scalar a float, a string a str.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from tabletop.signals.promql.labels import drop_names
from tabletop.signals.store import SeriesStore

VECTOR = "vector"
SCALAR = "scalar"
STRING = "string"


class Context:
    """One evaluation: the store and the (virtual) evaluation time in seconds."""

    __slots__ = ("store", "t")

    def __init__(self, store: SeriesStore, t: float) -> None:
        self.store = store
        self.t = float(t)


class Node(ABC):
    type: str

    @abstractmethod
    def eval(self, ctx: Context) -> Any: ...


class Number(Node):
    type = SCALAR

    def __init__(self, value: float) -> None:
        self.value = value

    def eval(self, ctx: Context) -> float:
        return self.value


class String(Node):
    type = STRING

    def __init__(self, value: str) -> None:
        self.value = value

    def eval(self, ctx: Context) -> str:
        return self.value


class Negation(Node):
    """Unary minus; on a vector it drops the metric name."""

    def __init__(self, operand: Node) -> None:
        self.operand = operand
        self.type = operand.type

    def eval(self, ctx: Context) -> Any:
        value = self.operand.eval(ctx)
        if self.type == SCALAR:
            return -value
        return [(labels, -v) for labels, v in drop_names(value)]
