"""What the postmortem states, derived from scenario + timeline: impact, detection, resolution, timeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

from tabletop.drill.events import responder_mitigations
from tabletop.drill.timeline import Event
from tabletop.durations import format_clock, format_duration
from tabletop.scenario.model import Scenario
from tabletop.scoring.budget import Burn, budget_burn
from tabletop.scoring.describe import describe
from tabletop.scoring.milestones import LABELS, Milestones

NOTABLE = frozenset({
    "fault.injected", "fault.mitigated", "fault.ended", "slo.breach_start", "slo.breach_end",
    "page.triggered", "page.escalated", "page.acknowledged", "page.reassigned", "page.handoff",
    "role.assigned", "severity.set", "hypothesis", "mitigation.applied", "status.update", "inject.delivered",
    "incident.resolved", "drill.ended",
    "chaos.experiment.started", "chaos.experiment.refused", "chaos.activity.ended", "chaos.experiment.ended",
})
"""Event kinds the postmortem timeline lists (milestone events are listed whatever their kind)."""


@dataclass(frozen=True)
class When:
    """A drill time shown both ways: ``T+00:14:00`` and ``08:49:00``."""

    t: float
    clock: str
    wall: str

    def __str__(self) -> str:
        return f"{self.clock} ({self.wall} UTC)"


class Clock:
    def __init__(self, start: datetime) -> None:
        self.start = start

    def at(self, t: float) -> When:
        return When(t, format_clock(t), (self.start + timedelta(seconds=t)).strftime("%H:%M:%S"))


@dataclass(frozen=True)
class Row:
    when: When
    text: str
    who: str
    milestone: str
    """Milestone label(s) this event establishes, or empty."""


@dataclass(frozen=True)
class Mitigation:
    when: When
    who: str
    action: str
    target: str
    ended: list[str]
    """Faults whose impact ended with this mitigation's command (``fault.mitigated``)."""
    harmful: str
    """The ground truth's reason when the action is listed as harmful, else empty."""


@dataclass(frozen=True)
class Alert:
    name: str
    first: When
    times: int
    labels: str


@dataclass(frozen=True)
class Failed:
    deployment: str
    requests: int


