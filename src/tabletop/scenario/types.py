"""Field types shared by the scenario, runbook, rubric and script models."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, PlainSerializer, WithJsonSchema
from pydantic import BaseModel as _PydanticModel

from tabletop.durations import format_duration, parse_duration


class Model(_PydanticModel):
    """Base of every file model: unknown keys are errors, values are not coerced silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _to_seconds(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 5m or 1h30m")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError("expected a duration such as 30s, 5m or 1h30m")


Duration = Annotated[
    float,
    BeforeValidator(_to_seconds),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^(T\+)?(\d+(\.\d+)?(ms|s|m|h|d|w|y))+$"},
                {"type": "number", "minimum": 0},
            ],
            "description": "Duration: a number of seconds or a Prometheus duration such as 90s, 5m, 1h30m",
        }
    ),
]
"""Seconds; written as ``90s``, ``5m``, ``1h30m`` or a number of seconds."""


def _to_utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("expected an ISO 8601 time such as 2026-03-17T08:35:00Z") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    raise ValueError("expected an ISO 8601 time such as 2026-03-17T08:35:00Z")


WallTime = Annotated[
    datetime,
    BeforeValidator(_to_utc),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""An aware datetime (UTC when no zone is given)."""

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _dns_name(value: Any) -> Any:
    if isinstance(value, str) and not _NAME.match(value):
        raise ValueError(
            "expected a Kubernetes-style name: lower-case letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return value


Name = Annotated[str, BeforeValidator(_dns_name), WithJsonSchema({"type": "string", "pattern": _NAME.pattern})]
"""A Kubernetes-style object name (RFC 1123 label)."""
