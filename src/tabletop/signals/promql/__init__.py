"""PromQL evaluation over tabletop's series store, with Prometheus 2.42 semantics.

``parse_query(text)`` parses and checks an expression once; the returned ``Query`` is then
evaluated at any virtual time with ``instant(store, t)`` or over a range with ``range``.
"""

from tabletop.signals.promql.compile import SUPPORTED_FUNCTIONS
from tabletop.signals.promql.errors import PromQLError
from tabletop.signals.promql.query import Query, parse_query
from tabletop.signals.promql.selectors import LOOKBACK
from tabletop.signals.promql.values import InstantVector, RangeSeries, Sample, Scalar, StringValue

__all__ = [
    "LOOKBACK",
    "SUPPORTED_FUNCTIONS",
    "InstantVector",
    "PromQLError",
    "Query",
    "RangeSeries",
    "Sample",
    "Scalar",
    "StringValue",
    "parse_query",
]
