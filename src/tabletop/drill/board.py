"""What the console shows, read off a running drill: pages, alerts, indicators, SLOs, runbook,
incident state, stakeholder messages and the timeline. Read-only; every number comes from the
engine, so the console computes no domain logic of its own."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tabletop.drill.timeline import Event
from tabletop.signals.indicators import Indicator, indicators_from_rules, worst

if TYPE_CHECKING:
    from tabletop.drill.engine import Drill

DEFAULT_STATUS_INTERVAL = 900.0
ANSWER_KINDS = ("fault.",)
"""Timeline events that give the answer away: the team sees what the faults do (alerts, fleet
events, logs), not the faults themselves, until the ground truth is revealed or the drill ends."""


@dataclass(frozen=True)
class PageView:
    id: str
    title: str
    state: str
    """triggered, acknowledged or resolved."""
    holders: tuple[str, ...]
    level: int
    policy: str
    acked_by: str | None
    escalates_in: float | None
    """Seconds until it moves to the next level unless acknowledged."""
    opened_at: float


@dataclass(frozen=True)
class AlertView:
    name: str
    state: str
    labels: dict[str, str]
    summary: str
    value: float
    since: float


@dataclass(frozen=True)
class SloView:
    id: str
    deployment: str
    objective: float
    sli: float
    """Good ratio over the last five minutes."""
    burned_percent: float
    in_breach: bool


@dataclass(frozen=True)
class StepView:
    runbook: str
    number: int
    title: str
    text: str
    done: bool
    commands: tuple[str, ...]
    placeholders: tuple[str, ...]
    changes_fleet: bool
    """Runs a mitigation: the console asks for confirmation."""


@dataclass(frozen=True)
class MessageView:
    id: str
    sender: str
    channel: str
    text: str
    expects_reply: bool
    replied: bool
    at: float


@dataclass(frozen=True)
class UpcomingView:
    id: str
    sender: str
    at: float | None
    condition: str | None
    after: float


@dataclass(frozen=True)
class IncidentView:
    roles: dict[str, str]
    severity: str | None
    hypotheses: tuple[tuple[str, str], ...]
    status_updates: int
    status_due_in: float | None
    """Seconds until the next status update is due (negative: overdue); None before anyone acknowledged."""
    resolved: bool


class Board:
    def __init__(self, drill: "Drill") -> None:
        self.drill = drill
        self.indicators: list[Indicator] = indicators_from_rules(drill.loaded.rule_groups)
        self.status_interval = next(
            (getattr(c, "interval") for c in drill.loaded.rubric.criteria if c.measure == "status_updates"),
            DEFAULT_STATUS_INTERVAL,
        )
        self.burn: dict[str, deque[tuple[float, float]]] = {s.slo.id: deque(maxlen=240) for s in drill.slo.states}
        """Each SLO's error budget burned so far (percent), at the newest evaluation time of each
        sample (the SLO tracker only knows its budget now: a jump of the clock adds one point)."""
        self.rebind(drill)

    def rebind(self, drill: "Drill") -> None:
        """Show ``drill`` from its start (a seat's replica rebuilt, ``ReplicaSession``): what was
        read of the old one is forgotten, but the indicators and burn histories stay the same
        objects, emptied and sampled again (the console's widgets hold them)."""
        self.drill = drill
        for indicator in self.indicators:
            indicator.points.clear()
        for burned in self.burn.values():
            burned.clear()
        self._sampled_to = -1
        self._read = 0
        self._first_ack: float | None = None
        self._last_status: float | None = None
        self._messages: list[MessageView] = []
        self._answer_known = False
        self.sample()

    # clock --------------------------------------------------------------------------------------
    def wall(self) -> datetime:
        return self.drill.scenario.metadata.start + timedelta(seconds=self.drill.now)

    def sample(self) -> None:
        """Record each indicator's value at every evaluation time passed since the last call."""
        interval = self.drill.scenario.signals.evaluation_interval
        newest = int(self.drill.now // interval)
        first = max(self._sampled_to + 1, newest - 239)
        latest = None
        for k in range(first, newest + 1):
            t = k * interval
            if t >= self.drill.now and k > 0:  # that evaluation has not happened yet
                break
            for indicator in self.indicators:
                indicator.points.append((t, worst(self.drill.store, indicator, t)))
            self._sampled_to, latest = k, t
        if latest is not None:
            for state in self.drill.slo.states:
                self.burn[state.slo.id].append((latest, state.burned_percent()))

    # views ----------------------------------------------------------------------------------------
    def pages(self) -> list[PageView]:
        now = self.drill.now
        return [
            PageView(p.id, p.title, p.state, tuple(p.assignees), p.level + 1, p.policy.id, p.acked_by,
                     None if p.escalates_at is None else max(0.0, p.escalates_at - now), p.opened_at)
            for p in self.drill.pager.pages
        ]

    def alerts(self) -> list[AlertView]:
        return [
            AlertView(a.alertname, a.state, dict(a.labels), a.annotations.get("summary", ""), a.value, a.active_since)
            for a in self.drill.rules.active_alerts()
        ]

    def slos(self) -> list[SloView]:
        return [
            SloView(s.slo.id, s.slo.deployment, s.slo.objective / 100, s.window_ratio(), s.burned_percent(), s.in_breach)
            for s in self.drill.slo.states
        ]

    def steps(self) -> list[StepView]:
        views = []
        for runbook in self.drill.runbooks.values():
            done = set(self.drill.incident.steps_done.get(runbook.id, []))
            for step in runbook.steps:
                lines = tuple(c.line for c in step.commands)
                views.append(StepView(
                    runbook.id, step.number, step.title, step.text, step.number in done, lines,
                    tuple(step.placeholders), any(_changes_fleet(line) for line in lines),
                ))
        return views

    def _catch_up(self) -> None:
        """Read the timeline events appended since the last call (views stay O(new events))."""
        events = self.drill.timeline.events
        for event in events[self._read:]:
            if event.kind == "page.acknowledged" and self._first_ack is None:
                self._first_ack = event.t
            elif event.kind == "status.update":
                self._last_status = event.t
            elif event.kind in ("ground_truth.revealed", "drill.ended"):
                self._answer_known = True
            elif event.kind == "inject.delivered":
                data = event.data
                self._messages.append(MessageView(data["inject"], data["from"], data["channel"], data["message"],
                                                  data["expects_reply"], False, event.t))
        self._read = len(events)

    def incident(self) -> IncidentView:
        self._catch_up()
        incident = self.drill.incident
        since = self._last_status if self._last_status is not None else self._first_ack
        due = None if since is None or incident.resolved else since + self.status_interval - self.drill.now
        return IncidentView(dict(incident.roles), incident.severity, tuple(incident.hypotheses),
                            incident.status_updates, due, incident.resolved)

    def messages(self) -> list[MessageView]:
        self._catch_up()
        replied = self.drill.incident.replied_injects
        return [replace(m, replied=m.id in replied) for m in self._messages]

    def upcoming_messages(self) -> list[UpcomingView]:
        """Stakeholder messages not delivered yet, for the facilitator: due time or condition."""
        injects = self.drill.injects
        pending = [i for i in injects.by_id.values() if i.id not in injects.delivered]
        return sorted(
            (UpcomingView(i.id, i.from_, i.when.at, i.when.condition, i.when.after) for i in pending),
            key=lambda u: (u.at is None, u.at or 0.0, u.id),
        )

    @property
    def answer_known(self) -> bool:
        """The ground truth was revealed or the drill ended: the faults may show."""
        self._catch_up()
        return self._answer_known

    def shows(self, event: Event) -> bool:
        """Whether the team's timeline shows ``event`` now (see ``ANSWER_KINDS``)."""
        return not event.kind.startswith(ANSWER_KINDS) or self.answer_known

    def events(self, kinds: set[str] | None = None, limit: int = 200) -> list[Event]:
        """The newest ``limit`` timeline events the team may see, optionally of some kinds
        (prefixes like ``page.`` work)."""
        found: list[Event] = []
        for event in reversed(self.drill.timeline.events):
            if ((kinds is None or event.kind in kinds or any(event.kind.startswith(k) for k in kinds if k.endswith(".")))
                    and self.shows(event)):
                found.append(event)
                if len(found) >= limit:
                    break
        return found[::-1]


def _changes_fleet(line: str) -> bool:
    return line.startswith(("mitigate ", "kubectl drain", "kubectl cordon", "kubectl uncordon", "kubectl delete",
                            "kubectl rollout", "kubectl scale"))
