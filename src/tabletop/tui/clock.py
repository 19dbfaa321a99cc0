"""The console's clock: virtual time moved on from wall time × speed, by a timer.

The clock only measures wall time; ``DrillSession.advance`` turns it into virtual time (and
does nothing while paused). The wall source is injectable, so a test can drive the clock by
hand, or not run it at all and move virtual time with ``session.advance_to``. The facilitator
skips ahead with ``session.advance_to`` too, to a time chosen here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from tabletop.drill.board import UpcomingView
from tabletop.drill.session import SPEEDS, DrillSession

MAX_STEP = 2.0
"""Wall seconds one tick may account for at most (a suspended terminal does not jump the drill)."""


class DrillClock:
    def __init__(self, session: DrillSession, wall: Callable[[], float] = time.monotonic) -> None:
        self.session = session
        self.wall = wall
        self._last = wall()

    def tick(self) -> float:
        """Advance the drill by the wall time since the last tick; returns that wall time."""
        now = self.wall()
        elapsed = min(max(0.0, now - self._last), MAX_STEP)
        self._last = now
        self.session.advance(elapsed)
        return elapsed


def faster(speed: float) -> float:
    """The next offered speed above ``speed`` (the fastest stays)."""
    return next((s for s in SPEEDS if s > speed), SPEEDS[-1])


def slower(speed: float) -> float:
    """The next offered speed below ``speed`` (the slowest stays)."""
    return next((s for s in reversed(SPEEDS) if s < speed), SPEEDS[0])


SKIP_LEAD = 5.0
"""Seconds before the next scheduled message that "skip to the next message" stops at."""
SKIP_AMOUNTS = ("1m", "5m", "15m", "30m", "1h")
"""What "skip ahead" offers."""


def next_message_stop(now: float, upcoming: Sequence[UpcomingView]) -> tuple[float, UpcomingView] | None:
    """Just before the earliest scheduled message still more than ``SKIP_LEAD`` ahead, and that
    message; None when none is (messages waiting for a condition have no time to skip to)."""
    for message in upcoming:
        if message.at is not None and message.at - SKIP_LEAD > now:
            return message.at - SKIP_LEAD, message
    return None


class ClockKeys:
    """The clock's key actions, shared by the screens that offer them (run/pause, faster, slower)."""

    app: Any

    def action_toggle_clock(self) -> None:
        self.app.toggle_clock()

    def action_faster(self) -> None:
        self.app.change_speed(+1)

    def action_slower(self) -> None:
        self.app.change_speed(-1)
