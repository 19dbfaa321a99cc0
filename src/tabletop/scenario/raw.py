"""Walking a file's raw YAML data: the values a key pattern reaches, with their paths."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tabletop.scenario.problems import PathPart

Path_ = tuple[PathPart, ...]


def each(data: Any, *pattern: PathPart) -> Iterator[tuple[Path_, Any]]:
    """(path, value) of every value ``pattern`` reaches in raw data; ``"*"`` runs over a list."""
    if not pattern:
        yield (), data
        return
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        children = list(enumerate(data)) if isinstance(data, list) else []
    else:
        children = [(head, data[head])] if isinstance(data, dict) and head in data else []
    for key, child in children:
        for path, value in each(child, *rest):
            yield (key,) + path, value


def strings(data: Any, *pattern: PathPart) -> list[str]:
    return [value for _, value in each(data, *pattern) if isinstance(value, str)]
