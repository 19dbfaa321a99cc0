"""Markdown that is parsed and laid out the first time it is shown (a runbook, a postmortem):
the console starts faster and tabs nobody opens cost nothing."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Markdown


class LazyMarkdown(VerticalScroll):
    def __init__(self, text: str, *, markdown_id: str | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.text = text
        self.markdown_id = markdown_id
        self.loaded = False

    def on_show(self) -> None:
        if not self.loaded:
            self.loaded = True
            self.mount(Markdown(self.text, id=self.markdown_id))
