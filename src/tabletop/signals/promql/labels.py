"""Label-set helpers shared by the evaluator.

Inside the evaluator an instant vector is a list of ``(labels, value)`` pairs. Label dicts are
never mutated once built: selectors hand out the store's own dicts, and every operation that
changes labels builds a new dict.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from tabletop.signals.promql.errors import PromQLError
from tabletop.signals.store import label_key

NAME = "__name__"
Vector = list[tuple[dict[str, str], float]]

_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def is_label_name(text: str) -> bool:
    return _LABEL_NAME.fullmatch(text) is not None


def without_name(labels: dict[str, str]) -> dict[str, str]:
    if NAME not in labels:
        return labels
    return {k: v for k, v in labels.items() if k != NAME}


def ensure_unique(vector: Vector) -> None:
    """Prometheus's check after an operation that changed labels."""
    seen = set()
    for labels, _ in vector:
        key = label_key(labels)
        if key in seen:
            raise PromQLError(
                f"vector cannot contain metrics with the same labelset: {format_labels(labels)}",
                construct="duplicate series",
            )
        seen.add(key)


def drop_names(vector: Vector) -> Vector:
    """``vector`` without metric names; an error if that makes two label sets equal."""
    out = []
    names = set()
    unnamed = False
    for labels, value in vector:
        name = labels.get(NAME)
        if name is None:
            unnamed = True
        else:
            names.add(name)
            labels = {k: v for k, v in labels.items() if k != NAME}
        out.append((labels, value))
    if names and len(names) + unnamed > 1:
        ensure_unique(out)
    return out


def quote(value: str) -> str:
    """Go's ``strconv.Quote`` for the printable strings labels hold."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + '"'


def format_labels(labels: Mapping[str, str]) -> str:
    """A label set as Prometheus prints it in messages: ``{__name__="up", job="api"}``."""
    return "{" + ", ".join(f"{k}={quote(v)}" for k, v in sorted(labels.items())) + "}"
