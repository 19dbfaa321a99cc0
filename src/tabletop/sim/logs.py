"""Structured log lines from nodes (kernel, kubelet) and pods (containers), searchable."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LogLine:
    t: float
    source: str
    """``node/<name>`` or ``pod/<name>``."""
    stream: str
    """kernel, kubelet, or the container name."""
    level: str
    message: str


class LogStore:
    def __init__(self) -> None:
        self.lines: list[LogLine] = []

    def add(self, t: float, source: str, stream: str, message: str, level: str = "info") -> None:
        self.lines.append(LogLine(t, source, stream, level, message))

    def search(
        self, pattern: str, *, source: str | None = None, since: float | None = None, until: float | None = None,
        limit: int = 200,
    ) -> list[LogLine]:
        """Newest-last lines whose message or source matches ``pattern`` (regular expression,
        case-insensitive); raises ``re.error`` for a malformed pattern."""
        regex = re.compile(pattern, re.IGNORECASE)
        found = [
            line for line in self.lines
            if (source is None or line.source == source)
            and (since is None or line.t >= since)
            and (until is None or line.t <= until)
            and (regex.search(line.message) or regex.search(line.source))
        ]
        return found[-limit:]
