"""A Chaos Toolkit control that streams an experiment's progress to tabletop as JSON lines.

Declared as a global control (``tabletop.chaos.child`` loads it from its settings, with the
file descriptor to write to as the ``fd`` argument), chaoslib calls it around every activity
of the steady-state hypothesis, the method and the rollbacks. Each line is one object::

    {"event": "activity.started", "activity": NAME, "type": "action", "phase": "method", "provider": {...}, "dry": false}
    {"event": "activity.ended", ..., "status": "succeeded", "output": ..., "error": null, "duration": 0.12}

The drill records them as ``chaos.activity.started`` / ``chaos.activity.ended``. An interrupt
asked for before chaoslib took over the signals (``interrupted``) stops the method at its next
activity; the rollbacks still run.
"""

from __future__ import annotations

import json
import os
import threading
from typing import IO, Any

from chaoslib.exceptions import InterruptExecution
from chaoslib.types import Dry

OUTPUT_LIMIT = 2000
"""Characters of an activity's output kept on the timeline (the journal keeps all of it)."""
ARGUMENT_LIMIT = 500

_lock = threading.Lock()
_stream: IO[str] | None = None
_phase = "hypothesis"
_dry = False
interrupted = threading.Event()
"""Set by the child when it was asked to stop before chaoslib's own signal handlers were in place."""


def emit(event: str, **fields: Any) -> None:
    """Write one line (a no-op when no stream was opened)."""
    line = json.dumps({"event": event, **fields}, default=str, sort_keys=True)
    with _lock:
        if _stream is not None:
            try:
                _stream.write(line + "\n")
                _stream.flush()
            except (OSError, ValueError):
                pass  # tabletop went away; the journal still records everything


def open_stream(fd: int) -> None:
    global _stream
    if _stream is None:
        _stream = os.fdopen(fd, "w", encoding="utf-8", buffering=1, closefd=False)


# chaoslib control hooks ---------------------------------------------------------------------------------
def configure_control(fd: int | None = None, experiment: Any = None, **_: Any) -> None:
    global _dry
    if fd is not None:
        open_stream(int(fd))
    _dry = isinstance(experiment, dict) and isinstance(experiment.get("dry"), Dry)


def before_hypothesis_control(context: Any, **_: Any) -> None:
    global _phase
    _phase = "hypothesis"


def before_method_control(context: Any, **_: Any) -> None:
    global _phase
    _phase = "method"


def after_method_control(context: Any, **_: Any) -> None:
    global _phase
    _phase = "hypothesis"


def before_rollback_control(context: Any, **_: Any) -> None:
    global _phase
    _phase = "rollbacks"


def before_activity_control(context: Any, **_: Any) -> None:
    if interrupted.is_set() and _phase != "rollbacks":
        raise InterruptExecution("tabletop asked the experiment to stop")
    emit("activity.started", **_describe(context))


def after_activity_control(context: Any, state: Any = None, **_: Any) -> None:
    run = state if isinstance(state, dict) else {}
    error = run.get("exception")
    if isinstance(error, list):
        error = "".join(error).strip().splitlines()[-1] if error else None
    status = run.get("status")
    if status is None:  # no run: a signal (SIGUSR1, Ctrl-C) stopped the experiment inside this activity
        status, error = "interrupted", error or "the experiment was interrupted during this activity"
    emit("activity.ended", **_describe(context), status=status, output=_cut(run.get("output"), OUTPUT_LIMIT),
         error=error, duration=round(float(run.get("duration") or 0.0), 3))


def _describe(activity: Any) -> dict[str, Any]:
    activity = activity if isinstance(activity, dict) else {}
    provider = activity.get("provider") if isinstance(activity.get("provider"), dict) else {}
    shown = {k: provider[k] for k in ("type", "module", "func", "url", "method", "path") if k in provider}
    if "arguments" in provider:
        shown["arguments"] = _cut(provider["arguments"], ARGUMENT_LIMIT)
    return {"activity": activity.get("name"), "type": activity.get("type"), "phase": _phase, "provider": shown,
            "dry": _dry}


def _cut(value: Any, limit: int) -> Any:
    """``value`` as JSON, or its JSON text cut to ``limit`` characters when longer (or not JSON)."""
    try:
        text = json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        text = json.dumps(value, default=str, sort_keys=True)
        value = json.loads(text)
    if len(text) <= limit:
        return value
    return text[: limit - 1] + "…"
