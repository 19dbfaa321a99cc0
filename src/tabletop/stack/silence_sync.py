"""Silences both ways between a drill and its real Alertmanager (``--stack``).

Acknowledgements ride on silences too, as karma does it (``tabletop.pager.alertmanager.ACK``):
acknowledging a page in the drill makes an ``ACK!`` silence of exactly its alerts, expired when
the page resolves, so Alertmanager stops re-notifying its group; an ``ACK!`` silence made beside
the drill acknowledges the pages it covers (in the drill thread, from the recorded event).

From the drill: a ``silence`` command's silence is created in Alertmanager through its API v2
(in the name of who made it, ending when it ends on the drill's clock), and an ``unsilence``
expires it there. From Alertmanager: a silence made beside the drill (``amtool silence add``,
the UI) is polled for and recorded, and so is one expired there. Each answer from
Alertmanager is an ``alertmanager.silence`` event (its id and state), recorded as coming from
outside: a replay learns the same ids at the same moments without any Alertmanager.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from tabletop.pager.alertmanager import ACK, ack_matchers
from tabletop.pager.silences import Silence, api_matchers, from_api_matchers

if TYPE_CHECKING:
    from tabletop.drill.engine import Drill
    from tabletop.pager.pager import Page
    from tabletop.stack.alertmanager import Alertmanager

POLL = 1.0
"""Wall seconds between two reads of Alertmanager's silences."""


class SilenceSync:
    def __init__(self, drill: "Drill", alertmanager: "Alertmanager", wall_time: Callable[[float], float],
                 drill_seconds: Callable[[float], float]) -> None:
        """``wall_time``/``drill_seconds``: the drill's clock (drill seconds ↔ Unix time)."""
        self.drill = drill
        self.alertmanager = alertmanager
        self.wall_time = wall_time
        self.drill_seconds = drill_seconds
        self._created: dict[str, str] = {}
        """Drill silence id → Alertmanager id, for those sent."""
        self._expired: set[str] = set()
        """Alertmanager ids known to be expired there."""
        self._polled = 0.0
        self._seen = 0
        """Timeline events already looked at for acknowledgements."""
        self._acks: dict[str, str] = {}
        """Page id → the Alertmanager id of the silence its acknowledgement made."""

    def step(self) -> None:
        """In the drill thread: send what the drill did, then (every ``POLL``) read what Alertmanager has."""
        for silence in self.drill.silences.all:
            if silence.id not in self._created and silence.alertmanager_id is None and silence.active(self.drill.now):
                self._create(silence)
            am_id = silence.alertmanager_id or self._created.get(silence.id)
            if silence.expired_at is not None and am_id is not None and am_id not in self._expired:
                self._expired.add(am_id)
                self.alertmanager.expire_silence(am_id)
        self._acknowledgements()
        if time.monotonic() - self._polled >= POLL:
            self._polled = time.monotonic()
            self._poll()

    def _acknowledgements(self) -> None:
        events = self.drill.timeline.events
        new, self._seen = events[self._seen:], len(events)
        for event in new:
            page_id = event.data.get("page")
            if event.kind == "page.acknowledged" and event.data.get("via") != "alertmanager" and page_id not in self._acks:
                page = next((p for p in self.drill.pager.pages if p.id == page_id), None)
                if page is not None and page.alerts:
                    self._acknowledge(page, event.data["by"])
            elif event.kind == "page.resolved" and page_id in self._acks:
                am_id = self._acks[page_id]
                if am_id not in self._expired:
                    self._expired.add(am_id)
                    self.alertmanager.expire_silence(am_id)

    def _acknowledge(self, page: "Page", by: str) -> None:
        end = self.drill.scenario.metadata.duration
        am_id = self.alertmanager.create_silence(
            api_matchers(ack_matchers(page)), datetime.now(timezone.utc), _utc(self.wall_time(max(end, self.drill.now + 1))),
            created_by=by, comment=f"{ACK} {page.id} acknowledged in the tabletop drill: {page.title}")
        self._acks[page.id] = am_id
        self._report({"id": am_id, "silence": None, "ack": page.id, "state": "active"})

    def _create(self, silence: Silence) -> None:
        am_id = self.alertmanager.create_silence(
            api_matchers(silence.matchers), datetime.now(timezone.utc), _utc(self.wall_time(silence.ends_at)),
            created_by=silence.created_by, comment=silence.comment or f"tabletop drill silence {silence.id}")
        self._created[silence.id] = am_id
        self._report({"id": am_id, "silence": silence.id, "state": "active"})

    def _poll(self) -> None:
        ours = (set(self._created.values()) | set(self._acks.values())
                | {s.alertmanager_id for s in self.drill.silences.all if s.alertmanager_id})
        for found in self.alertmanager.silences():
            am_id, state = found["id"], found["status"]["state"]
            if am_id not in ours and state != "expired":
                ours.add(am_id)
                self._report({
                    "id": am_id, "silence": None, "state": state, "matchers": from_api_matchers(found["matchers"]),
                    "starts_at": self.drill_seconds(_unix(found["startsAt"])),
                    "ends_at": self.drill_seconds(_unix(found["endsAt"])),
                    "created_by": found.get("createdBy", ""), "comment": found.get("comment", ""),
                })
            elif am_id in ours and state == "expired" and am_id not in self._expired and am_id not in self._acks.values():
                self._expired.add(am_id)
                self._report({"id": am_id, "silence": self._drill_id(am_id), "state": "expired"})

    def _drill_id(self, am_id: str) -> str | None:
        return next((s for s, a in self._created.items() if a == am_id), None)

    def _report(self, data: dict[str, Any]) -> None:
        self.drill.submit_event(self.drill.now, "alertmanager.silence", data)


def _utc(unix: float) -> datetime:
    return datetime.fromtimestamp(unix, timezone.utc)


def _unix(text: str) -> float:
    """An RFC 3339 time of Alertmanager's (up to nanoseconds) as Unix time."""
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    return datetime.fromisoformat(text).timestamp()
