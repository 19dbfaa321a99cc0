"""Chaos Toolkit experiments a scenario runs, and the Kubernetes target they act on.

``kubernetes`` says where the experiments' actions go: the drill's own Kubernetes twin (the
default, context ``twin``) or a real cluster, which tabletop only touches when the allowlist
names its context and every namespace touched and the user passed ``--live``
(``tabletop.chaos.safety``). Each entry of ``experiments`` is a Chaos Toolkit experiment,
written inline or kept in a JSON or YAML file beside the scenario, placed on the drill's clock
by ``when``. The experiments themselves are checked with chaoslib when the scenario loads
(``tabletop.chaos.experiments``); this module only holds the typed shell around them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from tabletop.scenario.faults import FaultBase, When
from tabletop.scenario.types import Model, Name

TWIN = "twin"
"""The context that names the drill's own Kubernetes twin."""


class Allowlist(Model):
    """What tabletop may act on outside the twin (and only with ``--live``)."""

    contexts: list[str] = []
    """Kube contexts (names in the kubeconfig) experiments may act on."""
    namespaces: list[str] = []
    """Namespaces experiments may touch; ``*`` allows cluster-wide actions such as draining a node."""


class KubernetesTarget(Model):
    """The cluster the experiments act on."""

    context: str = TWIN
    """Kube context; ``twin`` (the default) is the drill's own Kubernetes API over the simulated fleet."""
    kubeconfig: str | None = None
    """Kubeconfig of a real cluster, relative to the scenario (default: $KUBECONFIG or ~/.kube/config)."""
    namespaces: list[Name] = []
    """Namespaces the experiments work in (default: the fleet's namespaces)."""
    allowlist: Allowlist = Allowlist()

    @model_validator(mode="after")
    def _twin_has_no_kubeconfig(self) -> "KubernetesTarget":
        if self.context == TWIN and self.kubeconfig is not None:
            raise ValueError("'kubeconfig' only goes with a real cluster's context; the twin writes its own")
        return self


class ChaosExperiment(Model):
    """A Chaos Toolkit experiment started on the drill's clock."""

    id: Name
    when: When
    description: str = ""
    experiment: dict[str, Any] | None = None
    """The experiment written inline: title, description, steady-state-hypothesis, method, rollbacks, ..."""
    file: str | None = None
    """A Chaos Toolkit experiment file (JSON or YAML), relative to the scenario."""

    @model_validator(mode="after")
    def _one_source(self) -> "ChaosExperiment":
        if (self.experiment is None) == (self.file is None):
            raise ValueError("an experiment needs exactly one of 'experiment' (written inline) or 'file'")
        return self


EXPERIMENT_CAUSE = "chaos_experiment"
"""The cause a hypothesis names for an experiment (``hypothesis chaos_experiment experiment/ID``)."""


class ExperimentCause(FaultBase):
    """An experiment named as the root cause, seen by scoring and responders as a fault."""

    kind: Literal["chaos_experiment"] = EXPERIMENT_CAUSE


def root_cause(scenario: Any) -> FaultBase:
    """The fault (or experiment, as an ``ExperimentCause``) ``ground_truth.root_cause.fault`` names."""
    wanted = scenario.ground_truth.root_cause.fault
    fault = next((f for f in scenario.faults if f.id == wanted), None)
    if fault is not None:
        return fault
    experiment = next((e for e in getattr(scenario, "experiments", []) if e.id == wanted), None)
    if experiment is None:
        raise LookupError(f"no fault or experiment {wanted!r}")
    return ExperimentCause(id=experiment.id, target=f"experiment/{experiment.id}", when=experiment.when,
                           description=experiment.description)
