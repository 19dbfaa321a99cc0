"""One read of the board per refresh, shared by every widget on screen.

Views that only change with the timeline (runbook steps, messages) are read again only when
the timeline has grown; views that change with the clock (pages, alerts, SLOs, incident
deadlines) are read every refresh. Nothing here computes: it only reads ``session.board``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from tabletop.drill.board import AlertView, IncidentView, MessageView, PageView, SloView, StepView
from tabletop.drill.session import DrillSession


@dataclass(frozen=True)
class Frame:
    now: float
    wall: datetime
    paused: bool
    speed: float
    ended: bool
    acting_as: str
    flash: bool
    """Alternates with each live tick (triggered pages blink); always False without a live clock."""
    pages: list[PageView]
    alerts: list[AlertView]
    incident: IncidentView
    slos: list[SloView]
    messages: list[MessageView]
    steps: list[StepView]
    event_count: int

    @property
    def triggered(self) -> list[PageView]:
        return [p for p in self.pages if p.state == "triggered"]

    @property
    def open_pages(self) -> list[PageView]:
        return [p for p in self.pages if p.state != "resolved"]


class FrameSource:
    """Reads the board for each frame. ``Board.incident()`` scans the whole timeline, so it is
    read again only when the timeline has grown; in between, its status deadline is the one it
    gave (``now + status_due_in`` at the read), which nothing but a new event can move."""

    def __init__(self, session: DrillSession) -> None:
        self.session = session
        self._count = -1
        self._messages: list[MessageView] = []
        self._steps: list[StepView] = []
        self._incident: IncidentView | None = None
        self._status_deadline: float | None = None

    def take(self, acting_as: str, flash: bool = False) -> Frame:
        session = self.session
        board = session.board
        count = len(session.drill.timeline.events)
        if count != self._count or self._incident is None:
            self._messages = board.messages()
            self._steps = board.steps()
            self._incident = board.incident()
            due = self._incident.status_due_in
            self._status_deadline = None if due is None else session.now + due
            self._count = count
        incident = self._incident
        if self._status_deadline is not None:
            incident = replace(incident, status_due_in=self._status_deadline - session.now)
        return Frame(
            now=session.now, wall=board.wall(), paused=session.paused, speed=session.speed, ended=session.ended,
            acting_as=acting_as, flash=flash, pages=board.pages(), alerts=board.alerts(), incident=incident,
            slos=board.slos(), messages=self._messages, steps=self._steps, event_count=count,
        )
