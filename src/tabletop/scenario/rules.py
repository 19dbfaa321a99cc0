"""Prometheus rule files: groups of alerting and recording rules, as prometheus.yml loads them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from tabletop.scenario.types import Duration, Model


class Rule(Model):
    """One rule: an alerting rule (``alert``) or a recording rule (``record``)."""

    alert: str | None = None
    record: str | None = None
    expr: str
    for_: Annotated[Duration, Field(alias="for")] = 0.0
    keep_firing_for: Duration = 0.0
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}

    @model_validator(mode="after")
    def _one_kind(self) -> "Rule":
        if (self.alert is None) == (self.record is None):
            raise ValueError("a rule needs exactly one of 'alert' or 'record'")
        if self.record is not None and (self.for_ or self.keep_firing_for or self.annotations):
            raise ValueError("a recording rule takes only 'record', 'expr' and 'labels'")
        return self

    @property
    def name(self) -> str:
        return self.alert or self.record or ""


class RuleGroup(Model):
    name: str
    interval: Duration | None = None
    """Evaluation interval; the scenario's evaluation_interval when absent."""
    limit: int = 0
    rules: list[Rule]


class RuleFile(Model):
    """The content of a Prometheus rule file."""

    groups: list[RuleGroup]
