"""PromQL expressions and rule templates in scenario and rule files, checked where they stand."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from tabletop.scenario.problems import PathPart, Problem, format_path
from tabletop.scenario.raw import Path_, each
from tabletop.scenario.yaml_source import Source
from tabletop.signals.promql import PromQLError, parse_query
from tabletop.signals.templating import check_template

_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def promql_issue(expr: str) -> tuple[str, int | None] | None:
    """(message, 0-based offset in ``expr`` or None) when ``expr`` is not valid PromQL."""
    try:
        parse_query(expr)
    except PromQLError as error:
        offset = None
        if error.column is not None:
            lines = expr.split("\n")
            line = min(max(error.line or 1, 1), len(lines))
            offset = sum(len(text) + 1 for text in lines[: line - 1]) + error.column - 1
        return f"PromQL: {error.message}", offset
    except Exception as error:  # e.g. RecursionError on deep nesting: an answer, not a traceback
        return f"PromQL: {_failure(error)}", None
    return None


def _template_issue(text: str) -> str | None:
    try:
        return check_template(text)
    except Exception as error:  # as for PromQL
        return _failure(error)


def _failure(error: Exception) -> str:
    if isinstance(error, RecursionError):
        return "the expression is nested too deeply"
    return f"the expression cannot be parsed ({type(error).__name__}: {error})"


def promql_problem(expr: str, source: Source, path: Sequence[PathPart]) -> Problem | None:
    """A problem at the offending token of a PromQL expression that does not parse."""
    issue = promql_issue(expr)
    if issue is None:
        return None
    message, offset = issue
    if offset is None:
        return source.problem(path, message)
    line, column = source.offset_position(path, offset)
    return Problem(source.file, line, column, format_path(path), message)


def conditions(source: Source) -> list[Problem]:
    """PromQL of fault, inject and experiment conditions."""
    found = (
        promql_problem(condition, source, path)
        for section in ("faults", "injects", "experiments")
        for path, condition in each(source.data, section, "*", "when", "condition")
        if isinstance(condition, str)
    )
    return [problem for problem in found if problem]


def check_rule_groups(source: Source, path: Sequence[PathPart]) -> list[Problem]:
    """PromQL, names and templates of the rule groups at ``path`` (``groups`` of a rule file,
    ``rules.groups`` of a scenario); every well-formed rule is checked, whatever is wrong with
    its neighbours."""
    problems: list[Problem] = []
    seen: dict[str, Path_] = {}
    for where, name in each(source.data, *path, "*", "name"):
        if isinstance(name, str) and name in seen:
            message = f"duplicate group name {name!r} (first used by {format_path(seen[name][:-1])})"
            problems.append(source.problem(where, message))
        elif isinstance(name, str):
            seen[name] = where
    for where, rule in each(source.data, *path, "*", "rules", "*"):
        if isinstance(rule, dict):
            problems += _rule(source, where, rule)
    return problems


def _rule(source: Source, path: Path_, rule: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    expr, record = rule.get("expr"), rule.get("record")
    if isinstance(expr, str):
        problem = promql_problem(expr, source, path + ("expr",))
        problems += [problem] if problem else []
    if isinstance(record, str) and not _METRIC_NAME.match(record):
        problems.append(source.problem(path + ("record",), f"{record!r} is not a metric name (letters, digits, '_' and ':')"))
    for section in ("labels", "annotations"):
        texts = rule.get(section)
        for name, text in texts.items() if isinstance(texts, dict) else ():
            where = path + (section, name)
            if not _LABEL_NAME.match(name):
                problems.append(source.problem(where, f"{name!r} is not a label name (letters, digits and '_')", key=True))
            error = _template_issue(text) if isinstance(text, str) else None
            if error:
                problems.append(source.problem(where, f"template: {error}"))
    return problems
