"""Server-side printing: the ``Table`` kubectl asks for (``as=Table;g=meta.k8s.io``).

Columns are the API server's for each kind. A row's cells are encoded once when its object
changes; ages (``Age(t)`` cells) are filled in per request from the drill's clock, the way the
API server prints them (``HumanDuration``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Age:
    """A cell showing the time since ``t`` (drill seconds)."""

    t: float


def human_duration(seconds: float) -> str:
    """Kubernetes' ``duration.HumanDuration``."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        return f"{hours // 24 // 365}y{rest}d" if rest else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def _column(name: str, type: str = "string", priority: int = 0, format: str = "", description: str = "") -> dict[str, Any]:
    return {"name": name, "type": type, "format": format, "description": description or name, "priority": priority}


_NAME = _column("Name", format="name", description="Name must be unique within a namespace.")
_AGE = _column("Age", description="CreationTimestamp is a timestamp representing the server time when this object was created.")
_WORKLOAD_WIDE = [_column("Containers", priority=1), _column("Images", priority=1), _column("Selector", priority=1)]

COLUMNS: dict[str, list[dict[str, Any]]] = {
    "pods": [_NAME, _column("Ready"), _column("Status"), _column("Restarts", "integer"), _AGE,
             _column("IP", priority=1), _column("Node", priority=1), _column("Nominated Node", priority=1),
             _column("Readiness Gates", priority=1)],
    "nodes": [_NAME, _column("Status"), _column("Roles"), _AGE, _column("Version"), _column("Internal-IP", priority=1),
              _column("External-IP", priority=1), _column("OS-Image", priority=1), _column("Kernel-Version", priority=1),
              _column("Container-Runtime", priority=1)],
    "deployments": [_NAME, _column("Ready"), _column("Up-to-date", "integer"), _column("Available", "integer"), _AGE,
                    *_WORKLOAD_WIDE],
    "replicasets": [_NAME, _column("Desired", "integer"), _column("Current", "integer"), _column("Ready", "integer"), _AGE,
                    *_WORKLOAD_WIDE],
    "daemonsets": [_NAME, _column("Desired", "integer"), _column("Current", "integer"), _column("Ready", "integer"),
                   _column("Up-to-date", "integer"), _column("Available", "integer"), _column("Node Selector"), _AGE,
                   *_WORKLOAD_WIDE],
    "jobs": [_NAME, _column("Status"), _column("Completions"), _column("Duration"), _AGE, *_WORKLOAD_WIDE],
    "events": [_column("Last Seen"), _column("Type"), _column("Reason"), _column("Object"), _column("Subobject", priority=1),
               _column("Source", priority=1), _column("Message"), _column("First Seen", priority=1),
               _column("Count", "integer", priority=1), _column("Name", priority=1)],
    "namespaces": [_NAME, _column("Status"), _AGE],
    "poddisruptionbudgets": [_NAME, _column("Min Available"), _column("Max Unavailable"), _column("Allowed Disruptions", "integer"), _AGE],
}


def encode_cells(cells: list[Any]) -> tuple[bytes | Age, ...]:
    """Cells as JSON fragments, ages left open: join with ``row_cells``."""
    parts: list[bytes | Age] = []
    pending: list[Any] = []
    for cell in cells:
        if isinstance(cell, Age):
            if pending:
                parts.append(json.dumps(pending)[1:-1].encode())
                pending = []
            parts.append(cell)
        else:
            pending.append(cell)
    if pending:
        parts.append(json.dumps(pending)[1:-1].encode())
    return tuple(parts)


def row_cells(parts: tuple[bytes | Age, ...], now: float) -> bytes:
    return b"[" + b",".join(p if isinstance(p, bytes) else b'"' + human_duration(now - p.t).encode() + b'"'
                            for p in parts) + b"]"


def table(resource: str, rows: list[bytes], resource_version: str, version: str = "v1") -> bytes:
    head = json.dumps({"kind": "Table", "apiVersion": f"meta.k8s.io/{version}", "metadata": {"resourceVersion": resource_version},
                       "columnDefinitions": COLUMNS[resource]})
    return head[:-1].encode() + b',"rows":[' + b",".join(rows) + b"]}"
