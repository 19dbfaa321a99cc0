"""One line of text: a note, a status update, a reply, a closing summary."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Input

from tabletop.tui.dialogs.base import Dialog, field


class TextDialog(Dialog[str]):
    def __init__(self, title: str, label: str, *, placeholder: str = "", note: str | Text | None = None,
                 required: bool = True, ok_label: str | None = None, initial: str = "") -> None:
        super().__init__(title, note, ok_label=ok_label)
        self.label = label
        self.placeholder = placeholder
        self.required = required
        self.initial = initial

    def fields(self) -> ComposeResult:
        yield from field(self.label, Input(self.initial, placeholder=self.placeholder, id="text"))

    def on_mount(self) -> None:
        self.query_one("#text", Input).focus()

    def value(self) -> str | None:
        text = self.query_one("#text", Input).value.strip()
        if self.required and not text:
            return self.fail(f"{self.label} is empty")
        return text
