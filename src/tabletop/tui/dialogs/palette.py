"""The mitigation palette: every mitigation on every object it applies to, filtered as you type."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from tabletop.tui.dialogs.base import Dialog


@dataclass(frozen=True)
class Mitigation:
    action: str
    target: str
    summary: str

    @property
    def label(self) -> Text:
        return Text.assemble((self.action, "bold"), " ", (self.target, "cyan"), ("  " + self.summary, "dim"))


class MitigationPalette(Dialog[Mitigation]):
    BINDINGS = [*Dialog.BINDINGS, Binding("down", "move(1)", show=False), Binding("up", "move(-1)", show=False)]

    def __init__(self, entries: list[Mitigation]) -> None:
        super().__init__("Mitigations", "Type to filter (e.g. “drain gpu-serve-2”), ↑/↓ to pick, Enter to choose.",
                         ok_label="Choose")
        self.entries = entries
        self.shown: list[Mitigation] = list(entries)

    def fields(self) -> ComposeResult:
        yield Input(placeholder="filter", id="palette-filter")
        yield OptionList(*(Option(e.label) for e in self.entries), id="palette-options")

    def on_mount(self) -> None:
        self.query_one("#palette-filter", Input).focus()
        if self.entries:
            self.query_one(OptionList).highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        event.prevent_default()
        words = event.value.lower().split()
        self.shown = [e for e in self.entries if all(w in f"{e.action} {e.target}".lower() for w in words)]
        options = self.query_one(OptionList)
        options.set_options([Option(e.label) for e in self.shown])
        if self.shown:
            options.highlighted = 0

    def action_move(self, delta: int) -> None:
        options = self.query_one(OptionList)
        if self.shown:
            current = options.highlighted or 0
            options.highlighted = max(0, min(len(self.shown) - 1, current + delta))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.finish(self.shown[event.option_index])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        event.prevent_default()  # not the base class's "next field"
        self.action_submit()

    def value(self) -> Mitigation | None:
        highlighted = self.query_one(OptionList).highlighted
        if not self.shown or highlighted is None:
            return self.fail("nothing matches")
        return self.shown[highlighted]
