"""Pages: triggered → acknowledged → resolved, escalating through policy levels on ack timeout.

Firing alerts are routed to an escalation policy and grouped (Alertmanager ``group_by``); a
group's first alert pages after ``group_wait``, later ones join the open page. As in
Alertmanager, a group whose alerts all resolved before its ``group_wait`` ended sends nothing:
``page.withheld`` records that and why. The flush comes after any rule evaluation of the same
instant, so an alert resolving exactly when the wait ends counts as resolved. An unacknowledged
page moves to the next level after the level's ``ack_timeout`` and starts over from the first
level ``repeats`` times. Rota shift changes move open pages from the outgoing to the incoming
person unless someone already handed them over.

``routing.inhibit_rules`` mute alerts as Alertmanager's inhibition does (``_muted``; when an alert
is checked, what is recorded and when a held-back alert pages: ``pager/inhibition.py``). Without
rules nothing of this runs: the pager behaves, and records, exactly as it did before them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import simpy

from tabletop.pager.inhibition import AlertKey, Inhibitor, alert_key
from tabletop.pager.silences import Silences
from tabletop.pager.rota import on_call, shift_changes
from tabletop.pager.routing import Destination, route
from tabletop.scenario.model import Scenario
from tabletop.scenario.oncall import EscalationPolicy, Rota
from tabletop.timers import AFTER_SAME_INSTANT, later

Record = Callable[..., Any]
"""``record(kind, data, actor=None)`` appends a timeline event."""


class PagerError(Exception):
    """A pager command that cannot be done; the message says why."""


@dataclass(eq=False)
class Page:
    id: str
    policy: EscalationPolicy
    group: dict[str, str]
    title: str
    opened_at: float
    alerts: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, str]] = field(default_factory=dict)
    state: str = "triggered"
    """triggered, acknowledged or resolved."""
    level: int = 0
    loop: int = 0
    assignees: list[str] = field(default_factory=list)
    via: dict[str, str | None] = field(default_factory=dict)
    """How each assignee got the page: the rota id, or None when named directly."""
    acked_by: str | None = None
    generation: int = 0
    escalates_at: float | None = None
    """When the page moves to its next level unless acknowledged (None: it will not)."""

    @property
    def open(self) -> bool:
        return self.state != "resolved"


class Pager:
    def __init__(self, env: simpy.Environment, scenario: Scenario, record: Record, silences: Silences | None = None) -> None:
        self.env = env
        self.scenario = scenario
        self.start: datetime = scenario.metadata.start
        self.record = record
        self.policies = {p.id: p for p in scenario.escalation_policies}
        self.rotas = {r.id: r for r in scenario.rotas}
        self.participants = {p.id for p in scenario.participants}
        self.pages: list[Page] = []
        self._open: dict[tuple[str, tuple[tuple[str, str], ...]], Page] = {}
        self._waiting: dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[str, dict[str, str], dict[str, str]]]] = {}
        self._waited: dict[tuple[str, tuple[tuple[str, str], ...]], set[str]] = {}
        """Alert names that joined each waiting group (also those that resolved meanwhile)."""
        self.inhibitor = Inhibitor(scenario.routing.inhibit_rules)
        self.silences = silences if silences is not None else Silences()
        self._held: dict[AlertKey, tuple[str, dict[str, str], dict[str, str]]] = {}
        """Firing alerts that would page, held back while muted (``_muted``), in the order held."""
        for rota in scenario.rotas:
            self._schedule_next_shift_change(rota)

    def wall(self) -> datetime:
        return self.start + timedelta(seconds=self.env.now)

    # alerts ---------------------------------------------------------------------------------
    def alert_firing(self, alertname: str, labels: dict[str, str], annotations: dict[str, str]) -> None:
        self.inhibitor.fired(alertname, labels)
        destinations = self._destinations(labels)
        muted = self._muted(alertname, labels) if destinations else None
        if muted is not None:
            self._hold(alertname, labels, annotations, muted)
        for destination in destinations:
            self._join((destination.policy, destination.group), (alertname, labels, annotations), muted is not None,
                       self.scenario.routing.group_wait)

    def alert_resolved(self, alertname: str, labels: dict[str, str]) -> None:
        self.inhibitor.resolved(alertname, labels)
        resolved = alert_key(alertname, labels)
        self._held.pop(resolved, None)
        for key, waiting in list(self._waiting.items()):
            self._waiting[key] = [w for w in waiting if alert_key(w[0], w[1]) != resolved]
        for page in list(self._open.values()):
            self.drop_alert(page, alertname, labels)
        if self._held:
            self._release()

    def _destinations(self, labels: dict[str, str]) -> list[Destination]:
        """Where an alert with ``labels`` pages (routes to ``policy: null`` page nobody)."""
        return [d for d in route(labels, self.scenario.routing) if d.policy is not None]

    def _join(self, key: tuple[str, tuple[tuple[str, str], ...]], alert: tuple[str, dict[str, str], dict[str, str]],
              muted: bool, wait: float) -> None:
        """``alert`` joins its group: its open page at once (unless muted), else the group's wait,
        else it starts the group's wait, which ends after ``wait`` (the group_wait)."""
        alertname, labels, _ = alert
        page = self._open.get(key)
        if page is not None:
            if not muted:
                self.add_alert(page, alertname, labels)
            return
        waiting = self._waiting.get(key)
        if waiting is None:
            self._waiting[key] = [alert]
            self._waited[key] = {alertname}
            later(self.env, wait, lambda: self._trigger(key), AFTER_SAME_INSTANT)
        elif all(alert_key(w[0], w[1]) != alert_key(alertname, labels) for w in waiting):
            waiting.append(alert)
            self._waited[key].add(alertname)

    # muting ------------------------------------------------------------------------------------
    def _muted(self, alertname: str, labels: dict[str, str]) -> tuple[str, dict[str, Any]] | None:
        """Why an alert that would page must not page now: the event to record (``alert.inhibited``
        or ``alert.silenced``) and its data beside the alert's name and labels; None when it may."""
        inhibited = self.inhibitor.muted_by(alertname, labels)
        if inhibited is not None:
            return "alert.inhibited", inhibited
        silence = self.silences.muting(labels, self.env.now)
        return None if silence is None else ("alert.silenced", {"silence": silence.id})

    def _hold(self, alertname: str, labels: dict[str, str], annotations: dict[str, str],
              muted: tuple[str, dict[str, Any]]) -> None:
        key = alert_key(alertname, labels)
        if key not in self._held:
            self._held[key] = (alertname, labels, annotations)
            kind, why = muted
            self.record(kind, {"alertname": alertname, "labels": labels, **why})

    def unmuted(self) -> None:
        """Something that muted alerts ended (a silence expired): page those nothing mutes now."""
        if self._held:
            self._release()

    def _release(self) -> None:
        """Page the held-back alerts that nothing mutes any more (``pager/inhibition.py``): call it
        whenever something that mutes may have ended."""
        for key, held in list(self._held.items()):
            alertname, labels, _ = held
            if self._muted(alertname, labels) is not None:
                continue
            del self._held[key]
            for destination in self._destinations(labels):
                self._join((destination.policy, destination.group), held, False, 0.0)

    def _trigger(self, key: tuple[str, tuple[tuple[str, str], ...]]) -> None:
        alerts = self._waiting.pop(key, [])
        names = self._waited.pop(key, set())
        policy_id, group = key
        if not alerts:
            self.record("page.withheld", {
                "policy": policy_id, "group": dict(group), "alerts": sorted(names), "reason": "resolved_before_group_wait",
                "group_wait": self.scenario.routing.group_wait,
            })
            return
        alerts = [alert for alert in alerts if not self._held_back(*alert)]
        if not alerts:
            return  # every alert of the group still firing is held back: alert.inhibited says why
        first_name, _, first_annotations = alerts[0]
        page = self.open_page(policy_id, dict(group), first_annotations.get("summary", first_name),
                              [(alertname, labels) for alertname, labels, _ in alerts])
        self._open[key] = page

    def _held_back(self, alertname: str, labels: dict[str, str], annotations: dict[str, str]) -> bool:
        """Whether a waiting alert must not page with its group now (held back if so)."""
        muted = self._muted(alertname, labels)
        if muted is None:
            return False
        self._hold(alertname, labels, annotations, muted)
        return True

    def open_page(self, policy_id: str, group: dict[str, str], title: str, alerts: list[tuple[str, dict[str, str]]],
                  source: dict[str, Any] | None = None) -> Page:
        """Trigger a page for ``alerts`` and notify the policy's first level; ``source`` adds
        where the page came from to ``page.triggered`` (Alertmanager's receiver and group)."""
        page = Page(id=f"P{len(self.pages) + 1}", policy=self.policies[policy_id], group=group, title=title,
                    opened_at=self.env.now)
        for alertname, labels in alerts:
            page.alerts[(alertname, tuple(sorted(labels.items())))] = labels
        self.pages.append(page)
        self.record("page.triggered", {
            "page": page.id, "policy": policy_id, "group": page.group, "title": page.title,
            "alerts": sorted({name for name, _ in alerts}), **(source or {}),
        })
        self._notify(page)
        return page

    def add_alert(self, page: Page, alertname: str, labels: dict[str, str], extra: dict[str, Any] | None = None) -> None:
        """A further alert of an open page's group (recorded once)."""
        alert_key = (alertname, tuple(sorted(labels.items())))
        if alert_key not in page.alerts:
            page.alerts[alert_key] = labels
            self.record("page.alert_added", {"page": page.id, "alertname": alertname, "labels": labels, **(extra or {})})

    def drop_alert(self, page: Page, alertname: str, labels: dict[str, str]) -> None:
        """An alert of the page resolved; the page resolves with its last alert."""
        if page.alerts.pop((alertname, tuple(sorted(labels.items()))), None) is not None and not page.alerts:
            self._resolve(page, "alerts_resolved")

    # escalation -----------------------------------------------------------------------------
    def _targets(self, page: Page) -> dict[str, str | None]:
        wall = self.wall()
        found: dict[str, str | None] = {}
        for target in page.policy.levels[page.level].notify:
            kind, _, name = target.partition("/")
            if kind == "rota":
                found.setdefault(on_call(self.rotas[name], wall), name)
            else:
                found.setdefault(name, None)
        return found

    def _notify(self, page: Page) -> None:
        targets = self._targets(page)
        page.assignees = list(targets)
        page.via = targets
        page.state = "triggered"
        page.generation += 1
        level = page.policy.levels[page.level]
        self.record("page.notified", {
            "page": page.id, "level": page.level + 1, "loop": page.loop, "targets": page.assignees,
            "ack_timeout": level.ack_timeout,
        })
        generation = page.generation
        page.escalates_at = self.env.now + level.ack_timeout if self._can_escalate(page) else None
        later(self.env, level.ack_timeout, lambda: self._ack_timeout(page, generation))

    @staticmethod
    def _can_escalate(page: Page) -> bool:
        return page.level + 1 < len(page.policy.levels) or page.loop < page.policy.repeats

    def _ack_timeout(self, page: Page, generation: int) -> None:
        if page.generation != generation or page.state != "triggered":
            return
        self._escalate(page, "ack_timeout")

    def _escalate(self, page: Page, reason: str, by: str | None = None) -> bool:
        levels = len(page.policy.levels)
        from_level = page.level
        if page.level + 1 < levels:
            page.level += 1
        elif page.loop < page.policy.repeats:
            page.loop += 1
            page.level = 0
        else:
            page.escalates_at = None
            return False
        self.record("page.escalated", {
            "page": page.id, "from_level": from_level + 1, "to_level": page.level + 1, "loop": page.loop, "reason": reason,
        }, actor=by)
        self._notify(page)
        return True

    # responder commands ---------------------------------------------------------------------------
    def find(self, page_id: str | None, actor: str) -> Page:
        """The page a command means: the one named, else the actor's only open page, else the only open page."""
        if page_id is not None:
            page = next((p for p in self.pages if p.id == page_id), None)
            if page is None:
                known = ", ".join(p.id for p in self.pages) or "none yet"
                raise PagerError(f"there is no page {page_id} (pages: {known})")
            return page
        open_pages = [p for p in self.pages if p.open]
        mine = [p for p in open_pages if actor in p.assignees]
        for candidates in (mine, open_pages):
            if len(candidates) == 1:
                return candidates[0]
            if len(candidates) > 1:
                raise PagerError(f"several pages are open ({', '.join(p.id for p in candidates)}); say which")
        raise PagerError("no page is open")

    def acknowledge(self, page_id: str | None, by: str, extra: dict[str, Any] | None = None) -> Page:
        """``extra``: more for ``page.acknowledged`` (an acknowledgement made in Alertmanager says so)."""
        page = self.find(page_id, by)
        if page.state == "resolved":
            raise PagerError(f"page {page.id} is already resolved")
        if page.state == "acknowledged":
            raise PagerError(f"page {page.id} is already acknowledged by {page.acked_by}")
        page.state = "acknowledged"
        page.acked_by = by
        page.generation += 1
        page.escalates_at = None
        if by not in page.assignees:
            page.assignees = [by]
            page.via = {by: None}
        self.record("page.acknowledged", {"page": page.id, "by": by, "level": page.level + 1, **(extra or {})}, actor=by)
        return page

    def escalate(self, page_id: str | None, by: str) -> Page:
        page = self.find(page_id, by)
        if page.state == "resolved":
            raise PagerError(f"page {page.id} is already resolved")
        if not self._escalate(page, "manual", by):
            raise PagerError(f"page {page.id} is at the last level of {page.policy.id} and has no repeats left")
        return page

    def reassign(self, page_id: str | None, to: str, by: str) -> Page:
        self._check_participant(to)
        page = self.find(page_id, by)
        if page.state == "resolved":
            raise PagerError(f"page {page.id} is already resolved")
        self._move(page, to, "manual", by)
        return page

    def handoff(self, to: str, by: str, note: dict[str, str], page_id: str | None = None) -> list[Page]:
        self._check_participant(to)
        if to == by:
            raise PagerError("you cannot hand off to yourself")
        if page_id is not None:
            pages = [self.find(page_id, by)]
        else:
            pages = [p for p in self.pages if p.open and by in p.assignees]
        if not pages:
            raise PagerError(f"{by} holds no open page to hand off")
        for page in pages:
            page.assignees = [to if a == by else a for a in page.assignees]
            page.via.pop(by, None)
            page.via[to] = None
            if page.acked_by == by:
                page.acked_by = to
        self.record("page.handoff", {"pages": [p.id for p in pages], "from": by, "to": to, "note": note}, actor=by)
        return pages

    def resolve_all(self) -> list[Page]:
        pages = [p for p in self.pages if p.open]
        for page in pages:
            self._resolve(page, "incident_resolved")
        return pages

    def _resolve(self, page: Page, reason: str) -> None:
        page.state = "resolved"
        page.generation += 1
        page.escalates_at = None
        self._open = {k: p for k, p in self._open.items() if p is not page}
        self.record("page.resolved", {"page": page.id, "reason": reason})

    def _move(self, page: Page, to: str, reason: str, by: str | None) -> None:
        before = list(page.assignees)
        page.assignees = [to]
        page.via = {to: None}
        if page.state == "acknowledged":
            page.acked_by = to
        self.record("page.reassigned", {"page": page.id, "from": ",".join(before), "to": to, "reason": reason}, actor=by)

    def _check_participant(self, who: str) -> None:
        if who not in self.participants:
            raise PagerError(f"{who!r} is not a participant (participants: {', '.join(sorted(self.participants))})")

    # rota ---------------------------------------------------------------------------------------
    def _schedule_next_shift_change(self, rota: Rota) -> None:
        wall = self.wall()
        upcoming = shift_changes(rota, wall, wall + timedelta(seconds=rota.shift_length * len(rota.members) + 1))
        if not upcoming:
            return
        delay = (upcoming[0] - self.start).total_seconds() - self.env.now
        later(self.env, delay, lambda: self._shift_change(rota))

    def _shift_change(self, rota: Rota) -> None:
        wall = self.wall()
        incoming = on_call(rota, wall)
        outgoing = on_call(rota, wall - timedelta(seconds=1))
        self.record("rota.shift_change", {"rota": rota.id, "from": outgoing, "to": incoming})
        for page in self.pages:
            if page.open and page.via.get(outgoing) == rota.id and outgoing in page.assignees:
                self._move(page, incoming, "shift_change", None)
                page.via = {incoming: rota.id}
        self._schedule_next_shift_change(rota)
