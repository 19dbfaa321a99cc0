"""Scenario format v1: the root model of a drill file."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from tabletop.scenario.chaos import ChaosExperiment, KubernetesTarget
from tabletop.scenario.faults import Fault, When
from tabletop.scenario.fleet import Fleet
from tabletop.scenario.oncall import EscalationPolicy, Participant, Rota, Routing
from tabletop.scenario.rules import RuleGroup
from tabletop.scenario.types import Duration, Model, Name, WallTime

Severity = Literal["SEV1", "SEV2", "SEV3", "SEV4"]


class Metadata(Model):
    id: Name
    title: str
    summary: str
    difficulty: Literal["beginner", "intermediate", "advanced"]
    learning_objectives: Annotated[list[str], Field(min_length=1)]
    duration: Duration
    """Nominal length of the drill; headless runs stop here."""
    start: WallTime
    """Wall-clock time at T+0 (drives daily traffic, rotas and timestamps)."""
    tags: list[str] = []


class SignalSettings(Model):
    scrape_interval: Duration = 15.0
    evaluation_interval: Duration = 30.0
    """Default rule-group interval (kube-prometheus uses 30s)."""


class Slo(Model):
    """A request-based SLO of one deployment: availability, or latency under a threshold."""

    id: Name
    deployment: Name
    objective: Annotated[float, Field(gt=0, lt=100)]
    """Percent of good requests, e.g. 99.5."""
    latency_threshold: Duration | None = None
    """With it, good means answered within this time; without it, good means not a 5xx."""
    window: Duration = 30 * 86400.0
    """Error-budget window."""


class Inject(Model):
    """A message from a stakeholder that arrives during the drill."""

    id: Name
    from_: Annotated[str, Field(alias="from")]
    channel: str = "#incident"
    when: When
    message: str
    expects_reply: bool = False


class RootCause(Model):
    fault: Name
    """Id of the fault (or Chaos Toolkit experiment) that is the root cause."""
    summary: str


class ActionRef(Model):
    """A mitigation action on a target (shell-style wildcards allowed in the target)."""

    action: str
    target: str
    why: str = ""


class GroundTruth(Model):
    root_cause: RootCause
    trigger: str
    severity: Severity
    fixes: Annotated[list[ActionRef], Field(min_length=1)]
    """Mitigations that end the impact."""
    harmful: list[ActionRef] = []
    """Actions that make the incident worse."""
    contributing_factors: list[str] = []


class RubricChoice(Model):
    file: str | None = None
    """Rubric file relative to the scenario; the bundled default rubric when absent."""
    overrides: dict[str, dict[str, Any]] = {}
    """Per criterion id: fields replacing the rubric's (weight, target, ...)."""


class RuleSet(Model):
    groups: list[RuleGroup] = []


class Scenario(Model):
    api_version: Annotated[Literal["tabletop/v1"], Field(alias="apiVersion")]
    kind: Literal["Scenario"]
    metadata: Metadata
    signals: SignalSettings = SignalSettings()
    fleet: Fleet
    faults: list[Fault] = []
    """Faults of the catalog injected into the simulated fleet (a scenario needs faults or experiments)."""
    kubernetes: KubernetesTarget = KubernetesTarget()
    """Where the experiments act: the drill's Kubernetes twin (default) or an allowlisted real cluster."""
    experiments: list[ChaosExperiment] = []
    """Chaos Toolkit experiments started on the drill's clock."""
    rules: RuleSet = RuleSet()
    """Alerting and recording rules, written as in a Prometheus rule file."""
    rule_files: list[str] = []
    """Prometheus rule files, relative to the scenario."""
    slos: list[Slo] = []
    participants: Annotated[list[Participant], Field(min_length=1)]
    rotas: list[Rota] = []
    escalation_policies: list[EscalationPolicy] = []
    routing: Routing = Routing()
    injects: list[Inject] = []
    runbooks: list[str] = []
    """Markdown runbooks, relative to the scenario."""
    rubric: RubricChoice = RubricChoice()
    ground_truth: GroundTruth
