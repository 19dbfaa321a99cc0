"""The shape every dialog shares: a title, an optional note, fields, OK / Cancel.

Enter in a text field moves to the next field and submits from the last one; ctrl+s submits
from anywhere; Escape cancels (the dialog then returns None)."""

from __future__ import annotations

from typing import Generic, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static

from tabletop.tui.frame import Frame
from tabletop.tui.widgets.status import StatusBar

T = TypeVar("T")


class Dialog(ModalScreen[T | None], Generic[T]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "OK"),
    ]
    OK_LABEL = "OK"

    def on_mount(self) -> None:
        refresh = getattr(self.app, "refresh_views", None)
        if refresh is not None:
            refresh()

    def __init__(self, title: str, note: str | Text | None = None, *, ok_label: str | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.note = note
        self.ok_label = ok_label or self.OK_LABEL
        self._finished = False

    def compose(self) -> ComposeResult:
        yield StatusBar()  # the drill goes on while you type: its clock and pages stay in sight
        with Vertical(id="dialog"):
            yield Static(self.title_text, id="dialog-title")
            with VerticalScroll(id="dialog-body"):
                if self.note:
                    yield Static(self.note, id="dialog-note")
                yield from self.fields()
            yield Static("", id="dialog-error")
            with Horizontal(id="dialog-buttons"):
                yield Button(self.ok_label, variant="primary", id="dialog-ok", compact=True)
                yield Button("Cancel", id="dialog-cancel", compact=True)

    def fields(self) -> ComposeResult:
        return iter(())

    def show_frame(self, frame: Frame) -> None:
        for bar in self.query(StatusBar):
            bar.show_frame(frame)

    def value(self) -> T | None:
        """What the dialog returns; None (after ``fail``) keeps it open."""
        raise NotImplementedError

    def fail(self, message: str) -> None:
        self.query_one("#dialog-error", Static).update(Text(message, style="bold red"))
        return None

    def finish(self, result: T | None) -> None:
        """Close with ``result`` (once: a second Enter in the same instant must not pop the screen below)."""
        if not self._finished:
            self._finished = True
            self.dismiss(result)

    def action_submit(self) -> None:
        result = self.value()
        if result is not None:
            self.finish(result)

    def action_cancel(self) -> None:
        self.finish(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "dialog-ok":
            self.action_submit()
        elif event.button.id == "dialog-cancel":
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        inputs = [w for w in self.query(Input) if w.display]
        if inputs and event.input is inputs[-1]:
            self.action_submit()
        else:
            self.focus_next()


def field(label: str, widget: Widget, hint: str = "") -> ComposeResult:
    """A labelled field."""
    yield Label(Text.assemble((label, "bold"), (f"  {hint}" if hint else "", "dim")), classes="field-label")
    yield widget
