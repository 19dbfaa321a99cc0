"""The scenario's runbook: the Markdown as written, and its numbered steps to check off.

Enter on a step runs it (``step N``); steps with placeholders ask for them, steps that change
the fleet ask for confirmation first (the main screen does the asking)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Container
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tabletop.drill.board import StepView
from tabletop.scenario.runbook import Runbook
from tabletop.tui.frame import Frame
from tabletop.tui.frame_view import FrameView
from tabletop.tui.widgets.markdown import LazyMarkdown


class StepList(OptionList):
    DEFAULT_CLASSES = "panel"

    class StepChosen(Message):
        def __init__(self, step: StepView) -> None:
            super().__init__()
            self.step = step

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.border_title = "Steps (Enter runs)"
        self.steps: list[StepView] = []
        self._key: tuple = ()

    def show_frame(self, frame: Frame) -> None:
        key = tuple((s.runbook, s.number, s.done) for s in frame.steps)
        if key == self._key:
            return
        self._key = key
        self.steps = list(frame.steps)
        highlighted = self.highlighted
        several = len({s.runbook for s in self.steps}) > 1
        self.set_options([Option(step_prompt(s, several), id=f"{s.runbook}:{s.number}") for s in self.steps])
        done = sum(1 for s in self.steps if s.done)
        self.border_subtitle = f"{done}/{len(self.steps)} done"
        if self.steps:
            self.highlighted = 0 if highlighted is None else min(highlighted, len(self.steps) - 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(self.StepChosen(self.steps[event.option_index]))


def step_prompt(step: StepView, show_runbook: bool) -> Text:
    text = Text(no_wrap=False)
    text.append("[x] " if step.done else "[ ] ", style="bold green" if step.done else "bold")
    if show_runbook:
        text.append(f"{step.runbook} ", style="dim")
    text.append(f"{step.number}. ", style="bold")
    text.append(step.title, style="dim" if step.done else "")
    for name in step.placeholders:
        text.append(f" <{name}>", style="cyan")
    if step.changes_fleet:
        text.append(" ⚠ changes fleet", style="yellow")
    return text


class RunbookView(FrameView, Container):
    DEFAULT_CLASSES = "runbook"

    def __init__(self, runbooks: list[Runbook], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.runbooks = runbooks

    def compose(self) -> ComposeResult:
        self.step_list = StepList(id="steps")
        yield self.step_list
        text = "\n\n---\n\n".join(r.text for r in self.runbooks) or "_This scenario has no runbook._"
        markdown = LazyMarkdown(text, markdown_id="runbook-markdown", id="runbook-text", classes="panel")
        markdown.border_title = "Runbook"
        yield markdown

    def show_frame(self, frame: Frame) -> None:
        steps = getattr(self, "step_list", None)
        if steps is not None and steps.is_mounted:
            steps.show_frame(frame)
