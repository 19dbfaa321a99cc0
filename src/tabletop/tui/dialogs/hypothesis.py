"""State a hypothesis: the fault kind you suspect, the object it is on, and why."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.suggester import SuggestFromList
from textual.widgets import Input, Select

from tabletop.tui.dialogs.base import Dialog, field


@dataclass(frozen=True)
class Hypothesis:
    cause: str
    target: str
    reasoning: str


class HypothesisDialog(Dialog[Hypothesis]):
    def __init__(self, causes: list[tuple[str, str]], targets: list[str]) -> None:
        """``causes``: (fault kind, description); ``targets``: every ``kind/name`` of the fleet."""
        super().__init__("State a hypothesis", "What is the root cause, where, and why do you think so?",
                         ok_label="State it")
        self.causes = causes
        self.targets = targets

    def fields(self) -> ComposeResult:
        options = [(f"{kind} — {text}" if text else kind, kind) for kind, text in self.causes]
        yield from field("Cause", Select(options, prompt="fault kind", compact=True, id="cause", type_to_search=True))
        yield from field("Target", Input(placeholder="kind/name, e.g. node/gpu-a-1 (→ completes)", id="target",
                                         suggester=SuggestFromList(self.targets, case_sensitive=False)))
        yield from field("Reasoning", Input(placeholder="the evidence: alerts, queries, log lines", id="reasoning"))

    def on_mount(self) -> None:
        self.query_one("#cause", Select).focus()

    def value(self) -> Hypothesis | None:
        cause = self.query_one("#cause", Select)
        target = self.query_one("#target", Input).value.strip()
        if cause.is_blank():
            return self.fail("pick a cause")
        if not target:
            return self.fail("name the target, kind/name")
        return Hypothesis(str(cause.value), target, self.query_one("#reasoning", Input).value.strip())
