"""Pick one of a list (participants, severities, messages, runbook steps...)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tabletop.tui.dialogs.base import Dialog


class ChoiceDialog(Dialog[Any]):
    def __init__(self, title: str, choices: list[tuple[str | Text, Any]], *, note: str | Text | None = None,
                 selected: Any = None, ok_label: str = "Choose") -> None:
        super().__init__(title, note, ok_label=ok_label)
        self.choices = choices
        self.selected = selected

    def fields(self) -> ComposeResult:
        yield OptionList(*(Option(label, id=str(index)) for index, (label, _) in enumerate(self.choices)), id="choices")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        values = [value for _, value in self.choices]
        options.highlighted = values.index(self.selected) if self.selected in values else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.finish(self.choices[event.option_index][1])

    def value(self) -> Any:
        highlighted = self.query_one(OptionList).highlighted
        if highlighted is None:
            return self.fail("pick one")
        return self.choices[highlighted][1]
