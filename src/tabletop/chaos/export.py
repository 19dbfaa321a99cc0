"""A scenario as a standard Chaos Toolkit experiment (``tabletop chaos export``).

The experiment acts on a running drill through tabletop's sim provider (``tabletop.chaos.sim``),
found through ``configuration.tabletop_url`` = env ``TABLETOP_URL`` (and ``tabletop_token`` =
env ``TABLETOP_TOKEN``; both default to empty so ``chaos validate`` passes anywhere, and the
provider says what is missing when it runs). Serve a drill of a scenario with the same fleet
(``tabletop twin SCENARIO``), then ``TABLETOP_URL=<its URL> chaos run experiment.json``.

- title, description and tags come from the scenario's metadata (tags gain ``tabletop``);
- the steady-state hypothesis is one ``slo_good_ratio`` probe per SLO, tolerating a 5-minute
  good ratio between the objective and 1;
- the method is one ``inject_fault`` action per scenario fault, with the fault's own id, kind,
  target, parameters, duration and description, and its ``when`` as an argument: the action
  waits on the drill's clock (``at``: drill seconds; ``condition``/``after``: the PromQL
  condition, polled) and then injects. Chaos Toolkit's ``pauses`` are wall-clock seconds and
  would drift with the drill's speed and stop meaning anything while a console drill is
  paused, so timing stays with the drill. With more than one fault every action runs in the
  background, so faults wait side by side as the scenario's do (a condition-triggered fault
  does not hold back a later timed one); Chaos Toolkit waits for all before the hypothesis
  is checked again;
- the rollbacks are the ground truth's fixes as ``mitigate`` actions (a wildcard pod target
  acts on the matching pods that are crash-looping or on a NotReady node). A fix needing
  parameters it does not give is filled in where there is an obvious value (``scale``: one
  replica more than the scenario runs) and otherwise left out with a warning.

Run it against a drill of the same scenario that leaves its faults out
(``tabletop twin SCENARIO --without-faults``): the experiment injects them under their own
ids, so the ground truth, score and postmortem read as with the scenario's own faults. Against
a drill that injects them itself, the experiment's are refused (their ids are taken).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tabletop.scenario.faults import FaultBase
from tabletop.sim.action_specs import ACTIONS

ACTIONS_MODULE = "tabletop.chaos.sim.actions"
PROBES_MODULE = "tabletop.chaos.sim.probes"
CONFIGURATION = {
    "tabletop_url": {"type": "env", "key": "TABLETOP_URL", "default": ""},
    "tabletop_token": {"type": "env", "key": "TABLETOP_TOKEN", "default": ""},
}
_FAULT_FIELDS = frozenset(FaultBase.model_fields) | {"kind"}


class ExportError(Exception):
    """The scenario cannot become a valid experiment; the message says why."""


@dataclass
class Exported:
    experiment: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def _activity(kind: str, name: str, module: str, func: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "name": name,
            "provider": {"type": "python", "module": module, "func": func, "arguments": arguments}}


def _time(seconds: float) -> str:
    """Drill time as the scenario writes it (``10m``, ``1h30m``; fractions as plain seconds)."""
    if seconds != int(seconds):
        return f"{seconds:g}s"
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return "".join(f"{n}{u}" for n, u in ((h, "h"), (m, "m"), (s, "s")) if n) or "0s"


def _fault_action(fault: Any) -> dict[str, Any]:
    parameters = {k: v for k, v in fault.model_dump(mode="json", by_alias=True).items() if k not in _FAULT_FIELDS}
    when: dict[str, Any] = {"at": _time(fault.when.at)} if fault.when.at is not None else {"condition": fault.when.condition}
    if fault.when.condition is not None and fault.when.after:
        when["after"] = _time(fault.when.after)
    arguments: dict[str, Any] = {"kind": fault.kind, "target": fault.target, "id": fault.id}
    if parameters:
        arguments["parameters"] = parameters
    if fault.duration is not None:
        arguments["duration"] = _time(fault.duration)
    if fault.description:
        arguments["description"] = " ".join(fault.description.split())
    arguments["when"] = when
    return _activity("action", f"inject-{fault.id}", ACTIONS_MODULE, "inject_fault", arguments)


def _rollbacks(scenario: Any, warnings: list[str]) -> list[dict[str, Any]]:
    rollbacks = []
    deployments = {d.name: d for d in scenario.fleet.deployments}
    for n, fix in enumerate(scenario.ground_truth.fixes, start=1):
        spec = ACTIONS.get(fix.action)
        if spec is None:
            warnings.append(f"ground_truth.fixes[{n - 1}]: unknown action {fix.action!r}; left out of the rollbacks")
            continue
        parameters: dict[str, Any] = {}
        missing = [name for name, param in spec.params.items() if param.required]
        if fix.action == "scale" and fix.target.partition("/")[2] in deployments:
            parameters["replicas"] = deployments[fix.target.partition("/")[2]].replicas + 1
            missing.remove("replicas")
        if missing:
            warnings.append(f"ground_truth.fixes[{n - 1}]: {fix.action} {fix.target} needs {', '.join(missing)}, which the "
                            "fix does not give; left out of the rollbacks")
            continue
        arguments: dict[str, Any] = {"action": fix.action, "target": fix.target}
        if parameters:
            arguments["parameters"] = parameters
        name = re.sub(r"[^a-z0-9]+", "-", f"{fix.action} {fix.target}".lower()).strip("-")
        rollbacks.append(_activity("action", f"fix-{n}-{name}", ACTIONS_MODULE, "mitigate", arguments))
    return rollbacks


def export_experiment(scenario: Any) -> Exported:
    """The experiment for ``scenario`` (a validated Scenario), checked by chaoslib; raises ExportError."""
    warnings: list[str] = []
    metadata = scenario.metadata
    experiment: dict[str, Any] = {
        "version": "1.0.0",
        "title": metadata.title,
        "description": " ".join(metadata.summary.split()),
        "tags": list(dict.fromkeys(["tabletop", *metadata.tags])),
        "configuration": json.loads(json.dumps(CONFIGURATION)),
    }
    if scenario.slos:
        experiment["steady-state-hypothesis"] = {
            "title": f"the SLOs hold ({', '.join(s.id for s in scenario.slos)})",
            "probes": [
                {**_activity("probe", f"slo-{slo.id}", PROBES_MODULE, "slo_good_ratio", {"slo": slo.id}),
                 "tolerance": {"type": "range", "range": [slo.objective / 100, 1.0]}}
                for slo in scenario.slos
            ],
        }
    else:
        warnings.append("the scenario has no SLOs: the experiment has no steady-state hypothesis")
    faults = sorted(scenario.faults, key=lambda f: (f.when.at if f.when.at is not None else f.when.after, f.when.at is None))
    method = [_fault_action(fault) for fault in faults]
    if len(method) > 1:
        for action in method:
            action["background"] = True
    experiment["method"] = method
    experiment["rollbacks"] = _rollbacks(scenario, warnings)
    if getattr(scenario, "experiments", None):
        warnings.append("the scenario's own Chaos Toolkit experiments are not part of the export; run them as they are")
    validate_experiment(experiment)
    return Exported(experiment, warnings)


def validate_experiment(experiment: dict[str, Any]) -> None:
    """chaoslib's own check (the one ``chaos validate`` makes); raises ExportError."""
    import logging

    from chaoslib.exceptions import ChaosException
    from chaoslib.experiment import ensure_experiment_is_valid

    logger = logging.getLogger("chaostoolkit")
    level = logger.level
    logger.setLevel(logging.ERROR)  # chaoslib narrates its checks at INFO
    try:
        ensure_experiment_is_valid(experiment)
    except ChaosException as error:
        raise ExportError(f"chaoslib rejects the exported experiment: {error}") from None
    finally:
        logger.setLevel(level)


def dumps(experiment: dict[str, Any], path: Path | None) -> str:
    """JSON, or YAML when ``path`` ends in .yaml or .yml."""
    if path is not None and path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        return yaml.safe_dump(experiment, sort_keys=False, allow_unicode=True, width=100)
    return json.dumps(experiment, indent=2, ensure_ascii=False) + "\n"
