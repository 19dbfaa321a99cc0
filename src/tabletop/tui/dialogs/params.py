"""Fill in parameters: a runbook step's placeholders, a mitigation's parameters."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Input, Select

from tabletop.tui.dialogs.base import Dialog, field


@dataclass(frozen=True)
class Param:
    name: str
    hint: str = ""
    required: bool = True
    choices: tuple[tuple[str, str], ...] = ()
    """(label, value) to pick from; free text when empty."""


class ParamsDialog(Dialog[dict[str, str]]):
    def __init__(self, title: str, params: list[Param], *, note: str | Text | None = None, ok_label: str = "Next") -> None:
        super().__init__(title, note, ok_label=ok_label)
        self.params = params

    def fields(self) -> ComposeResult:
        for param in self.params:
            label = param.name + ("" if param.required else " (optional)")
            if param.choices:
                widget = Select(list(param.choices), prompt=f"pick a {param.name}", id=f"param-{param.name}", compact=True,
                                type_to_search=True)
            else:
                widget = Input(placeholder=param.hint or param.name, id=f"param-{param.name}")
            yield from field(label, widget, param.hint if param.choices else "")

    def on_mount(self) -> None:
        if self.params:
            self.query_one(f"#param-{self.params[0].name}").focus()

    def value(self) -> dict[str, str] | None:
        values: dict[str, str] = {}
        for param in self.params:
            widget = self.query_one(f"#param-{param.name}")
            if isinstance(widget, Select):
                text = "" if widget.is_blank() else str(widget.value)
            else:
                text = widget.value.strip()  # type: ignore[attr-defined]
            if not text and param.required:
                return self.fail(f"{param.name} is needed")
            if text:
                values[param.name] = text
        return values
