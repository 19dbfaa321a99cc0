"""The console's clock: virtual time moved on from wall time × speed, by a timer.

The clock only measures wall time; ``DrillSession.advance`` turns it into virtual time (and
does nothing while paused). The wall source is injectable, so a test can drive the clock by
hand, or not run it at all and move virtual time with ``session.advance_to``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

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
