"""The error of PromQL parsing and evaluation, and where a construct sits in the query text."""

from __future__ import annotations

import re

_LITERAL = re.compile(r'"(?:[^"\\\n]|\\.)*"?|\'(?:[^\'\\\n]|\\.)*\'?|`[^`]*`?|#[^\n]*')


class PromQLError(ValueError):
    """A query that cannot be evaluated: bad syntax, an unsupported construct or a failed evaluation.

    ``construct`` names what was refused or failed (``"subquery"``, ``"@ modifier"``, a function
    name, ``"syntax"``, ``"vector matching"``...). ``line`` and ``column`` (1-based, inside the
    expression text) are set when the offending token could be located.
    """

    def __init__(
        self,
        message: str,
        *,
        construct: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.construct = construct
        self.line = line
        self.column = column

    def __str__(self) -> str:
        if self.column is None:
            return self.message
        if self.line is not None and self.line > 1:
            return f"line {self.line}, column {self.column}: {self.message}"
        return f"column {self.column}: {self.message}"


def _mask_literals(text: str) -> str:
    """``text`` with the inside of string literals and comments blanked out, same length."""
    return _LITERAL.sub(lambda m: m.group(0)[0] + " " * (len(m.group(0)) - 1), text)


def locate(text: str, pattern: str) -> tuple[int, int] | None:
    """1-based (line, column) of the first match of ``pattern`` outside literals and comments;
    of its group ``at`` when it has one."""
    match = re.search(pattern, _mask_literals(text))
    if match is None:
        return None
    start = match.start("at") if "at" in match.re.groupindex else match.start()
    before = text[:start]
    return before.count("\n") + 1, start - before.rfind("\n")


def refusal(text: str, message: str, construct: str, pattern: str | None) -> PromQLError:
    """A PromQLError for ``construct``, located at ``pattern`` in ``text`` when it matches."""
    where = locate(text, pattern) if pattern else None
    line, column = where if where else (None, None)
    return PromQLError(message, construct=construct, line=line, column=column)
