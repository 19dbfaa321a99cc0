"""The key bar at the bottom: the screen's main keys, drawn once.

Textual's Footer rebuilds itself (a widget per key) on every focus or screen change, which
dominates the console's cost; the keys of a screen do not change, so one line of text does."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Static

from tabletop.tui.keys import key_label


class KeyBar(Static):
    DEFAULT_CLASSES = "key-bar"

    def __init__(self, bindings: list[BindingType], **kwargs: object) -> None:
        super().__init__(keys_text(bindings), **kwargs)  # type: ignore[arg-type]


def keys_text(bindings: list[BindingType]) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    for binding in bindings:
        if isinstance(binding, Binding) and binding.show and binding.description:
            text.append(f" {key_label(binding)} ", style="bold reverse")
            text.append(f" {binding.description} ")
    return text
