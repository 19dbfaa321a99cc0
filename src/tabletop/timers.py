"""Callbacks on the SimPy clock, without a process per timer."""

from __future__ import annotations

from collections.abc import Callable

import simpy


def later(env: simpy.Environment, delay: float, action: Callable[[], None]) -> None:
    """Call ``action`` once ``delay`` seconds of virtual time have passed."""
    env.timeout(delay).callbacks.append(lambda _event: action())
