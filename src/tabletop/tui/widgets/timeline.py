"""The live timeline, filterable by kind.

The engine keeps the whole record; this widget keeps at most ``MAX_LINES`` lines, wraps only
the events that arrived since the last refresh, and, when shown again, resized or filtered
differently, rebuilds itself from the newest events of the board."""

from __future__ import annotations

from rich.style import Style
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Select, Static

from tabletop.drill.board import Board
from tabletop.drill.timeline import Event
from tabletop.tui.event_strips import event_strips
from tabletop.tui.frame_view import FrameView, is_displayed

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


class TimelineLog(ScrollView, can_focus=True):
    """A bounded view of the board's timeline, drawn line by line (Textual's line API).

    Lines are wrapped and styled once, for the width and style they are shown at. The view
    follows new events while it is scrolled to the end; scrolled back, it stays on what is
    being read."""

    DEFAULT_CSS = """
    TimelineLog {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: scroll;
        &:focus {
            background-tint: $foreground 5%;
        }
    }
    """

    def __init__(self, board: Board, *, max_lines: int = MAX_LINES, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.board = board
        self.max_lines = max_lines
        self.kinds: set[str] | None = None
        self.lines: list[Strip] = []
        """The lines held, oldest first, each as wide as the log's content."""
        self._seq = 0
        self._dirty = True
        self._width = 0
        self._style = Style()
        self._following = True
        self._answer_shown = False

    def set_filter(self, kinds: set[str] | None) -> None:
        self.kinds = kinds
        self._dirty = True
        self.sync()

    def on_show(self) -> None:
        self._dirty = True
        self.sync()

    def on_resize(self) -> None:
        self.sync()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self._width and self.rich_style != self._style:  # a theme or focus change
            self._dirty = True  # the held lines carry the old style: rebuild them
            self.call_later(self.sync)

    def sync(self) -> None:
        """Add what is new (or rebuild); does nothing while hidden (it rebuilds when shown)."""
        width = self.scrollable_content_region.width
        if not width or not is_displayed(self):
            self._dirty = True
            return
        events = self.board.drill.timeline.events
        if self.board.answer_known != self._answer_shown:  # revealed: the faults join the earlier lines
            self._answer_shown, self._dirty = self.board.answer_known, True
        if self._dirty or width != self._width:
            self._dirty = False
            self._width, self._style = width, self.rich_style
            self.lines = []
            self._following = True
            new = self.board.events(self.kinds, limit=self.max_lines)
        else:
            new = [e for e in events[self._seq:] if matches(e.kind, self.kinds) and self.board.shows(e)]
        self._seq = len(events)
        if new or not self.lines:
            self._add(new[-self.max_lines:])

    def _add(self, events: list[Event]) -> None:
        for event in events:
            self.lines.extend(event_strips(event, self._width, self._style))
        excess = len(self.lines) - self.max_lines
        if excess > 0:
            del self.lines[:excess]
        self.virtual_size = Size(self._width, len(self.lines))
        if self._following:
            self.scroll_end(animate=False, immediate=False, x_axis=False)
        elif excess > 0:  # keep the lines being read in view as older ones go
            self.scroll_to(y=max(0, self.scroll_y - excess), animate=False, immediate=True)
        self.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._following = new_value >= self.max_scroll_y

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        if index < len(self.lines):
            return self.lines[index]
        return Strip.blank(self._width, self._style)


class TimelineView(FrameView, Vertical):
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
