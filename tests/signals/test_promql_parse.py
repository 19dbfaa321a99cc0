"""Parsing: what is refused, where, and what a parsed query tells about itself."""

from __future__ import annotations

import pytest

from tabletop.signals.promql import PromQLError, parse_query


@pytest.mark.parametrize(
    ("expr", "construct", "column"),
    [
        ("rate(x[5m:1m])", "subquery", 7),
        ("max_over_time(rate(x[5m])[1h:])", "subquery", 26),
        ("x @ 1609746000", "@ modifier", 3),
        ("sum(rate(x[5m] @ end()))", "@ modifier", 16),
        ("hour() > 8", "hour", 1),
        ("sum(histogram_count(rate(x[5m])))", "histogram_count", 5),
        ("mad_over_time(x[5m])", "mad_over_time", 1),
        ("x > 1 and sort_by_label(y, 'a')", "sort_by_label", 11),
        ("limitk(2, x)", "limitk", 1),
        ('x{a="1" or a="2"}', "or matcher", 9),
        ("x + fill(0) y", "fill modifier", 5),
        ('up{job=~"[[:alpha:]]"} == 0', "regex", 4),
        ("x[5m]", "range vector result", 2),
    ],
)
def test_unsupported_constructs_are_refused_and_located(expr: str, construct: str, column: int) -> None:
    with pytest.raises(PromQLError) as err:
        parse_query(expr)
    assert err.value.construct == construct
    assert (err.value.line, err.value.column) == (1, column)
    assert str(err.value).startswith(f"column {column}: ")


def test_constructs_are_located_on_their_line() -> None:
    with pytest.raises(PromQLError) as err:
        parse_query('sum by (job) (\n  rate(x{note="hour("}[5m])\n) > hour()')
    assert (err.value.line, err.value.column) == (3, 5)  # not the "hour(" inside the string
    assert str(err.value).startswith("line 3, column 5: ")


def test_syntax_errors() -> None:
    with pytest.raises(PromQLError) as err:
        parse_query("sum(rate(x[5m])")
    assert err.value.construct == "syntax" and isinstance(err.value, ValueError)
    with pytest.raises(PromQLError) as err:
        parse_query("holt_winters(x[5m], 0.5, 0.5) > 1")  # not known to the parser
    assert err.value.column == 1
    with pytest.raises(PromQLError, match="expected type matrix"):
        parse_query("rate(x)")
    with pytest.raises(PromQLError, match="comparisons between scalars must use BOOL"):
        parse_query("1 > 2")


def test_regex_syntax_re2_rejects_is_refused_in_label_replace() -> None:
    with pytest.raises(PromQLError) as err:
        parse_query('label_replace(up, "a", "$1", "b", "(x)(?=y)")')
    assert err.value.construct == "regex" and err.value.column == 1


def test_metric_names_and_value_type() -> None:
    query = parse_query(
        'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate({__name__="http_requests_total"}[5m]))'
        " > on() group_left vector(scalar(slo_target)) or absent(up)"
    )
    assert query.metric_names() == {"http_requests_total", "slo_target", "up"}
    assert query.value_type == "vector"
    assert parse_query("time() - 5").value_type == "scalar"
    assert parse_query('"text"').value_type == "string"
    assert parse_query("up").text == "up"
