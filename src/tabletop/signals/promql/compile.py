"""From promql-parser's AST to evaluator nodes, refusing what tabletop does not evaluate.

One walk over the tree both builds the nodes and refuses unsupported constructs (subqueries,
``@``, native-histogram and experimental functions, Prometheus 3 syntax), each named and, where
the token can be found in the text, located.
"""

from __future__ import annotations

import re

import promql_parser as pp

from tabletop.signals.promql.aggregation import OPERATORS, Aggregate
from tabletop.signals.promql.binary import (
    ARITHMETIC,
    COMPARISON,
    MANY_TO_ONE,
    ONE_TO_MANY,
    ONE_TO_ONE,
    SET_OPERATORS,
    Matching,
    ScalarBinary,
    SetOperation,
    VectorBinary,
    VectorScalarBinary,
)
from tabletop.signals.promql.errors import PromQLError, locate, refusal
from tabletop.signals.promql.functions import (
    MATH,
    Absent,
    Clamp,
    LabelJoin,
    LabelReplace,
    MathFunction,
    Round,
    ScalarOf,
    Sort,
    Time,
    Timestamp,
    VectorOf,
)
from tabletop.signals.promql.histogram import HistogramQuantile
from tabletop.signals.promql.labels import NAME
from tabletop.signals.promql.nodes import SCALAR, Negation, Node, Number, String
from tabletop.signals.promql.range_functions import KERNELS, AbsentOverTime, RangeFunction
from tabletop.signals.promql.selectors import LabelTest, RangeSelector, Selector, VectorSelector, label_test

# promql-parser's enums are not hashable: look them up by their str().
_MATCH_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}
_CARDINALITY = {
    "VectorMatchCardinality.OneToOne": ONE_TO_ONE,
    "VectorMatchCardinality.ManyToOne": MANY_TO_ONE,
    "VectorMatchCardinality.OneToMany": ONE_TO_MANY,
    "VectorMatchCardinality.ManyToMany": ONE_TO_ONE,  # set operators ignore it
}
_CALENDAR = frozenset(
    "minute hour day_of_week day_of_month day_of_year days_in_month month year".split()
)
SUPPORTED_FUNCTIONS = frozenset(KERNELS) | frozenset(MATH) | {
    "absent", "absent_over_time", "clamp", "clamp_max", "clamp_min", "histogram_quantile",
    "label_join", "label_replace", "round", "scalar", "sort", "sort_desc", "time", "timestamp",
    "vector",
}  # fmt: skip


def _seconds(delta) -> float:
    return delta.total_seconds() if delta is not None else 0.0


def _unparen(expr):
    while isinstance(expr, pp.ParenExpr):
        expr = expr.expr
    return expr


def syntax_error(text: str, exc: Exception) -> PromQLError:
    """promql-parser's message, located at the identifier it quotes when there is one."""
    message = str(exc)
    quoted = re.search(r"'(\w+)'", message)
    where = locate(text, rf"\b{re.escape(quoted.group(1))}\b") if quoted else None
    line, column = where if where else (None, None)
    return PromQLError(message, construct="syntax", line=line, column=column)


