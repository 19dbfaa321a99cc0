"""People, rotas, escalation policies and alert routing: who gets paged, and when."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from tabletop.scenario.types import Duration, Model, Name, WallTime

Role = Literal["incident_commander", "ops", "scribe", "comms"]
ROLES: tuple[str, ...] = ("incident_commander", "ops", "scribe", "comms")


class Participant(Model):
    id: Name
    name: str
    team: str = ""
    title: str = ""


class Rota(Model):
    """An on-call rotation: members take ``shift_length`` turns in order from ``start``."""

    id: Name
    members: Annotated[list[Name], Field(min_length=1)]
    shift_length: Duration
    start: WallTime
    """When the first member's first shift began."""


class EscalationLevel(Model):
    notify: Annotated[list[str], Field(min_length=1)]
    """Targets: ``rota/<id>`` (whoever is on call) or ``participant/<id>``."""
    ack_timeout: Duration = 300.0
    """Escalate to the next level when nobody acknowledges within this time."""

    @field_validator("notify")
    @classmethod
    def _target_form(cls, targets: list[str]) -> list[str]:
        for target in targets:
            kind, _, name = target.partition("/")
            if kind not in {"rota", "participant"} or not name:
                raise ValueError(f"{target!r}: expected rota/<id> or participant/<id>")
        return targets


class EscalationPolicy(Model):
    id: Name
    levels: Annotated[list[EscalationLevel], Field(min_length=1)]
    repeats: Annotated[int, Field(ge=0, le=10)] = 0
    """Times to go through all levels again after the last one times out."""


_MATCHER = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$')


def parse_matcher(text: str) -> tuple[str, str, str]:
    """``name op "value"`` (Alertmanager matcher syntax) as (name, op, value)."""
    match = _MATCHER.match(text)
    if not match:
        raise ValueError(f'{text!r} is not a matcher (expected e.g. severity="page" or team=~"ml|infra")')
    name, op, value = match.groups()
    return name, op, bytes(value, "utf-8").decode("unicode_escape")


class Route(Model):
    """Alerts whose labels satisfy every matcher go to ``policy``; first matching route wins."""

    matchers: list[str] = []
    policy: Name | None = None
    """Escalation policy to page; null: record the alert without paging anyone."""
    group_by: list[str] | None = None
    continue_: Annotated[bool, Field(alias="continue")] = False

    @field_validator("matchers")
    @classmethod
    def _matchers(cls, matchers: list[str]) -> list[str]:
        return _checked(matchers)


def _checked(matchers: list[str]) -> list[str]:
    for text in matchers:
        parse_matcher(text)
    return matchers


_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class InhibitRule(Model):
    """Alertmanager's inhibit rule: while an alert matching ``source_matchers`` fires, alerts
    matching ``target_matchers`` whose ``equal`` labels have the same values page nobody."""

    source_matchers: list[str] = []
    """Matchers of the inhibiting alerts, e.g. alertname="KubeNodeNotReady" (none: every alert)."""
    target_matchers: list[str] = []
    """Matchers of the alerts they mute, e.g. severity="warning" (none: every alert)."""
    equal: list[str] = []
    """Labels whose values must be the same in both alerts (missing from both counts as the same)."""

    @field_validator("source_matchers", "target_matchers")
    @classmethod
    def _matchers(cls, matchers: list[str]) -> list[str]:
        return _checked(matchers)

    @field_validator("equal")
    @classmethod
    def _label_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not _LABEL_NAME.match(name):
                raise ValueError(f"{name!r} is not a label name (letters, digits and _, not starting with a digit)")
        return names


class Routing(Model):
    """Alertmanager-style routing tree of depth one."""

    policy: Name | None = None
    """Default escalation policy for alerts no route matches."""
    group_by: list[str] = ["alertname"]
    """Alerts with equal values of these labels share one page."""
    group_wait: Duration = 30.0
    """Wait this long after a group's first alert before paging (Alertmanager default 30s)."""
    routes: list[Route] = []
    inhibit_rules: list[InhibitRule] = []
    """Alertmanager's ``inhibit_rules``: alerts that page nobody while another alert fires."""
