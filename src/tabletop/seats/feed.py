"""What a seat needs to keep its replica equal to the drill: the feed.

The feed is a function of the timeline: its *ops* are, in timeline order, every command
(``{"op": "command", "t", "actor", "line"}``), every event from outside the simulation that a
replay records again (``{"op": "event", "t", "kind", "data", "actor"}``, see
``RecordedResponder``) and the drill's end (``{"op": "end", "t", "reason"}``); op ``i`` is
the ``i``-th of them. A drill served again after ``--resume`` therefore numbers its ops as
before, and a seat carries on from where it was. Beside the ops, the *clock*: drill time,
paused, speed, and a version that moves whenever any of it (or the ops) changes.

``publish`` runs in the drill's thread (after the clock moved or commands ran); readers in the
server's threads wait in ``since``. Every op at or before the published clock time has been
published with it, so a replica may run its drill up to the clock.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from tabletop.drill.responders.scripted import from_outside

if TYPE_CHECKING:
    from tabletop.drill.session import DrillSession
    from tabletop.drill.timeline import Event


def op_of(event: "Event") -> dict[str, Any] | None:
    """The op a timeline event is for a replica, or None when the replica makes it itself."""
    if event.kind == "command":
        return {"op": "command", "seq": event.seq, "t": event.t, "actor": event.actor or "", "line": event.data["line"]}
    if event.kind == "drill.ended":
        return {"op": "end", "seq": event.seq, "t": event.t, "reason": str(event.data.get("reason", "facilitator"))}
    if from_outside(event):
        return {"op": "event", "t": event.t, "kind": event.kind, "data": event.data, "actor": event.actor}
    return None


class Feed:
    def __init__(self) -> None:
        self.ops: list[dict[str, Any]] = []
        self.clock: dict[str, Any] = {"t": 0.0, "paused": True, "speed": 1.0, "ended": False}
        self.version = 0
        self._read = 0
        """Timeline events looked at so far."""
        self._changed = threading.Condition()

    def publish(self, session: "DrillSession") -> None:
        """In the drill's thread: the timeline's new ops and the clock as it is now."""
        events = session.drill.timeline.events
        new = [op for op in (op_of(e) for e in events[self._read:]) if op is not None]
        self._read = len(events)
        clock = {"t": session.now, "paused": session.paused, "speed": session.speed, "ended": session.ended}
        with self._changed:
            if not new and clock == self.clock:
                return
            self.ops.extend(new)
            self.clock = clock
            self.version += 1
            self._changed.notify_all()

    def update(self, after: int) -> dict[str, Any]:
        """The ops from ``after`` on and the clock (as one consistent view)."""
        with self._changed:
            return self._update(after)

    def _update(self, after: int) -> dict[str, Any]:
        after = max(0, after)
        return {"after": after, "ops": self.ops[after:], "clock": {**self.clock, "version": self.version}}

    def since(self, after: int, version: int, timeout: float) -> dict[str, Any]:
        """Wait up to ``timeout`` seconds for ops beyond ``after`` or a clock newer than ``version``;
        the update then (or, on timeout, as it is)."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.ops) > after or self.version != version, timeout)
            return self._update(after)

    def wake_all(self) -> None:
        """Let every waiting reader go (the server is closing)."""
        with self._changed:
            self.version += 1
            self._changed.notify_all()
