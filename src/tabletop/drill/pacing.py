"""A drill against the wall clock: ``speed`` virtual seconds per wall second.

Every ``tick`` of wall time the drill advances to ``elapsed wall × speed`` (rounded to the
millisecond the timeline keeps) and a hook runs, e.g. to publish metrics. The drill is
deterministic in virtual time, so a paced run writes the same timeline as a headless run of
the same scenario, seed and responder. The sleeping lives here, never in the simulation core.

Pacing stops at the drill's duration (reason ``duration``), or, ending the drill with reason
``aborted`` and keeping its timeline, when ``stop`` is set, on Ctrl-C or SIGTERM (caught on the
main thread between steps, so a step always completes), or when the hook raises.

``wake`` (optional) cuts the wait between steps short: whoever sets it (a server thread with a
request for the drill) gets a step, and so a call of ``on_step``, at once instead of at the
next tick.

``started`` (optional) is the ``time.monotonic()`` instant at which the drill's present moment
was current (default: when ``pace`` is called): a live stack that fixed the clock it stamps
samples with keeps the drill on that very clock.

``before_end`` (optional) runs in the drill's thread just before the drill ends, with the
reason it ends with, while Ctrl-C and SIGTERM still only set ``stop``: e.g. to interrupt a
Chaos Toolkit experiment and record its rollbacks before ``drill.ended``. It must not advance
the clock.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tabletop.drill.engine import Drill

TICK = 0.1
"""Wall seconds between steps."""


@contextmanager
def _stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    """On the main thread, Ctrl-C and SIGTERM set ``stop`` instead of raising; handlers restored after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda _sig, _frame: stop.set()) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)


def pace(drill: "Drill", speed: float, *, until: float | None = None, tick: float = TICK,
         on_step: Callable[[], None] | None = None, stop: threading.Event | None = None,
         wake: threading.Event | None = None, before_end: Callable[[str], None] | None = None,
         started: float | None = None) -> str:
    """Run ``drill`` to ``until`` (its scenario's duration by default) at ``speed``; end it.

    Returns the reason the drill ended with: ``duration`` or ``aborted``."""
    if not speed > 0:
        raise ValueError(f"speed must be positive, got {speed}")
    end = drill.scenario.metadata.duration if until is None else until
    stop = stop or threading.Event()
    origin, began = drill.now, time.monotonic() if started is None else started
    finish = began + (end - origin) / speed

    def ending(reason: str) -> str:
        try:
            if before_end is not None:
                before_end(reason)
        finally:
            drill.end(reason)
        return reason

    try:
        with _stopping_on_signals(stop):
            while not stop.is_set():
                step_began = time.monotonic()
                t = min(end, round(origin + (step_began - began) * speed, 3))
                drill.advance_to(t)
                if on_step is not None:
                    on_step()
                if t >= end:
                    return ending("duration")
                pause = max(0.0, min(step_began + tick, finish) - time.monotonic())
                if wake is None:
                    time.sleep(pause)
                else:
                    wake.wait(pause)
                    wake.clear()
            return ending("aborted")
    finally:
        if not drill.ended:
            drill.end("aborted")
