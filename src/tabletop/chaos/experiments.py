"""A scenario's Chaos Toolkit experiments, checked with chaoslib and located in their files.

chaoslib's ``ensure_experiment_is_valid`` stops at the first problem and does not say where it
is. Here each part it checks (title, description, the steady-state hypothesis and each of its
probes, each activity of the method and of the rollbacks) is checked on its own with the same
chaoslib functions, so every problem is reported at once, at its line; what is left (controls,
configuration, secrets, extensions) is then checked by chaoslib as a whole.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tabletop.scenario.problems import PathPart, Problem
from tabletop.scenario.validation import describe
from tabletop.scenario.yaml_source import Source

Path_ = tuple[PathPart, ...]
PHASES = ("steady-state-hypothesis", "method", "rollbacks")


@dataclass(frozen=True)
class LoadedExperiment:
    """An experiment of the scenario with its Chaos Toolkit document."""

    id: str
    document: dict[str, Any]
    """The Chaos Toolkit experiment (JSON-able), as written."""
    origin: str
    """``inline`` or the path of its file (as the scenario names it)."""
    index: int
    """Its position in the scenario's ``experiments``."""


def activities(document: dict[str, Any]) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """(phase, index, activity) of every activity: hypothesis probes, method, rollbacks."""
    hypothesis = document.get("steady-state-hypothesis")
    if isinstance(hypothesis, dict):
        for index, probe in enumerate(hypothesis.get("probes") or []):
            if isinstance(probe, dict):
                yield "steady-state-hypothesis", index, probe
    for phase in ("method", "rollbacks"):
        for index, activity in enumerate(document.get(phase) or []):
            if isinstance(activity, dict):
                yield phase, index, activity


def activity_path(phase: str, index: int) -> Path_:
    return ("steady-state-hypothesis", "probes", index) if phase == "steady-state-hypothesis" else (phase, index)


def _quiet() -> None:
    """chaoslib logs to 'chaostoolkit'; keep that out of tabletop's output."""
    logger = logging.getLogger("chaostoolkit")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())


def check_experiment(source: Source, base: Sequence[PathPart], document: Any) -> list[Problem]:
    """Every problem of the Chaos Toolkit experiment at ``base`` of ``source``."""
    base = tuple(base)
    if not isinstance(document, dict):
        return [source.problem(base, f"expected a Chaos Toolkit experiment (a mapping), got {describe(document)}")]
    _quiet()
    from chaoslib.activity import ensure_activity_is_valid
    from chaoslib.exceptions import ChaosException
    from chaoslib.experiment import ensure_experiment_is_valid
    from chaoslib.hypothesis import ensure_hypothesis_tolerance_is_valid

    problems: list[Problem] = []
    for key in ("title", "description"):
        if not document.get(key):
            problems.append(source.problem(base, f"missing required key {key!r} (a Chaos Toolkit experiment needs a {key})",
                                           key=True))
    hypothesis = document.get("steady-state-hypothesis")
    if hypothesis is not None and not isinstance(hypothesis, dict):
        problems.append(source.problem(base + ("steady-state-hypothesis",), f"expected a mapping, got {describe(hypothesis)}"))
    elif isinstance(hypothesis, dict) and not hypothesis.get("title"):
        problems.append(source.problem(base + ("steady-state-hypothesis",), "missing required key 'title'", key=True))
    if "method" not in document:
        problems.append(source.problem(base, "missing required key 'method' (it may be an empty list)", key=True))
    for phase, key in (("method", ("method",)), ("rollbacks", ("rollbacks",)),
                       ("probes", ("steady-state-hypothesis", "probes"))):
        value = document.get(phase) if phase != "probes" else (hypothesis or {}).get("probes") if isinstance(hypothesis, dict) else None
        if value is not None and not isinstance(value, list):
            problems.append(source.problem(base + key, f"expected a list of activities, got {describe(value)}"))
    names = _names(document)
    for phase, index, activity in activities(document):
        where = base + activity_path(phase, index)
        try:
            ensure_activity_is_valid(copy.deepcopy(activity))
            if phase == "steady-state-hypothesis" and "ref" not in activity:
                if "tolerance" not in activity:
                    problems.append(source.problem(where, "missing required key 'tolerance' (a hypothesis probe needs one)", key=True))
                else:
                    ensure_hypothesis_tolerance_is_valid(activity["tolerance"])
        except ChaosException as error:
            problems.append(source.problem(_narrow(source, where, activity), _message(error)))
        except Exception as error:  # chaoslib chokes on odd shapes (a string where a mapping goes)
            problems.append(source.problem(where, f"not a valid activity ({type(error).__name__}: {error})"))
        ref = activity.get("ref")
        if isinstance(ref, str) and ref and ref not in names:
            problems.append(source.problem(where + ("ref",), f"no activity named {ref!r} in this experiment"))
    if not problems:
        try:
            ensure_experiment_is_valid(copy.deepcopy(document))
        except ChaosException as error:
            problems.append(source.problem(base, _message(error)))
        except Exception as error:
            problems.append(source.problem(base, f"not a valid Chaos Toolkit experiment ({type(error).__name__}: {error})"))
    return problems


CUSTOM_RESOURCE_MODULES = ("chaosk8s.chaosmesh.",)
"""chaostoolkit-kubernetes modules whose every activity creates or reads Chaos Mesh's custom
resources (NetworkChaos, StressChaos)."""


def custom_resource_activity(activity: dict[str, Any]) -> str | None:
    """``module.func`` of a Python provider that works on custom resources (Chaos Mesh's, or
    ``chaosk8s.crd``'s custom objects), which the twin does not serve; else None."""
    provider = activity.get("provider")
    if not isinstance(provider, dict) or provider.get("type") != "python":
        return None
    module, func = provider.get("module"), provider.get("func")
    if not isinstance(module, str) or not isinstance(func, str):
        return None
    if module.startswith(CUSTOM_RESOURCE_MODULES) or (module.startswith("chaosk8s.crd.") and "custom_object" in func):
        return f"{module}.{func}"
    return None


def check_twin_support(source: Source, base: Sequence[PathPart], document: dict[str, Any]) -> list[Problem]:
    """Activities the drill's twin cannot answer, for an experiment that acts on the twin: the
    twin serves the Kubernetes built-in resources the fleet has, no custom resources."""
    problems = []
    for phase, index, activity in activities(document):
        found = custom_resource_activity(activity)
        if found is not None:
            where = tuple(base) + activity_path(phase, index) + ("provider", "module")
            problems.append(source.problem(where, (
                f"{found} works on custom resources (Chaos Mesh's NetworkChaos, StressChaos or other CRDs), which the "
                "drill's Kubernetes twin does not serve. For a network or load fault in a drill use a scenario fault "
                "instead (e.g. kind: feature_store_outage with mode: slow, traffic_surge or gpu_thermal); to run this "
                "experiment, point kubernetes.context at a real cluster with Chaos Mesh installed")))
    return problems


def _names(document: dict[str, Any]) -> set[str]:
    return {a["name"] for _, _, a in activities(document) if isinstance(a.get("name"), str)}


def _narrow(source: Source, where: Path_, activity: dict[str, Any]) -> Path_:
    """The provider's line when the activity has one (most problems are about it)."""
    return where + ("provider",) if isinstance(activity.get("provider"), dict) else where


def _message(error: Exception) -> str:
    text = " ".join(str(error).split())
    return f"Chaos Toolkit: {text}" if text else f"Chaos Toolkit: {type(error).__name__}"
