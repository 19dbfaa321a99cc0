"""What happens when: the moments of a drill a facilitator should expect, from its timeline."""

from __future__ import annotations

from collections.abc import Sequence

from tabletop.drill.timeline import Event
from tabletop.scoring.describe import describe

_ALWAYS = ("fault.injected", "fault.ended", "page.triggered", "page.escalated", "inject.delivered",
           "rota.shift_change", "chaos.experiment.started", "chaos.experiment.ended")
_FIRST_PER_KEY = {
    "alert.firing": "alertname",
    "slo.breach_start": "slo",
}
MOST = 40
"""Rows at most: a facilitator reads the guide before the drill, not a raw timeline."""


def moments(events: Sequence[Event]) -> tuple[list[tuple[Event, str]], int]:
    """(event, line) of the telling events in order, and how many more were left out."""
    seen: set[tuple[str, str]] = set()
    chosen: list[tuple[Event, str]] = []
    for event in events:
        key = _key(event)
        if key is None or key in seen:
            continue
        seen.add(key)
        chosen.append((event, describe(event)))
    return chosen[:MOST], max(0, len(chosen) - MOST)


def _key(event: Event) -> tuple[str, str] | None:
    """What makes an event worth a row once: None leaves it out."""
    if event.kind in _ALWAYS:
        return event.kind, str(event.seq)
    if event.kind in _FIRST_PER_KEY:
        return event.kind, str(event.data.get(_FIRST_PER_KEY[event.kind]))
    if event.kind == "fleet.event" and event.data.get("type") == "Warning":
        return event.kind, f"{event.data.get('object')}/{event.data.get('reason')}"
    return None
