"""Give someone an incident role."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Select

from tabletop.scenario.oncall import Participant
from tabletop.tui.dialogs.base import Dialog, field

ROLE_NAMES = {"incident_commander": "incident commander", "ops": "operations lead", "scribe": "scribe",
              "comms": "communications lead"}


class AssignDialog(Dialog[tuple[str, str]]):
    def __init__(self, roles: tuple[str, ...], participants: list[Participant], who: str,
                 holders: dict[str, str]) -> None:
        super().__init__("Assign an incident role", ok_label="Assign")
        self.roles = roles
        self.participants = participants
        self.who = who
        self.holders = holders

    def fields(self) -> ComposeResult:
        roles = [(f"{ROLE_NAMES.get(r, r)} ({r})" + (f" — now {self.holders[r]}" if r in self.holders else ""), r)
                 for r in self.roles]
        free = next((r for r in self.roles if r not in self.holders), self.roles[0])
        yield from field("Role", Select(roles, value=free, allow_blank=False, compact=True, id="role"))
        people = [(f"{p.id} — {p.name}", p.id) for p in self.participants]
        yield from field("Who", Select(people, value=self.who, allow_blank=False, compact=True, id="who"))

    def on_mount(self) -> None:
        self.query_one("#role", Select).focus()

    def value(self) -> tuple[str, str]:
        return str(self.query_one("#role", Select).value), str(self.query_one("#who", Select).value)