class Facts:
    """Derived facts of one drill, named for the postmortem's sections."""

    def __init__(self, scenario: Scenario, events: Sequence[Event], milestones: Milestones, start: datetime) -> None:
        self.scenario = scenario
        self.events = events
        self.milestones = milestones
        self.clock = Clock(start)
        self.names = {p.id: p.name for p in scenario.participants}
        self.ended = self._first("drill.ended")
        self.last_t = events[-1].t if events else 0.0

    def _first(self, kind: str) -> Event | None:
        return next((e for e in self.events if e.kind == kind), None)

    def _all(self, *kinds: str) -> list[Event]:
        return [e for e in self.events if e.kind in kinds]

    def who(self, participant: str | None) -> str:
        return self.names.get(participant or "", participant or "")

    def authors(self) -> list[str]:
        ids = dict.fromkeys(e.actor for e in self._all("command") if e.actor in self.names)
        return [f"{self.names[i]} ({i})" for i in ids if i]

    def impact_duration(self) -> float | None:
        start, end = self.milestones.impact_start, self.milestones.mitigated
        return end.t - start.t if start and end else None

    def failed_requests(self) -> tuple[list[Failed], bool]:
        """Failed requests per deployment and whether they are exact (from ``drill.ended``)."""
        if self.ended is not None:
            counts = self.ended.data.get("failed_requests") or {}
            return [Failed(d, int(n)) for d, n in counts.items()], True
        per_slo: dict[tuple[str, str], int] = {}
        for event in self._all("slo.breach_end"):
            key = (str(event.data.get("deployment")), str(event.data.get("slo")))
            per_slo[key] = per_slo.get(key, 0) + int(event.data.get("bad", 0))
        worst: dict[str, int] = {}
        for (deployment, _), bad in per_slo.items():
            worst[deployment] = max(worst.get(deployment, 0), bad)
        return [Failed(d, n) for d, n in worst.items()], False

    def gpu_hours_lost(self) -> float | None:
        return float(self.ended.data.get("gpu_hours_lost", 0.0)) if self.ended else None

    def budgets(self) -> list[Burn]:
        return budget_burn(self.scenario, self.events)

    def severity_declared(self) -> str | None:
        declared = self._all("severity.set")
        return str(declared[-1].data.get("level")) if declared else None

    def faults(self) -> list[Event]:
        return self._all("fault.injected")

    def experiments(self) -> list[tuple[Event, list[Event], Event | None]]:
        """Each Chaos Toolkit experiment started: (started, its actions as they ended, its end or None)."""
        found = []
        for started in self._all("chaos.experiment.started"):
            name = started.data.get("experiment")
            ours = [e for e in self.events if e.data.get("experiment") == name]
            actions = [e for e in ours if e.kind == "chaos.activity.ended" and e.data.get("type") == "action"]
            ended = next((e for e in ours if e.kind == "chaos.experiment.ended"), None)
            found.append((started, actions, ended))
        return found

    def hypotheses(self) -> list[Event]:
        return self._all("hypothesis")

    def mitigations(self) -> list[Mitigation]:
        ended_by: dict[int, list[str]] = {}
        for event in self._all("fault.mitigated"):
            if event.data.get("command") is not None:
                ended_by.setdefault(int(event.data["command"]), []).append(str(event.data.get("fault")))
        found = []
        for event in responder_mitigations(self.events):
            action, target = str(event.data.get("action")), str(event.data.get("target"))
            harm = next((h for h in self.scenario.ground_truth.harmful if h.action == action and fnmatchcase(target, h.target)), None)
            found.append(Mitigation(
                self.clock.at(event.t), self.who(event.actor), action, target,
                ended_by.get(int(event.data.get("command") or 0), []), (harm.why or "listed as harmful") if harm else "",
            ))
        return found

    def healed_alone(self) -> list[Event]:
        """``fault.mitigated`` events no command is credited with."""
        return [e for e in self._all("fault.mitigated") if e.data.get("command") is None]

    def resolution(self) -> Event | None:
        return self._first("incident.resolved")

    def pages(self) -> list[Event]:
        return self._all("page.triggered")

    def notified(self, page: str) -> list[str]:
        """Everyone the page was sent to, in order, by name."""
        ids = dict.fromkeys(t for e in self._all("page.notified") if e.data.get("page") == page for t in e.data.get("targets") or [])
        return [self.who(i) for i in ids]

    def escalations(self) -> list[Event]:
        return self._all("page.escalated")

    def first_ack(self) -> Event | None:
        return self._first("page.acknowledged")

    def alerts(self) -> list[Alert]:
        seen: dict[str, Alert] = {}
        for event in self._all("alert.firing"):
            name = str(event.data.get("alertname"))
            if name in seen:
                prior = seen[name]
                seen[name] = Alert(name, prior.first, prior.times + 1, prior.labels)
            else:
                labels = ", ".join(f"{k}={v}" for k, v in sorted((event.data.get("labels") or {}).items()))
                seen[name] = Alert(name, self.clock.at(event.t), 1, labels)
        return list(seen.values())

    def first_alert(self) -> Event | None:
        return self._first("alert.firing")

    def owner_team(self) -> str:
        """The team that owned the incident: the first acknowledger's, else the first participant's."""
        ack = self.first_ack()
        by = str(ack.data.get("by")) if ack else ""
        people = {p.id: p for p in self.scenario.participants}
        person = people.get(by) or self.scenario.participants[0]
        return person.team or person.name

    def team_of_target(self, target: str) -> str | None:
        """The team label of a firing alert about ``target``'s object (shell wildcards allowed)."""
        name = target.partition("/")[2] or target
        teams = {p.team for p in self.scenario.participants if p.team}
        for event in self._all("alert.firing"):
            labels = event.data.get("labels") or {}
            if labels.get("team") in teams and any(fnmatchcase(str(v), name) for v in labels.values()):
                return str(labels["team"])
        return None

    def role_holder(self, role: str) -> str | None:
        held = [e for e in self._all("role.assigned") if e.data.get("role") == role]
        return self.who(str(held[-1].data.get("to"))) if held else None

    def breach_windows(self) -> list[tuple[float, float]]:
        """(start, end) of every SLO breach; an open one lasts until the last event."""
        windows, open_at = [], {}
        for event in self._all("slo.breach_start", "slo.breach_end"):
            slo = event.data.get("slo")
            if event.kind == "slo.breach_start":
                open_at[slo] = event.t
            elif slo in open_at:
                windows.append((open_at.pop(slo), event.t))
        return windows + [(t, self.last_t) for t in open_at.values()]

    def timeline(self) -> list[Row]:
        marks: dict[int, list[str]] = {}
        for name, mark in self.milestones.reached():
            marks.setdefault(mark.seq, []).append(LABELS[name])
        return [
            Row(self.clock.at(e.t), describe(e), self.who(e.actor), ", ".join(marks.get(e.seq, [])))
            for e in self.events
            if e.kind in NOTABLE or e.seq in marks
        ]


def span(seconds: float) -> str:
    return format_duration(seconds)
