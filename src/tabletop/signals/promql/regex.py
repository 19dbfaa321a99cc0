"""Prometheus regular expressions (Go RE2 syntax, fully anchored) as Python patterns.

A pattern is used with ``fullmatch``, which is Prometheus's ``^(?:re)$``. ``re.ASCII`` gives
``\\d``, ``\\w``, ``\\s`` and ``\\b`` RE2's ASCII meaning. Syntax that RE2 rejects but Python
accepts (lookaround, backreferences, ``\\Z``) and syntax that Python would read differently
(POSIX classes such as ``[[:alpha:]]``) is refused rather than evaluated differently.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tabletop.signals.promql.errors import PromQLError

_UNLIKE_RE2 = re.compile(r"\(\?(?:=|!|<=|<!|P=|#)|\\[1-9Z]|\[:\^?[a-z]+:\]")


@lru_cache(maxsize=1024)
def compile_regex(pattern: str) -> re.Pattern[str]:
    """The pattern to ``fullmatch`` label values with; PromQLError if it has no exact equivalent."""
    odd = _UNLIKE_RE2.search(pattern)
    if odd is not None:
        raise PromQLError(
            f"regular expression {pattern!r}: {odd.group(0)!r} is not supported",
            construct="regex",
        )
    try:
        return re.compile(pattern, re.ASCII)
    except re.error as exc:
        raise PromQLError(
            f"regular expression {pattern!r} is not supported: {exc}", construct="regex"
        ) from None