class Compiler:
    """Compiles one expression; ``metric_names`` collects the names its selectors use and
    ``any_name`` notes a selector without one (it may select any name)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.metric_names: set[str] = set()
        self.any_name = False

    def _refuse(self, message: str, construct: str, pattern: str | None = None) -> PromQLError:
        return refusal(self.text, message, construct, pattern)

    def compile(self, expr) -> Node:
        if isinstance(expr, pp.NumberLiteral):
            return Number(expr.val)
        if isinstance(expr, pp.StringLiteral):
            return String(expr.val)
        if isinstance(expr, pp.ParenExpr):
            return self.compile(expr.expr)
        if isinstance(expr, pp.UnaryExpr):
            return Negation(self.compile(expr.expr))
        if isinstance(expr, pp.VectorSelector):
            return VectorSelector(self._selector(expr), _seconds(expr.offset))
        if isinstance(expr, pp.MatrixSelector):  # range functions take theirs via _range()
            raise self._refuse(
                "a range vector cannot be the result of a query; apply a function such as rate()",
                "range vector result",
                r"\[",
            )
        if isinstance(expr, pp.SubqueryExpr):
            raise self._refuse("subqueries are not supported", "subquery", r"\[[^\]\[]*:")
        if isinstance(expr, pp.Call):
            return self._call(expr)
        if isinstance(expr, pp.AggregateExpr):
            return self._aggregate(expr)
        if isinstance(expr, pp.BinaryExpr):
            return self._binary(expr)
        raise self._refuse(f"{type(expr).__name__} is not supported", type(expr).__name__)

    # selectors ------------------------------------------------------------------------------
    def _selector(self, vs) -> Selector:
        if vs.at is not None:
            raise self._refuse("the @ modifier is not supported", "@ modifier", r"@")
        if vs.matchers.or_matchers:
            raise self._refuse(
                "'or' between label matchers is not supported",
                "or matcher",
                r"\{[^{}]*?\b(?P<at>or)\b",
            )
        name = vs.name
        tests: list[tuple[str, LabelTest]] = []
        for m in vs.matchers.matchers:
            op = _MATCH_OPS[str(m.op)]
            if m.name == NAME and op == "=" and name is None:
                name = m.value
                continue
            try:
                tests.append((m.name, label_test(op, m.value)))
            except PromQLError as exc:
                raise self._refuse(exc.message, "regex", rf"\b{re.escape(m.name)}\s*[=!]~") from None
        if name is not None:
            self.metric_names.add(name)
        else:
            self.any_name = True
        return Selector(name, tests)

    def _range(self, expr) -> RangeSelector:
        if isinstance(expr, pp.SubqueryExpr):
            raise self._refuse("subqueries are not supported", "subquery", r"\[[^\]\[]*:")
        vs = expr.vector_selector  # the parser checked that this argument is a range vector
        return RangeSelector(self._selector(vs), _seconds(expr.range), _seconds(vs.offset))

    # functions ------------------------------------------------------------------------------
    def _call(self, call) -> Node:
        name = call.func.name
        at = rf"\b{name}\s*\("
        if name not in SUPPORTED_FUNCTIONS:
            if name in _CALENDAR:
                why = "it reads the calendar, and a drill's clock is virtual"
            elif name.startswith("histogram_"):
                why = "native histograms are not supported"
            else:
                why = "it is not supported"
            raise self._refuse(f"function {name}() cannot be used: {why}", name, at)
        raw = [_unparen(a) for a in call.args]
        try:
            return self._function(name, raw)
        except PromQLError as exc:
            if exc.column is not None:
                raise
            raise self._refuse(exc.message, exc.construct or name, at) from None

    def _function(self, name: str, raw: list) -> Node:
        if name in KERNELS or name == "absent_over_time":
            index = 1 if name == "quantile_over_time" else 0
            matrix = self._range(raw[index])
            if name == "absent_over_time":
                return AbsentOverTime(matrix, _absent_labels(raw[0]))
            params = [self.compile(a) for i, a in enumerate(raw) if i != index]
            param = params[0] if params else None
            return RangeFunction(KERNELS[name], matrix, param, keep_name=name == "last_over_time")
        args = [self.compile(a) for a in raw]
        if name == "absent":
            return Absent(args[0], _absent_labels(raw[0]))
        if name in MATH:
            return MathFunction(MATH[name], args[0])
        if name == "label_replace":
            return LabelReplace(args[0], *(a.val for a in raw[1:]))
        if name == "label_join":
            return LabelJoin(args[0], raw[1].val, raw[2].val, [a.val for a in raw[3:]])
        factories = {
            "round": lambda: Round(args[0], args[1] if len(args) > 1 else None),
            "clamp": lambda: Clamp(args[0], args[1], args[2]),
            "clamp_min": lambda: Clamp(args[0], args[1], None),
            "clamp_max": lambda: Clamp(args[0], None, args[1]),
            "timestamp": lambda: Timestamp(args[0]),
            "time": Time,
            "vector": lambda: VectorOf(args[0]),
            "scalar": lambda: ScalarOf(args[0]),
            "sort": lambda: Sort(args[0], descending=False),
            "sort_desc": lambda: Sort(args[0], descending=True),
            "histogram_quantile": lambda: HistogramQuantile(args[0], args[1]),
        }
        return factories[name]()

    # aggregations ---------------------------------------------------------------------------
    def _aggregate(self, agg) -> Node:
        op = str(agg.op)
        if op not in OPERATORS:
            raise self._refuse(f"aggregation {op}() is not supported", op, rf"\b{op}\b")
        operand = self.compile(agg.expr)
        labels, without = [], False
        if agg.modifier is not None:
            labels = list(agg.modifier.labels)
            without = agg.modifier.type == pp.AggModifierType.Without
        try:
            if op == "count_values":
                return Aggregate(op, operand, labels, without, None, _unparen(agg.param).val)
            param = self.compile(agg.param) if agg.param is not None else None
            return Aggregate(op, operand, labels, without, param)
        except PromQLError as exc:
            raise self._refuse(exc.message, op, rf"\b{op}\b") from None

    # binary operators -----------------------------------------------------------------------
    def _binary(self, expr) -> Node:
        op = str(expr.op)
        if op not in ARITHMETIC and op not in COMPARISON and op not in SET_OPERATORS:
            raise self._refuse(f"operator {op} is not supported", op)
        modifier = expr.modifier
        if modifier is not None and (
            modifier.fill_values.lhs is not None or modifier.fill_values.rhs is not None
        ):
            raise self._refuse(
                "fill modifiers are not supported", "fill modifier", r"\bfill(?:_left|_right)?\s*\("
            )
        lhs = self.compile(expr.lhs)
        rhs = self.compile(expr.rhs)
        return_bool = modifier is not None and modifier.return_bool
        if lhs.type == SCALAR and rhs.type == SCALAR:
            return ScalarBinary(op, lhs, rhs)
        if lhs.type == SCALAR:
            return VectorScalarBinary(op, rhs, lhs, swap=True, return_bool=return_bool)
        if rhs.type == SCALAR:
            return VectorScalarBinary(op, lhs, rhs, swap=False, return_bool=return_bool)
        matching = _matching(modifier)
        if op in SET_OPERATORS:
            return SetOperation(op, lhs, rhs, matching)
        return VectorBinary(op, lhs, rhs, matching, return_bool)


def _matching(modifier) -> Matching:
    if modifier is None:
        return Matching(ONE_TO_ONE, False, [], [])
    on, labels = False, []
    if modifier.matching is not None:
        on = modifier.matching.type == pp.LabelModifierType.Include
        labels = list(modifier.matching.labels)
    return Matching(_CARDINALITY[str(modifier.card)], on, labels, list(modifier.group_labels or []))


def _absent_labels(arg) -> dict[str, str]:
    """Labels of absent()'s sample: the selector's ``=`` matchers, minus labels matched otherwise."""
    if isinstance(arg, pp.MatrixSelector):
        arg = arg.vector_selector
    if not isinstance(arg, pp.VectorSelector):
        return {}
    labels: dict[str, str] = {}
    dropped = []
    for m in arg.matchers.matchers:
        if m.name == NAME:
            continue
        if m.op == pp.MatchOp.Equal and m.name not in labels:
            if m.value:
                labels[m.name] = m.value
        else:
            dropped.append(m.name)
    for name in dropped:
        labels.pop(name, None)
    return labels
