"""Result types of a query: instant vector samples, scalars, strings and plotted series."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class Sample(NamedTuple):
    """One element of an instant vector; ``labels`` holds ``__name__`` where Prometheus keeps it."""

    labels: dict[str, str]
    value: float


class InstantVector(list[Sample]):
    """The samples of an instant vector, in Prometheus's evaluation order."""


@dataclass(frozen=True, slots=True)
class Scalar:
    value: float


@dataclass(frozen=True, slots=True)
class StringValue:
    value: str


@dataclass(slots=True)
class RangeSeries:
    """One series of a range query: the steps at which it had a value, and those values."""

    labels: dict[str, str]
    ts: list[float]
    vs: list[float]
