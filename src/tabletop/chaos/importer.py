"""A scenario skeleton around an existing Chaos Toolkit experiment (``tabletop chaos import``).

The experiment file (JSON or YAML) is read with located YAML errors and checked with chaoslib
as ``chaos validate`` would (an environment variable its configuration needs but this shell
lacks is only a warning: the drill's runner sets its own). The skeleton it becomes:

- metadata from the experiment's title, description and tags, ``kubernetes: {context: twin}``;
- a small serving fleet (one GPU pool, one model deployment in the namespace the experiment
  works in), an availability SLO, an error-rate alert, two participants with a rota,
  escalation policy and routing: enough for ``tabletop validate`` and a first drill, each
  section commented with what to fill in;
- ``experiments: [{id, when: {at: 0s}, file: <the experiment, relative to the scenario>}]``:
  the drill starts it at once and Chaos Toolkit keeps its own pauses, so the method starts as
  it would under ``chaos run`` (the comment says how long the leading pauses are: those of
  the steady-state probes and the first activity's ``pauses.before``). Starting it at their
  end as well would wait them twice;
- ``ground_truth`` naming the experiment as the root cause, with the experiment's tabletop
  ``mitigate`` rollbacks as fixes where it has them.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tabletop.scenario.problems import Problem
from tabletop.scenario.yaml_source import Source, parse_yaml, read_file

_ENV_KEY = "Configuration makes reference to an environment key"
_NAMED = re.compile(r"activity '([^']+)'")


@dataclass
class Imported:
    text: str
    """The scenario skeleton (YAML with comments)."""
    warnings: list[Problem] = field(default_factory=list)


class ImportProblems(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.format() for p in problems))
        self.problems = problems


def read_experiment(path: Path) -> tuple[dict[str, Any], list[Problem]]:
    """The experiment at ``path`` and its warnings; ImportProblems with every located problem."""
    data, reason = read_file(path)
    if data is None:
        raise ImportProblems([Problem(str(path), 1, 1, "", reason or "cannot read the file")])
    source, problems = parse_yaml(data, str(path))  # JSON is YAML: one parser, located errors for both
    if source is None or any(p.severity == "error" for p in problems):
        raise ImportProblems(problems)
    experiment = source.data
    structural = _structure(source)
    if structural:
        raise ImportProblems(structural)
    warnings: list[Problem] = []
    error = _chaoslib_error(experiment)
    if error is not None:
        if error.startswith(_ENV_KEY):
            warnings.append(Problem(str(path), *source.position(("configuration",)), "configuration",
                                    f"{error} (set it when you run the drill)", "warning"))
        else:
            path_, line_column = _locate(source, error)
            raise ImportProblems([Problem(str(path), *line_column, path_, f"not a valid Chaos Toolkit experiment: {error}")])
    return experiment, warnings


def _structure(source: Source) -> list[Problem]:
    """What chaoslib would trip over with a Python error rather than a message."""
    data = source.data
    problems = []

    def problem(path: tuple[Any, ...], message: str) -> None:
        from tabletop.scenario.problems import format_path

        problems.append(Problem(source.file, *source.position(path), format_path(path), message))

    for key in ("title", "description"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            problem((key,), f"an experiment needs a {key} (text)")
    if "method" not in data:
        problem((), "an experiment needs a method (a list of activities; it may be empty)")
    for section in ("method", "rollbacks"):
        activities = data.get(section, [])
        if not isinstance(activities, list):
            problem((section,), "expected a list of activities")
            continue
        for n, activity in enumerate(activities):
            if not isinstance(activity, dict):
                problem((section, n), "expected an activity (a mapping with type, name and provider)")
            elif "ref" not in activity and not isinstance(activity.get("name"), str):
                problem((section, n), "an activity needs a name")
    hypothesis = data.get("steady-state-hypothesis")
    if hypothesis is not None and not isinstance(hypothesis, dict):
        problem(("steady-state-hypothesis",), "expected a mapping with title and probes")
    return problems


def _chaoslib_error(experiment: dict[str, Any]) -> str | None:
    import logging

    from chaoslib.exceptions import ChaosException
    from chaoslib.experiment import ensure_experiment_is_valid

    logger = logging.getLogger("chaostoolkit")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        ensure_experiment_is_valid(experiment)
    except ChaosException as error:
        return str(error)
    except Exception as error:  # chaoslib meeting a shape it does not expect
        return f"{type(error).__name__}: {error}"
    finally:
        logger.setLevel(level)
    return None


def _locate(source: Source, message: str) -> tuple[str, tuple[int, int]]:
    """The key path and position of the activity a chaoslib message names, else the top."""
    from tabletop.scenario.problems import format_path

    named = _NAMED.search(message)
    if named:
        for path, activity in _activities(source.data):
            if activity.get("name") == named.group(1):
                return format_path(path), source.position(path)
    return "", (1, 1)


def _activities(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    found: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    hypothesis = data.get("steady-state-hypothesis")
    if isinstance(hypothesis, dict) and isinstance(hypothesis.get("probes"), list):
        found += [(("steady-state-hypothesis", "probes", n), a) for n, a in enumerate(hypothesis["probes"]) if isinstance(a, dict)]
    for section in ("method", "rollbacks"):
        if isinstance(data.get(section), list):
            found += [((section, n), a) for n, a in enumerate(data[section]) if isinstance(a, dict)]
    return found


def leading_pauses(experiment: dict[str, Any]) -> float:
    """Seconds Chaos Toolkit pauses before the method's first activity runs."""
    total = 0.0
    hypothesis = experiment.get("steady-state-hypothesis")
    probes = hypothesis.get("probes", []) if isinstance(hypothesis, dict) else []
    for probe in probes if isinstance(probes, list) else []:
        total += _pauses(probe, "before") + _pauses(probe, "after")
    method = experiment.get("method") or []
    if method and isinstance(method[0], dict):
        total += _pauses(method[0], "before")
    return total


