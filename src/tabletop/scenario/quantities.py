"""Kubernetes resource quantities (``64Gi``, ``500Mi``, ``2T``) as bytes."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

_SUFFIX = {
    "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50,
}
_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$")


def parse_quantity(text: str) -> float:
    match = _QUANTITY.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a quantity (expected e.g. 512Mi, 64Gi, 2Ti)")
    number, suffix = match.groups()
    return float(number) * _SUFFIX[suffix or ""]


def _to_bytes(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a quantity such as 512Mi, 64Gi or 2Ti")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return parse_quantity(value)
    raise ValueError("expected a quantity such as 512Mi, 64Gi or 2Ti")


Bytes = Annotated[
    float,
    BeforeValidator(_to_bytes),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$"},
                {"type": "number", "minimum": 0},
            ],
            "description": "Bytes, as a number or a Kubernetes quantity such as 64Gi",
        }
    ),
]
