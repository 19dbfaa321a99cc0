"""Are you sure? (shows exactly the command lines that will run)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from tabletop.tui.dialogs.base import Dialog


class ConfirmDialog(Dialog[bool]):
    BINDINGS = [*Dialog.BINDINGS, Binding("enter", "submit", "Confirm", show=False),
                Binding("y", "submit", "Yes", show=False), Binding("n", "cancel", "No", show=False)]

    def __init__(self, title: str, lines: list[str], *, note: str | Text | None = None, ok_label: str = "Run") -> None:
        super().__init__(title, note, ok_label=ok_label)
        self.lines = lines

    def fields(self) -> ComposeResult:
        if not self.lines:
            yield Static(Text("Enter or y confirms · Esc or n cancels", style="dim"))
            return
        text = Text()
        for index, line in enumerate(self.lines):
            if index:
                text.append("\n")
            text.append("$ ", style="dim")
            text.append(line, style="bold")
        yield Static(text, id="confirm-lines")
        yield Static(Text("Enter or y confirms · Esc or n cancels", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#dialog-ok").focus()

    def value(self) -> bool:
        return True
