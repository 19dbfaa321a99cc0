"""A parsed query and its evaluation at one instant or over a range of steps."""

from __future__ import annotations

import promql_parser

from tabletop.signals.promql.compile import Compiler, syntax_error
from tabletop.signals.promql.errors import PromQLError
from tabletop.signals.promql.nodes import SCALAR, STRING, Context, Node
from tabletop.signals.promql.values import InstantVector, RangeSeries, Sample, Scalar, StringValue
from tabletop.signals.store import SeriesStore, label_key


def parse_query(text: str) -> Query:
    """Parse ``text``; PromQLError for bad syntax and for every construct tabletop refuses."""
    try:
        ast = promql_parser.parse(text)
    except ValueError as exc:
        raise syntax_error(text, exc) from None
    compiler = Compiler(text)
    root = compiler.compile(ast)
    return Query(text, root, frozenset(compiler.metric_names), any_name=compiler.any_name)


class Query:
    """A query ready to be evaluated against a series store, at any virtual time."""

    def __init__(self, text: str, root: Node, metric_names: frozenset[str], *, any_name: bool = False) -> None:
        self.text = text
        self._root = root
        self._metric_names = metric_names
        self.any_name = any_name
        """Whether a selector has no metric name (``{job="x"}``, ``{__name__=~"..."}``): the
        query may read series of any name."""

    @property
    def value_type(self) -> str:
        """``"vector"``, ``"scalar"`` or ``"string"``."""
        return self._root.type

    def metric_names(self) -> set[str]:
        """Metric names the query's selectors name (by name or by ``__name__="..."``)."""
        return set(self._metric_names)

    def instant(self, store: SeriesStore, t: float) -> InstantVector | Scalar | StringValue:
        """The value at time ``t``; PromQLError if evaluation fails (e.g. ambiguous matching)."""
        value = self._root.eval(Context(store, t))
        if self._root.type == SCALAR:
            return Scalar(value)
        if self._root.type == STRING:
            return StringValue(value)
        return InstantVector(Sample(dict(labels), v) for labels, v in value)

    def range(self, store: SeriesStore, start: float, end: float, step: float) -> list[RangeSeries]:
        """The query evaluated at ``start``, ``start + step``... up to ``end``, one series per
        label set, sorted by label set (a scalar gives one series without labels)."""
        if self._root.type == STRING:
            raise PromQLError("a string query has no range of values", construct="string")
        if step <= 0:
            raise ValueError("step must be positive")
        series: dict[tuple, RangeSeries] = {}
        steps = int((end - start) / step + 1e-9) + 1
        for i in range(steps):
            t = start + i * step
            value = self._root.eval(Context(store, t))
            samples = [({}, value)] if self._root.type == SCALAR else value
            for labels, v in samples:
                key = label_key(labels)
                found = series.get(key)
                if found is None:
                    found = series[key] = RangeSeries(dict(labels), [], [])
                found.ts.append(t)
                found.vs.append(v)
        return [series[key] for key in sorted(series)]
