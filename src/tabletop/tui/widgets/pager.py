"""Pages: who holds each, its state, and the escalation countdown (triggered pages blink)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tabletop.tui import format as fmt
from tabletop.tui.frame import Frame
from tabletop.tui.frame_view import FrameView
from tabletop.tui.marks import mark
from tabletop.tui.redraw import show_text

STATE_STYLE = {"triggered": "bold white on red", "acknowledged": "bold black on dark_orange", "resolved": "dim"}


class PagerPanel(FrameView, Static):
    DEFAULT_CLASSES = "panel"

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.border_title = "Pager"
        self._shown: Text | None = None

    def show_frame(self, frame: Frame) -> None:
        text = pager_text(frame)
        mark(self, "-paging", bool(frame.triggered))
        mark(self, "-flash", frame.flash)
        self._shown = show_text(self, self._shown, text)


def pager_text(frame: Frame) -> Text:
    text = Text()
    if not frame.pages:
        text.append("No pages. Quiet… for now.", style="dim")
        return text
    for index, page in enumerate(reversed(frame.pages)):
        if index:
            text.append("\n")
        style = STATE_STYLE.get(page.state, "")
        if page.state == "triggered" and frame.flash:
            style = "bold red on white"
        text.append(f" {page.id} {page.state.upper()} ", style=style)
        text.append(f" L{page.level} ", style="bold")
        text.append(page.title)
        text.append("\n   ")
        if page.state == "resolved":
            text.append(f"resolved · was {', '.join(page.holders)}", style="dim")
            continue
        holder = page.acked_by if page.state == "acknowledged" and page.acked_by else ", ".join(page.holders)
        text.append("held by ", style="dim")
        text.append(holder, style="bold cyan")
        if page.escalates_in is not None:
            text.append("  escalates in ", style="dim")
            text.append(fmt.countdown(page.escalates_in), style="bold red" if page.escalates_in < 60 else "bold")
        text.append(f"  ({page.policy}, opened {fmt.clock(page.opened_at)})", style="dim")
    return text
