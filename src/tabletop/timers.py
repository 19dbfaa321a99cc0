"""Callbacks on the SimPy clock, without a process per timer."""

from __future__ import annotations

from collections.abc import Callable

import simpy


AFTER_SAME_INSTANT = simpy.core.NORMAL + 1
"""Priority of a timer that runs after every ordinary event of its instant (SimPy orders events
of one time by priority, then by when they were scheduled)."""


class _Timer(simpy.Event):
    """A timeout with a chosen priority (``simpy.Timeout`` always has NORMAL); triggered as
    SimPy's own ``Initialize`` is."""

    def __init__(self, env: simpy.Environment, delay: float, priority: int) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, priority, delay)


def later(env: simpy.Environment, delay: float, action: Callable[[], None], priority: int = simpy.core.NORMAL) -> None:
    """Call ``action`` once ``delay`` seconds of virtual time have passed."""
    event = env.timeout(delay) if priority == simpy.core.NORMAL else _Timer(env, delay, priority)
    event.callbacks.append(lambda _event: action())
