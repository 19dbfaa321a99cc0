"""The status bar: drill clock, the drill world's wall time, speed, pause, pager alert, who you act as."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tabletop.tui import format as fmt
from tabletop.tui.frame import Frame
from tabletop.tui.frame_view import FrameView
from tabletop.tui.marks import mark
from tabletop.tui.redraw import show_text


class StatusBar(FrameView, Static):
    DEFAULT_CLASSES = "status-bar"

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self._frame: Frame | None = None
        self._shown: Text | None = None

    def on_mount(self) -> None:
        frame = getattr(self.app, "frame", None)
        if frame is not None:
            self.show_frame(frame())

    def show_frame(self, frame: Frame) -> None:
        self._frame = frame
        self._render_frame()

    def on_resize(self) -> None:
        self._render_frame()

    def _render_frame(self) -> None:
        frame = self._frame
        if frame is None:
            return
        text = status_text(frame, self.size.width or 80)
        self._shown = show_text(self, self._shown, text)
        mark(self, "-paging", bool(frame.triggered))


def status_text(frame: Frame, width: int) -> Text:
    """The bar, most important first: clock state, drill time, world wall time, the page, you."""
    wide = width >= 110
    tight = width < 64
    text = Text(no_wrap=True, overflow="ellipsis")
    if frame.ended:
        text.append(" ■ " if tight else " ■ ENDED ", style="bold reverse")
    elif frame.paused:
        text.append(" ⏸ " if tight else " ⏸ PAUSED ", style="bold black on yellow")
    else:
        text.append(" ▶ " if tight else " ▶ RUN ", style="bold black on green")
    if not tight:
        text.append(f" {fmt.speed(frame.speed)} ", style="bold")
    text.append(f" {fmt.clock(frame.now)} ", style="bold")
    text.append(f"{fmt.wall(frame.wall, long=wide)} ", style="")
    triggered = frame.triggered
    if triggered:
        page = triggered[0]
        style = "bold white on red" if not frame.flash else "bold red on white"
        more = f" +{len(triggered) - 1}" if len(triggered) > 1 else ""
        who = "" if tight else f" PAGING {','.join(page.holders)}"
        text.append(" ")
        text.append(f" ⚠ {page.id}{who} {fmt.countdown(page.escalates_in)}{more} ", style=style)
    elif frame.open_pages and not tight:
        page = frame.open_pages[0]
        text.append(" ")
        text.append(f" {page.id} ack {page.acked_by or ','.join(page.holders)} ", style="bold black on dark_orange")
    text.append(f" as {frame.acting_as}", style="bold cyan")
    if frame.incident.severity:
        text.append(f"  {frame.incident.severity}", style="bold magenta")
    if frame.incident.resolved:
        text.append("  RESOLVED", style="bold green")
    if wide and frame.paused and not frame.ended:
        text.append("   space starts the clock", style="dim")
    return text
