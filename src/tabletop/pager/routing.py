"""Alertmanager-style routing of alerts to escalation policies, and grouping into pages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tabletop.scenario.oncall import Route, Routing, parse_matcher


def matches(matcher: str, labels: dict[str, str]) -> bool:
    name, op, value = parse_matcher(matcher)
    actual = labels.get(name, "")
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    hit = re.fullmatch(value, actual) is not None
    return hit if op == "=~" else not hit


@dataclass(frozen=True)
class Destination:
    policy: str | None
    """Escalation policy to page; None records the alert without paging."""
    group: tuple[tuple[str, str], ...]
    """The group_by labels' values: alerts with the same destination share a page."""


def route(labels: dict[str, str], routing: Routing) -> list[Destination]:
    """Destinations of an alert: the first matching route (more with ``continue``), else the default."""
    found: list[Destination] = []
    for candidate in routing.routes:
        if all(matches(m, labels) for m in candidate.matchers):
            found.append(_destination(candidate, routing, labels))
            if not candidate.continue_:
                return found
    return found or [Destination(routing.policy, _group(routing.group_by, labels))]


def _destination(candidate: Route, routing: Routing, labels: dict[str, str]) -> Destination:
    group_by = candidate.group_by if candidate.group_by is not None else routing.group_by
    return Destination(candidate.policy, _group(group_by, labels))


def _group(group_by: list[str], labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((name, labels.get(name, "")) for name in group_by)
