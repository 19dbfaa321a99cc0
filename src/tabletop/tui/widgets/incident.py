"""Incident state (roles, severity, hypotheses, status cadence) and the participants."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tabletop.scenario.oncall import ROLES, Participant
from tabletop.tui import format as fmt
from tabletop.tui.frame import Frame
from tabletop.tui.frame_view import FrameView
from tabletop.tui.redraw import show_text

MAX_HYPOTHESES = 6
"""Hypotheses listed on the panel, newest last."""
ROLE_LABELS = {"incident_commander": "IC", "ops": "ops", "scribe": "scribe", "comms": "comms"}


class IncidentPanel(FrameView, Vertical):
    """Severity, roles and the status cadence above the hypotheses. The status line's countdown
    changes every tick, so it sits apart from the hypotheses, which are redrawn only when they
    change."""

    DEFAULT_CLASSES = "panel"
    DEFAULT_CSS = """
    IncidentPanel > Static {
        height: auto;
    }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.border_title = "Incident"
        self._state, self._hypotheses = Static("", id="incident-state"), Static("", id="incident-hypotheses")
        self._shown: dict[Static, Text | None] = {self._state: None, self._hypotheses: None}

    def compose(self) -> ComposeResult:
        yield self._state
        yield self._hypotheses

    def show_frame(self, frame: Frame) -> None:
        for part, text in ((self._state, state_text(frame)), (self._hypotheses, hypotheses_text(frame))):
            self._shown[part] = show_text(part, self._shown[part], text)


def state_text(frame: Frame) -> Text:
    incident = frame.incident
    text = Text()
    text.append("severity ", style="dim")
    text.append(incident.severity or "not set", style="bold magenta" if incident.severity else "dim italic")
    if incident.resolved:
        text.append("   RESOLVED", style="bold green")
    text.append("\nroles    ", style="dim")
    for index, role in enumerate(ROLES):
        if index:
            text.append(" · ", style="dim")
        who = incident.roles.get(role)
        text.append(f"{ROLE_LABELS.get(role, role)} ", style="")
        text.append(who or "—", style="bold cyan" if who else "dim")
    text.append("\nstatus   ", style="dim")
    text.append(f"{incident.status_updates} update(s) posted", style="")
    due = incident.status_due_in
    if due is not None:
        if due < 0:
            text.append(f" · OVERDUE by {fmt.countdown(-due)}", style="bold white on red")
        else:
            text.append(" · next due in ", style="dim")
            text.append(fmt.countdown(due), style="bold yellow" if due < 120 else "bold")
    return text


def hypotheses_text(frame: Frame) -> Text:
    """The newest hypotheses; the Timeline tab has every one."""
    hypotheses = frame.incident.hypotheses
    text = Text()
    text.append("hypotheses ", style="dim")
    if not hypotheses:
        text.append("none yet", style="dim italic")
    if len(hypotheses) > MAX_HYPOTHESES:
        text.append(f"({len(hypotheses) - MAX_HYPOTHESES} earlier on the timeline)", style="dim italic")
    for cause, target in hypotheses[-MAX_HYPOTHESES:]:
        text.append(f"\n  • {cause} on {target}", style="")
    return text


class ParticipantsPanel(FrameView, Static):
    DEFAULT_CLASSES = "panel"

    def __init__(self, participants: list[Participant], **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.participants = participants
        self.border_title = "Participants (p: act as)"
        self._key: tuple = ()

    def show_frame(self, frame: Frame) -> None:
        holders = {h for p in frame.open_pages for h in ((p.acked_by,) if p.acked_by else p.holders)}
        roles = {}
        for role, who in frame.incident.roles.items():
            roles.setdefault(who, []).append(ROLE_LABELS.get(role, role))
        key = (frame.acting_as, tuple(sorted(holders)), tuple(sorted((k, tuple(v)) for k, v in roles.items())))
        if key == self._key:
            return
        self._key = key
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(no_wrap=True, width=1)
        table.add_column(no_wrap=True, min_width=max(len(p.id) for p in self.participants) if self.participants else 4)
        table.add_column(overflow="ellipsis", no_wrap=True, ratio=1)
        table.add_column(no_wrap=True)
        for person in self.participants:
            acting = person.id == frame.acting_as
            marks = []
            if person.id in holders:
                marks.append(Text("pager", style="bold white on red"))
            if person.id in roles:
                marks.append(Text(" ".join(roles[person.id]), style="bold cyan"))
            table.add_row(
                Text("▶" if acting else " ", style="bold green"),
                Text(person.id, style="bold green" if acting else "bold"),
                Text(f"{person.name}, {person.title}" if person.title else person.name, style="dim"),
                Text(" ").join(marks),
            )
        self.update(table)
