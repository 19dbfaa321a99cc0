"""How numbers, times and events are written on screen (presentation only)."""

from __future__ import annotations

from datetime import datetime

from tabletop.durations import format_clock


def clock(t: float) -> str:
    """Drill time, ``T+hh:mm:ss``."""
    return format_clock(t)


def countdown(seconds: float | None) -> str:
    """``mm:ss`` (``h:mm:ss`` past an hour); a negative value is written ``-mm:ss``."""
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    total = int(abs(seconds) + 0.999) if seconds > 0 else int(abs(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h}:{m:02d}:{s:02d}" if h else f"{sign}{m:02d}:{s:02d}"


def wall(moment: datetime, *, long: bool = False) -> str:
    """The drill world's wall clock (never the real one)."""
    return moment.strftime("%a %d %b %H:%M:%S" if long else "%H:%M:%S")


def number(value: float | None) -> str:
    if value is None:
        return "—"
    if value != value:  # NaN
        return "NaN"
    return f"{value:.4g}"


def percent(ratio: float) -> str:
    return f"{ratio * 100:.2f}%"


def speed(x: float) -> str:
    return f"×{x:g}"


def clip(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(0, width - 1)] + "…"


KIND_STYLES = {
    "command": "bold",
    "page.": "bold red",
    "alert.firing": "red",
    "alert.pending": "yellow",
    "alert.resolved": "green",
    "slo.": "magenta",
    "fault.": "bright_magenta",
    "fleet.": "dim",
    "inject.": "bold cyan",
    "note": "italic",
    "status.update": "cyan",
    "hint": "bold yellow",
    "ground_truth.revealed": "bold yellow",
    "incident.resolved": "bold green",
    "drill.": "bold",
}


def kind_style(kind: str) -> str:
    for key, style in KIND_STYLES.items():
        if kind == key or (key.endswith(".") and kind.startswith(key)):
            return style
    return ""
