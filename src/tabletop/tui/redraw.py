"""Redrawing text panels cheaply: Textual lays the whole screen out again after a widget's
content changes, unless told the widget's size cannot have changed."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


def same_shape(before: Text | None, after: Text) -> bool:
    """The same lines of the same lengths (a countdown ticking): the widget keeps its size."""
    return before is not None and [len(line) for line in before.plain.split("\n")] == [
        len(line) for line in after.plain.split("\n")]


def show_text(widget: Static, shown: Text | None, text: Text) -> Text:
    """Put ``text`` in ``widget`` if it differs from what is ``shown``; returns what is shown now."""
    if text != shown:
        widget.update(text, layout=not same_shape(shown, text))
    return text
