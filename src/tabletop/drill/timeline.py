"""The timeline: the append-only record of truth of a drill, as JSON Lines.

Line 1 is a header (format, tabletop version, scenario id/path/hash, seed, responder); every
other line is one event ``{"seq", "t", "at", "kind", "actor", "data"}``. Lines are written and
flushed as events happen, so a run killed at any moment leaves a file that reads back up to its
last complete line. Serialisation is canonical (sorted keys, no spaces, rounded floats) so the
same drill gives the same bytes.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

FORMAT = "tabletop-timeline/1"


@dataclass(frozen=True)
class Event:
    seq: int
    t: float
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    actor: str | None = None
    at: str = ""
    """Wall-clock time of the event in the drill's world (ISO 8601, UTC)."""

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "t": self.t, "at": self.at, "kind": self.kind, "actor": self.actor, "data": self.data}


@dataclass(frozen=True)
class Header:
    scenario_id: str
    scenario_path: str
    scenario_sha256: str
    seed: int
    responder: str
    start: str
    tabletop_version: str
    format: str = FORMAT
    without_faults: bool = False
    """The drill left the scenario's faults out (an exported experiment injects them)."""
    paging: str = "tabletop"
    """Where pages come from: ``tabletop`` (its own rules and routing) or ``alertmanager`` (a
    real Alertmanager's notifications, ``--stack``)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "header",
            "format": self.format,
            "tabletop_version": self.tabletop_version,
            "scenario": {"id": self.scenario_id, "path": self.scenario_path, "sha256": self.scenario_sha256,
                         **({"without_faults": True} if self.without_faults else {})},
            "seed": self.seed,
            "responder": self.responder,
            "start": self.start,
            **({"paging": self.paging} if self.paging != "tabletop" else {}),
        }


def canonical(value: Any) -> Any:
    """Round floats to 6 decimals, write whole floats as ints, make values JSON-safe and stable."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        rounded = round(value, 6)
        return int(rounded) if rounded.is_integer() and abs(rounded) < 2**53 else rounded
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return value


def dumps(obj: dict[str, Any]) -> str:
    return json.dumps(canonical(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Timeline:
    """Events of one drill in memory, mirrored line by line to a file when one is given."""

    def __init__(self, header: Header, path: Path | None = None) -> None:
        self.header = header
        self.events: list[Event] = []
        self._start = datetime.fromisoformat(header.start.replace("Z", "+00:00"))
        self._listeners: list[Callable[[Event], None]] = []
        self._file: IO[str] | None = None
        self.path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("w", encoding="utf-8")
            self._write_line(dumps(header.to_json()))

    def subscribe(self, listener: Callable[[Event], None]) -> None:
        """Call ``listener`` with every event appended from now on."""
        self._listeners.append(listener)

    def append(self, t: float, kind: str, data: dict[str, Any] | None = None, actor: str | None = None) -> Event:
        at = (self._start + timedelta(seconds=round(t, 3))).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        event = Event(len(self.events) + 1, round(t, 3), kind, canonical(data or {}), actor, at)
        self.events.append(event)
        if self._file is not None:
            self._write_line(dumps(event.to_json()))
        for listener in self._listeners:
            listener(event)
        return event

    def _write_line(self, line: str) -> None:
        assert self._file is not None
        self._file.write(line + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None

    def of_kind(self, *kinds: str) -> Iterator[Event]:
        return (e for e in self.events if e.kind in kinds)

    def lines(self) -> list[str]:
        """The canonical file content as lines (header first)."""
        return [dumps(self.header.to_json())] + [dumps(e.to_json()) for e in self.events]

