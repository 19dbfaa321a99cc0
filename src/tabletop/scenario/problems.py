"""Located problems in input files, and the error that carries them all at once.

Every problem names a file, a line and a column (1-based), the key path inside the file
(``fleet.deployments[0].replicas``; empty where no key applies) and what was expected::

    scenarios/drill.yaml:42:17: fleet.deployments[0].replicas: expected a whole number, got 'six'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
PathPart = str | int
"""One step of a key path: a mapping key or a list index."""

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_path(path: Sequence[PathPart]) -> str:
    """``('fleet', 'deployments', 0, 'replicas')`` as ``fleet.deployments[0].replicas``.

    Keys that are not identifier-like are quoted: ``labels["nvidia.com/gpu.product"]``.
    """
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += '["' + part.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return text


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: int
    path: str
    message: str
    severity: Severity = "error"

    def format(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}:"
        what = f"warning: {self.message}" if self.severity == "warning" else self.message
        return f"{where} {self.path}: {what}" if self.path else f"{where} {what}"

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.column, self.path, self.message)


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Problems sorted by file, line and column, without duplicates."""
    return sorted(set(problems), key=Problem.sort_key)


def count_line(problems: Sequence[Problem]) -> str:
    """``2 errors and 1 warning in 2 files``."""
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    files = len({p.file for p in problems})
    parts = [_plural(errors, "error")] + ([_plural(warnings, "warning")] if warnings else [])
    return f"{' and '.join(parts)} in {_plural(files, 'file')}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def format_problems(problems: Iterable[Problem]) -> str:
    """One line per problem, sorted by file and line, then the count line."""
    ordered = sorted_problems(problems)
    return "\n".join([p.format() for p in ordered] + [count_line(ordered)])


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)


class InputError(Exception):
    """One or more input files are wrong; ``problems`` says where and what was expected."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = sorted_problems(problems)
        super().__init__(format_problems(self.problems))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]