def _pauses(activity: Any, which: str) -> float:
    pauses = activity.get("pauses") if isinstance(activity, dict) else None
    value = pauses.get(which) if isinstance(pauses, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else 0.0


def slug(text: str, fallback: str = "imported-experiment") -> str:
    """A Kubernetes-style name from a title."""
    name = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:50].strip("-")
    return name or fallback


def _namespaces(experiment: dict[str, Any]) -> list[str]:
    found = []
    for _, activity in _activities(experiment):
        arguments = (activity.get("provider") or {}).get("arguments") if isinstance(activity.get("provider"), dict) else None
        if isinstance(arguments, dict):
            for key in ("ns", "namespace"):
                if isinstance(arguments.get(key), str) and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", arguments[key]):
                    found.append(arguments[key])
    return list(dict.fromkeys(found))


def _fixes(experiment: dict[str, Any]) -> list[tuple[str, str]]:
    fixes = []
    for activity in experiment.get("rollbacks") or []:
        provider = activity.get("provider") if isinstance(activity, dict) else None
        if isinstance(provider, dict) and provider.get("module") == "tabletop.chaos.sim.actions" and provider.get("func") == "mitigate":
            arguments = provider.get("arguments") or {}
            if isinstance(arguments.get("action"), str) and isinstance(arguments.get("target"), str):
                fixes.append((arguments["action"], arguments["target"]))
    return fixes


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def scenario_skeleton(experiment: dict[str, Any], experiment_path: Path, scenario_path: Path) -> str:
    """The skeleton's YAML text; ``experiment_path`` is referred to relative to ``scenario_path``."""
    title = experiment["title"].strip()
    scenario_id = slug(title)
    experiment_id = slug(experiment_path.stem, "experiment")
    reference = os.path.relpath(experiment_path.resolve(), scenario_path.resolve().parent).replace(os.sep, "/")
    at = leading_pauses(experiment)
    namespaces = _namespaces(experiment)
    namespace = namespaces[0] if namespaces else "serving"
    tags = [t for t in experiment.get("tags") or [] if isinstance(t, str) and t.strip()]
    fixes = _fixes(experiment)
    fix_lines = "    - {action: scale, target: deployment/model-server, why: \"TODO: why this ends the impact\"}"
    if fixes:
        fix_lines = ("    # The experiment's rollbacks, to point at this fleet's objects:\n"
                     + "\n".join(f"    # - {{action: {action}, target: {_quote(target)}}}" for action, target in fixes)
                     + "\n" + fix_lines)
    summary = " ".join(str(experiment.get("description", "")).split())
    pause_text = (f" ({at:g} wall-clock seconds before the method's first activity, which at\n"
                  f"    # --speed N is N times as much drill time)") if at else " (wall-clock seconds)"
    return f"""# A tabletop scenario around the Chaos Toolkit experiment {reference}, written by
# `tabletop chaos import`. Fill in the TODOs, make the fleet look like the system the
# experiment acts on, then check it with `tabletop validate {scenario_path.name}`.
apiVersion: tabletop/v1
kind: Scenario

metadata:
  id: {scenario_id}
  title: {_quote(title)}
  summary: {_quote(summary)}
  difficulty: intermediate  # beginner, intermediate or advanced
  learning_objectives:
    - "TODO: what responders should practise in this drill"
  duration: 1h  # TODO: how long the drill runs (drill time)
  start: "2026-03-17T08:35:00Z"  # wall-clock time at T+0: drives daily traffic, rotas and timestamps
  tags: {json.dumps(list(dict.fromkeys(["chaos", *tags])))}

# The experiment acts on the drill's own Kubernetes twin. For a real cluster, name its context
# and allowlist it (kubernetes.allowlist.contexts and namespaces) and run with --live.
kubernetes:
  context: twin

experiments:
  - id: {experiment_id}
    # When the drill starts the experiment (drill time). Chaos Toolkit then keeps the
    # experiment's own pauses{pause_text}; to place the method on the drill's clock
    # instead, drop those pauses from the experiment and give their time here.
    when: {{at: 0s}}
    description: {_quote(title)}
    file: {reference}

signals:
  scrape_interval: 30s
  evaluation_interval: 30s

# TODO: the fleet the experiment acts on: node pools, deployments (names and namespaces as the
# experiment uses them{": " + ", ".join(namespaces) if namespaces else ""}), training jobs, feature stores.
fleet:
  node_pools:
    - name: gpu-pool
      gpu_model: H100-SXM-80GB
      nodes: 3
      gpus_per_node: 8
  deployments:
    - name: model-server
      namespace: {namespace}
      server: vllm
      model: llama-3.1-8b-instruct
      version: v1
      previous_version: v0
      replicas: 4
      node_pool: gpu-pool
      gpus_per_replica: 1
      startup_time: 30s
      model_load_time: 2m
      capacity_rps: 20
      concurrency: 32
      latency: {{p50: 800ms, p99: 3s, timeout: 30s}}
      traffic: {{base_rps: 20, peak_rps: 60, peak_at: "10:00", noise: 0.03}}
      memory_limit: 48Gi
      memory_working_set: 20Gi

# Catalog faults the simulation injects by itself, beside the experiment (none yet).
faults: []

# TODO: the alerts responders get (Prometheus rules over the exporters' metric names).
rules:
  groups:
    - name: model-server
      rules:
        - alert: ModelServerHighErrorRate
          expr: |
            sum(rate(http_requests_total{{job="model-server", status="5xx"}}[5m]))
              / sum(rate(http_requests_total{{job="model-server"}}[5m])) > 0.02
          for: 2m
          labels: {{severity: page, team: serving}}
          annotations:
            summary: "model-server is failing {{{{ $value | humanizePercentage }}}} of requests"

slos:
  - id: model-server-availability
    deployment: model-server
    objective: 99.5

# TODO: the people in the drill, their rota and how pages reach them.
participants:
  - {{id: alice, name: Alice, team: serving, title: ML platform engineer}}
  - {{id: bob, name: Bob, team: serving, title: ML platform engineer}}

rotas:
  - id: serving-primary
    members: [alice, bob]
    shift_length: 12h
    start: "2026-03-16T21:00:00Z"

escalation_policies:
  - id: serving-oncall
    levels:
      - {{notify: [rota/serving-primary], ack_timeout: 5m}}

routing:
  group_by: [team]
  routes:
    - matchers: ['severity="page"']
      policy: serving-oncall

# What really happened, for scoring and the postmortem: the experiment is the root cause.
ground_truth:
  root_cause:
    fault: {experiment_id}
    summary: {_quote("TODO: what the experiment breaks and why it hurts. " + title)}
  trigger: "TODO: what set it off"
  severity: SEV3
  fixes:  # TODO: the mitigations that end the impact (cordon, drain, delete_pod, scale, rollback, ...)
{fix_lines}
"""


def import_experiment(experiment_path: Path, scenario_path: Path) -> Imported:
    """The skeleton for the experiment at ``experiment_path``; raises ImportProblems."""
    experiment, warnings = read_experiment(experiment_path)
    return Imported(scenario_skeleton(experiment, experiment_path, scenario_path), warnings)
