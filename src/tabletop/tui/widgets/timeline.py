"""The live timeline, filterable by kind.

The engine keeps the whole record; this widget keeps at most ``MAX_LINES`` lines, writes only
the events that arrived since the last refresh, and, when shown again or filtered differently,
rebuilds itself from the newest events of the board."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import RichLog, Select, Static

from tabletop.drill.board import Board
from tabletop.tui import format as fmt

MAX_LINES = 500

FILTERS: dict[str, set[str] | None] = {
    "all": None,
    "commands": {"command"},
    "pager": {"page.", "rota."},
    "alerts & SLOs": {"alert.", "slo."},
    "incident": {"role.assigned", "severity.set", "note", "status.update", "hypothesis", "incident.resolved",
                 "inject.", "hint", "ground_truth.revealed", "runbook.step", "mitigation.applied"},
    "notes & status": {"note", "status.update"},
    "fleet & faults": {"fleet.", "fault.", "mitigation.applied"},
}


def matches(kind: str, kinds: set[str] | None) -> bool:
    """The filter rule of ``Board.events``: exact kinds, or prefixes ending with a dot."""
    return kinds is None or kind in kinds or any(kind.startswith(k) for k in kinds if k.endswith("."))


class TimelineLog(RichLog):
    """A bounded view of the board's timeline."""

    def __init__(self, board: Board, *, max_lines: int = MAX_LINES, **kwargs: object) -> None:
        super().__init__(max_lines=max_lines, wrap=True, min_width=20, **kwargs)  # type: ignore[arg-type]
        self.board = board
        self.kinds: set[str] | None = None
        self._seq = 0
        self._dirty = True
        self._line_style = Style()

    def set_filter(self, kinds: set[str] | None) -> None:
        self.kinds = kinds
        self._dirty = True
        self.sync()

    def on_show(self) -> None:
        self._dirty = True
        self.sync()

    def on_resize(self) -> None:
        if self._dirty:
            self.sync()

    def sync(self) -> None:
        """Write what is new (or rebuild); does nothing while hidden."""
        events = self.board.drill.timeline.events
        if not self.size.width:
            self._dirty = True
            return
        if self._dirty:
            self._dirty = False
            self.clear()
            new = self.board.events(self.kinds, limit=self.max_lines or MAX_LINES)
        else:
            new = [e for e in events[self._seq:] if matches(e.kind, self.kinds)]
        self._seq = len(events)
        lines = [fmt.event_line(event) for event in new[-(self.max_lines or MAX_LINES):]]
        if lines:
            self.write(Text("\n").join(lines))  # one write: one layout of the log per tick

    def render_lines(self, crop: Region) -> list[Strip]:
        self._line_style = self.rich_style  # once per render: it walks every ancestor
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """RichLog's, with the style of the render under way."""
        scroll_x, scroll_y = self.scroll_offset
        line = self._render_line(scroll_y + y, scroll_x, self.scrollable_content_region.width)
        return line.apply_style(self._line_style)

    def _render_line(self, y: int, scroll_x: int, width: int) -> Strip:
        """RichLog's (Textual 8.2), with the style of the render under way."""
        if y >= len(self.lines):
            return Strip.blank(width, self._line_style)
        key = (y + self._start_line, scroll_x, width, self._widest_line_width)
        if key in self._line_cache:
            return self._line_cache[key]
        line = self.lines[y].crop_extend(scroll_x, scroll_x + width, self._line_style)
        self._line_cache[key] = line
        return line


class TimelineView(Vertical):
    DEFAULT_CLASSES = "timeline"

    def __init__(self, board: Board, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.board = board

    def compose(self) -> ComposeResult:
        with Horizontal(classes="timeline-bar"):
            yield Static("show", classes="timeline-label")
            yield Select([(name, name) for name in FILTERS], value="all", allow_blank=False, compact=True,
                         id="timeline-filter")
            yield Static("t: next filter · the full record stays on disk", classes="timeline-hint")
        self.timeline_log = TimelineLog(self.board, id="timeline-log")
        yield self.timeline_log

    @property
    def log_widget(self) -> TimelineLog:
        return self.query_one(TimelineLog)

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.log_widget.set_filter(FILTERS.get(str(event.value)))

    def next_filter(self) -> str:
        select = self.query_one(Select)
        names = list(FILTERS)
        name = names[(names.index(str(select.value)) + 1) % len(names)]
        select.value = name
        return name

    def show_frame(self, frame: object) -> None:
        log = getattr(self, "timeline_log", None)
        if log is not None and log.is_mounted:
            log.sync()
