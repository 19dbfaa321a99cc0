"""Key indicators for a dashboard, read off the scenario's alerting rules.

An alerting rule written as ``<expression> <comparison> <number>`` (most are) names what to
watch and where the line is: the indicator is the expression, the threshold the number. Their
recent history comes from the series store, so a dashboard opened mid-drill (or after a resume)
shows the past too.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import promql_parser

from tabletop.scenario.rules import RuleGroup
from tabletop.signals.promql import PromQLError, Query, parse_query
from tabletop.signals.store import SeriesStore

COMPARISONS = {">", ">=", "<", "<=", "==", "!="}


@dataclass
class Indicator:
    title: str
    """The alert's name."""
    expr: str
    op: str
    threshold: float
    query: Query
    points: deque[tuple[float, float | None]] = field(default_factory=lambda: deque(maxlen=240))
    """(time, value) at each evaluation; None where the expression returned nothing."""

    @property
    def latest(self) -> float | None:
        return self.points[-1][1] if self.points else None

    def breached(self, value: float | None) -> bool:
        if value is None:
            return False
        return {
            ">": value > self.threshold, ">=": value >= self.threshold, "<": value < self.threshold,
            "<=": value <= self.threshold, "==": value == self.threshold, "!=": value != self.threshold,
        }[self.op]


def indicators_from_rules(groups: list[RuleGroup] | tuple[RuleGroup, ...]) -> list[Indicator]:
    """One indicator per alerting rule of the form ``expr OP number`` (without ``bool``)."""
    found: list[Indicator] = []
    for group in groups:
        for rule in group.rules:
            if rule.alert is None:
                continue
            try:
                tree = promql_parser.parse(rule.expr)
            except ValueError:
                continue
            if not isinstance(tree, promql_parser.BinaryExpr) or str(tree.op) not in COMPARISONS:
                continue
            if tree.modifier is not None and tree.modifier.return_bool:
                continue
            if not isinstance(tree.rhs, promql_parser.NumberLiteral):
                continue
            expr = str(tree.lhs)
            try:
                query = parse_query(expr)
            except PromQLError:
                continue
            found.append(Indicator(rule.alert, expr, str(tree.op), float(tree.rhs.val), query))
    return found


def worst(store: SeriesStore, indicator: Indicator, t: float) -> float | None:
    """The indicator's value at ``t``: the sample furthest over its threshold when it has several."""
    result = indicator.query.instant(store, t)
    if not isinstance(result, list):
        return getattr(result, "value", None)
    values = [sample.value for sample in result]
    if not values:
        return None
    return min(values) if indicator.op in ("<", "<=") else max(values)
