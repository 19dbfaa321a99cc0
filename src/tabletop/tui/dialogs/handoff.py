"""Hand the pager over with a note: status, actions taken, next steps."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.widgets import Input, Select

from tabletop.scenario.oncall import Participant
from tabletop.tui.dialogs.base import Dialog, field


@dataclass(frozen=True)
class HandoffNote:
    to: str
    status: str
    actions: str
    next: str


class HandoffDialog(Dialog[HandoffNote]):
    def __init__(self, participants: list[Participant], acting_as: str, *, note: str | None = None) -> None:
        super().__init__(f"Hand off your pages ({acting_as})", note, ok_label="Hand off")
        self.participants = [p for p in participants if p.id != acting_as] or participants
        self._warned = False

    def fields(self) -> ComposeResult:
        options = [(f"{p.id} — {p.name}" + (f", {p.title}" if p.title else ""), p.id) for p in self.participants]
        yield from field("To", Select(options, value=options[0][1], allow_blank=False, compact=True, id="to"))
        yield from field("Status", Input(placeholder="where the incident stands: impact, what is known", id="status"))
        yield from field("Actions taken", Input(placeholder="what has been done so far", id="actions"))
        yield from field("Next steps", Input(placeholder="what should happen next, what to watch", id="next"))

    def on_mount(self) -> None:
        self.query_one("#status", Input).focus()

    def value(self) -> HandoffNote | None:
        values = {name: self.query_one(f"#{name}", Input).value.strip() for name in ("status", "actions", "next")}
        missing = [name for name, text in values.items() if not text]
        if missing and not self._warned:
            self._warned = True
            return self.fail(f"the note has no {', '.join(missing)}; OK again hands off without it")
        return HandoffNote(str(self.query_one("#to", Select).value), values["status"], values["actions"], values["next"])
