"""Durations written the way Prometheus writes them: ``90s``, ``5m``, ``1h30m``, ``2d``."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0, "y": 31536000.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w|y))+$")


def parse_duration(text: str) -> float:
    """Seconds in ``text``; raises ValueError with the accepted form when it is not a duration."""
    cleaned = text.strip()
    if cleaned.startswith("T+"):
        cleaned = cleaned[2:]
    if not _WHOLE.match(cleaned):
        raise ValueError(f"{text!r} is not a duration (expected e.g. 90s, 5m, 1h30m)")
    return sum(float(n) * _UNITS[u] for n, u in _PART.findall(cleaned))


def format_duration(seconds: float) -> str:
    """Short human form, e.g. ``1h02m03s``, ``4m``, ``0s``."""
    total = int(round(seconds))
    sign = "-" if total < 0 else ""
    total = abs(total)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{sign}{h}h{m:02d}m{s:02d}s" if s else f"{sign}{h}h{m:02d}m"
    if m:
        return f"{sign}{m}m{s:02d}s" if s else f"{sign}{m}m"
    return f"{sign}{s}s"


def format_clock(seconds: float) -> str:
    """Drill clock form ``T+hh:mm:ss``."""
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"T+{h:02d}:{m:02d}:{s:02d}"
