"""A timeline event as styled lines of a given width, wrapped once when it arrives.

Drill time and actor come first; what happened wraps under itself (a hanging indent keeps the
time and actor columns clear), or under the whole line when the width leaves too little room.
Rendering a Rich ``Text`` through the console for every new event was the console's costliest
step per tick; this builds the strips directly and uses Rich's own word-division rule."""

from __future__ import annotations

from functools import lru_cache

from rich._wrap import divide_line  # Rich's word wrapper, the one Text.wrap uses
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tabletop.drill.timeline import Event
from tabletop.scoring.describe import describe
from tabletop.tui.format import clock, kind_style

ACTOR_WIDTH = 8
MIN_BODY_WIDTH = 16
"""Below this many columns beside the time and actor, the event wraps under the whole line."""

Run = tuple[str, str]
"""A piece of text and the name of its style."""


def event_runs(event: Event) -> list[Run]:
    """What happened, as styled runs (without the time and actor)."""
    if event.kind == "command":
        data = event.data
        result = (f"  → {data.get('message', '')}", "green") if data.get("ok") else (
            f"  ✗ refused: {data.get('message', '')}", "red")
        return [(f"$ {data.get('line', '')}", "bold"), result]
    return [(describe(event), kind_style(event.kind))]


def event_strips(event: Event, width: int, base: Style) -> list[Strip]:
    """The event's lines, each exactly ``width`` cells, styled over ``base`` (the log's own style)."""
    width = max(1, width)
    actor = (event.actor or "·")[:ACTOR_WIDTH]
    head: list[Run] = [(clock(event.t), "dim"), (" ", ""), (actor.ljust(ACTOR_WIDTH), "bold cyan" if event.actor else "dim"),
                       (" ", "")]
    body = event_runs(event)
    indent = sum(cell_len(text) for text, _ in head)
    if width - indent >= MIN_BODY_WIDTH:
        lines = wrap(body, width - indent)
        lines = [head + lines[0], *([(" " * indent, "")] + line for line in lines[1:])]
    else:
        lines = wrap(head + body, width)
    return [to_strip(line, width, base) for line in lines]


def wrap(runs: list[Run], width: int) -> list[list[Run]]:
    """Word-wrap styled runs at ``width`` cells; a newline in the text always breaks."""
    plain = "".join(text for text, _ in runs)
    spans: list[tuple[int, int]] = []
    start = 0
    for paragraph in plain.split("\n"):
        cuts = divide_line(paragraph, width, fold=True) if cell_len(paragraph) > width else []
        bounds = [0, *cuts, len(paragraph)]
        spans.extend((start + a, start + b) for a, b in zip(bounds, bounds[1:]))
        start += len(paragraph) + 1
    return [slice_runs(runs, a, b) for a, b in spans]


def slice_runs(runs: list[Run], start: int, end: int) -> list[Run]:
    """The part of the runs between two offsets of their joined text."""
    pieces: list[Run] = []
    offset = 0
    for text, style in runs:
        stop = offset + len(text)
        if stop > start and offset < end:
            piece = text[max(0, start - offset):end - offset]
            if piece:
                pieces.append((piece, style))
        offset = stop
        if offset >= end:
            break
    return pieces


@lru_cache(maxsize=256)
def styled(name: str, base: Style) -> Style:
    return base + Style.parse(name) if name else base


def to_strip(runs: list[Run], width: int, base: Style) -> Strip:
    segments = [Segment(text, styled(style, base)) for text, style in runs if text]
    length = sum(cell_len(segment.text) for segment in segments)
    if length < width:
        segments.append(Segment(" " * (width - length), base))
        return Strip(segments, width)
    return Strip(segments, length).crop(0, width) if length > width else Strip(segments, width)
