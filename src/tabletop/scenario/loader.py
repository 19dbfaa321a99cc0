"""Load a drill: the scenario file and every file it refers to, checked all at once.

``load_scenario`` either returns a ``LoadedScenario`` or raises ``InputError`` with every
problem of the scenario, its rule files, runbooks and rubric, each located in its own file.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from tabletop.chaos.experiments import LoadedExperiment, check_experiment, check_twin_support
from tabletop.drill.script import ResponderScript
from tabletop.scenario.chaos import TWIN
from tabletop.scenario.model import Scenario
from tabletop.scenario.problems import InputError, PathPart, Problem, format_path, has_errors, sorted_problems
from tabletop.scenario.command_checks import World, check_command
from tabletop.scenario.drill_checks import check_drill
from tabletop.scenario.expressions import check_rule_groups
from tabletop.scenario.overrides import apply_overrides
from tabletop.scenario.raw import each
from tabletop.scenario.references import Sections, check_references
from tabletop.scenario.rules import RuleFile, RuleGroup
from tabletop.scenario.runbook import Runbook, StepCommand, parse_runbook
from tabletop.scenario.validation import hint, validate
from tabletop.scenario.yaml_source import Source, decode, parse_yaml, read_file
from tabletop.scoring.rubric import Rubric

DEFAULT_RUBRIC = "tabletop/scoring/data/default-rubric.yaml"
"""How problems in the bundled default rubric name it."""
_KINDS = ("Scenario", "Rubric", "ResponderScript", "ReliabilityFleet", "Sweep")


@dataclass(frozen=True)
class LoadedScenario:
    scenario: Scenario
    path: Path
    sha256: str
    """Digest of the scenario file and every file it refers to, in a stable order."""
    rule_groups: tuple[RuleGroup, ...]
    """Inline groups, then the groups of each rule file."""
    runbooks: tuple[Runbook, ...]
    rubric: Rubric
    """The scenario's rubric with its overrides applied."""
    warnings: tuple[Problem, ...] = ()
    experiments: tuple[LoadedExperiment, ...] = ()
    """The Chaos Toolkit experiments of ``scenario.experiments``, in order, inline or read from their files."""


def load_scenario(path: str | Path) -> LoadedScenario:
    """Load and check a scenario; raises InputError with all of its problems."""
    loaded, problems = _load_scenario(Path(path))
    if loaded is None or has_errors(problems):
        raise InputError(problems)
    return loaded


def load_rubric(path: str | Path) -> Rubric:
    source, problems = _read_yaml(Path(path))
    rubric, found = validate(Rubric, source) if source else (None, [])
    if rubric is None or has_errors(problems + found):
        raise InputError(problems + found)
    return rubric


def load_script(path: str | Path, scenario: Scenario | None = None) -> ResponderScript:
    """Load a responder script; with ``scenario``, also check the names it uses against it."""
    source, problems = _read_yaml(Path(path))
    script, found = _script(source, scenario) if source else (None, [])
    if script is None or has_errors(problems + found):
        raise InputError(problems + found)
    return script


def check_script(path: str | Path, scenario: Scenario) -> list[Problem]:
    """Every problem of the script file at ``path``, its names checked against ``scenario``."""
    source, problems = _read_yaml(Path(path))
    if source is None:
        return problems
    return sorted_problems(problems + _script(source, scenario)[1])


def validate_files(paths: Iterable[str | Path]) -> list[Problem]:
    """Problems of each file, whatever it is: a scenario, rubric, responder script, Prometheus
    rule file or Markdown runbook. Scripts are checked against the scenario when exactly one
    scenario is among the files."""
    problems: list[Problem] = []
    scenarios: list[Scenario] = []
    scripts: list[Source] = []
    for path in map(Path, paths):
        if path.suffix.lower() in (".md", ".markdown"):
            problems += _runbook_file(path)
            continue
        data, found = _read(path)
        source, found = parse_yaml(data, str(path)) if data is not None else (None, found)
        problems += found
        if source is None:
            continue
        kind = source.data.get("kind")
        if kind == "Scenario":
            loaded, found = scenario_from_source(path, data, source)
            scenarios += [loaded.scenario] if loaded else []
        elif kind == "Rubric":
            found = validate(Rubric, source)[1]
        elif kind == "ResponderScript":
            found = []
            scripts.append(source)
        elif kind == "ReliabilityFleet":
            from tabletop.reliability.fleet import check_fleet  # a package that builds on this one

            found = check_fleet(source)[1]
        elif kind == "Sweep":
            found = _sweep_file(path)
        elif kind is None and "groups" in source.data:
            found = _rule_file(source)[1]
        else:
            found = [_unknown_kind(source, kind)]
        problems += found
    scenario = scenarios[0] if len(scenarios) == 1 else None
    for source in scripts:
        problems += _script(source, scenario)[1]
    return sorted_problems(problems)


def _sweep_file(path: Path) -> list[Problem]:
    """A sweep's problems, every grid point's scenario or fleet checked as ``tabletop sweep`` does."""
    from tabletop.sweep.plan import plan_sweep  # a package that builds on this one

    try:
        return list(plan_sweep(path).warnings)
    except InputError as error:
        return error.problems


def _unknown_kind(source: Source, kind: Any) -> Problem:
    expected = ("kind Scenario, Rubric, ResponderScript, ReliabilityFleet or Sweep, or a Prometheus rule file "
                "with top-level 'groups'")
    if kind is None:
        return source.problem((), f"cannot tell what this file is: expected {expected}")
    return source.problem(("kind",), f"unknown kind {kind!r}{hint(kind, _KINDS)}; expected {expected}")


# -- scenario ---------------------------------------------------------------------------------------


def _load_scenario(path: Path) -> tuple[LoadedScenario | None, list[Problem]]:
    data, problems = _read(path)
    if data is None:
        return None, problems
    source, problems = parse_yaml(data, str(path))
    if source is None:
        return None, problems
    loaded, found = scenario_from_source(path, data, source)
    return loaded, problems + found


class _Referenced:
    """Files a scenario refers to: read relative to it, kept for the digest."""

    def __init__(self, scenario_path: Path, scenario_bytes: bytes, source: Source) -> None:
        self.base = scenario_path.parent
        self.source = source
        self.files: list[tuple[str, bytes]] = [("scenario", scenario_bytes)]

    def read(self, reference: str, key: Sequence[PathPart]) -> tuple[str, bytes | None, list[Problem]]:
        """(display name, bytes or None, problems located at the referring key)."""
        path = self.base / reference
        display = os.path.normpath(path)
        data, reason = read_file(path)
        if data is None:
            return display, None, [self.source.problem(key, f"{reason}: {display}")]
        self.keep(format_path(key), data)
        return display, data, []

    def keep(self, label: str, data: bytes) -> None:
        self.files.append((label, data))

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for label, data in self.files:
            digest.update(f"{label}\0{len(data)}\0".encode())
            digest.update(data)
        return digest.hexdigest()


def scenario_from_source(path: Path, data: bytes, source: Source) -> tuple[LoadedScenario | None, list[Problem]]:
    """Check the scenario parsed as ``source`` (the file ``path`` holding ``data``, the bytes the
    digest is of) with the files it refers to, read relative to ``path``; every problem located
    in ``source``. A sweep passes each grid point's document with its scenario file's ``path``."""
    scenario, problems = validate(Scenario, source)
    sections = Sections.of(scenario) if scenario is not None else Sections.from_source(source)
    problems += check_references(source, sections)
    files = _Referenced(path, data, source)
    groups = list(scenario.rules.groups) if scenario is not None else []
    for key, reference in each(source.data, "rule_files", "*"):
        display, raw, found = files.read(reference, key) if isinstance(reference, str) else ("", None, [])
        rule_source, found = parse_yaml(raw, display) if raw is not None else (None, found)
        file_groups, more = _rule_file(rule_source) if rule_source else ([], [])
        groups += file_groups
        problems += found + more
    runbooks: list[Runbook] = []
    world = World.of(source.data)
    for key, reference in each(source.data, "runbooks", "*"):
        display, raw, found = files.read(reference, key) if isinstance(reference, str) else ("", None, [])
        runbook, found = _runbook(display, raw, world) if raw is not None else (None, found)
        problems += found + _duplicate_runbook(runbook, runbooks, source, key)
        runbooks += [runbook] if runbook else []
    rubric, found = _rubric(sections, files)
    problems += found
    experiments, found = _experiments(source, files)
    problems += found
    if scenario is None or rubric is None or has_errors(problems):
        return None, problems
    problems += check_drill(source, scenario, groups, runbooks, rubric, experiments)
    warnings = tuple(sorted_problems(problems))
    loaded = LoadedScenario(scenario, path, files.sha256(), tuple(groups), tuple(runbooks), rubric, warnings,
                            tuple(experiments))
    return loaded, problems


def _experiments(source: Source, files: _Referenced) -> tuple[list[LoadedExperiment], list[Problem]]:
    """Each experiment, written inline or read from its JSON or YAML file, checked with chaoslib."""
    loaded: list[LoadedExperiment] = []
    problems: list[Problem] = []
    for path, item in each(source.data, "experiments", "*"):
        if not isinstance(item, dict):
            continue
        name, index = item.get("id"), int(path[-1])
        if "experiment" in item and "file" not in item:
            found = check_experiment(source, path + ("experiment",), item["experiment"])
            document, origin = item["experiment"], "inline"
            located: tuple[Source | None, tuple[PathPart, ...]] = (source, path + ("experiment",))
        elif isinstance(item.get("file"), str) and "experiment" not in item:
            display, raw, found = files.read(item["file"], path + ("file",))
            experiment_source, more = parse_yaml(raw, display) if raw is not None else (None, [])
            found += more
            if experiment_source is not None:
                found += check_experiment(experiment_source, (), experiment_source.data)
            document, origin = (experiment_source.data if experiment_source else None), item["file"]
            located = (experiment_source, ())
        else:
            continue  # the model says what is wrong
        if located[0] is not None and isinstance(document, dict) and not has_errors(found) and _acts_on_twin(source):
            found += check_twin_support(located[0], located[1], document)
        problems += found
        if isinstance(name, str) and isinstance(document, dict) and not has_errors(found):
            loaded.append(LoadedExperiment(name, document, origin, index))
    return loaded, problems


def _acts_on_twin(source: Source) -> bool:
    """Whether the scenario's experiments act on the drill's own twin (``kubernetes.context``)."""
    kubernetes = source.data.get("kubernetes") if isinstance(source.data, dict) else None
    context = kubernetes.get("context", TWIN) if isinstance(kubernetes, dict) else TWIN
    return context == TWIN


def _duplicate_runbook(runbook: Runbook | None, earlier: list[Runbook], source: Source, key: Sequence[PathPart]) -> list[Problem]:
    if runbook is None or all(r.id != runbook.id for r in earlier):
        return []
    return [source.problem(key, f"two runbooks have the id {runbook.id!r} (runbook ids are file names without .md)")]


def _rubric(sections: Sections, files: _Referenced) -> tuple[Rubric | None, list[Problem]]:
    choice = sections.rubric
    if choice is None:
        return None, []
    if choice.file is None:
        raw, rubric, found = _default_rubric()
        files.keep("rubric", raw)
        problems = list(found)
    else:
        display, data, problems = files.read(choice.file, ("rubric", "file"))
        if data is None:
            return None, problems
        rubric_source, problems = parse_yaml(data, display)
        rubric, found = validate(Rubric, rubric_source) if rubric_source else (None, [])
        problems += found
    if rubric is None:
        return None, problems
    rubric, found = apply_overrides(rubric, choice, files.source)
    return rubric, problems + found


@functools.cache
def _default_rubric() -> tuple[bytes, Rubric | None, tuple[Problem, ...]]:
    """The bundled default rubric (package data), read once."""
    raw = resources.files("tabletop.scoring").joinpath("data", "default-rubric.yaml").read_bytes()
    source, problems = parse_yaml(raw, DEFAULT_RUBRIC)
    rubric, found = validate(Rubric, source) if source else (None, [])
    return raw, rubric, tuple(problems + found)


def _rule_file(source: Source) -> tuple[list[RuleGroup], list[Problem]]:
    rule_file, problems = validate(RuleFile, source)
    problems += check_rule_groups(source, ("groups",))
    return (list(rule_file.groups) if rule_file else []), problems


# -- runbooks ---------------------------------------------------------------------------------------


def _runbook_file(path: Path) -> list[Problem]:
    data, problems = _read(path)
    return _runbook(str(path), data, World())[1] if data is not None else problems


def _runbook(display: str, data: bytes, world: World) -> tuple[Runbook | None, list[Problem]]:
    """A parsed runbook and its problems, each located in the Markdown file."""
    text, problems = decode(data, display)
    if text is None:
        return None, problems
    runbook, found = parse_runbook(Path(display), text)
    problems += [Problem(display, p.line, p.column, "", p.message) for p in found]
    lines = text.splitlines()
    for step in runbook.steps:
        for command in step.commands:
            for message, offset in check_command(command.line, world, templated=True):
                line, column = _command_position(lines, command, offset)
                problems.append(Problem(display, line, column, f"step {step.number}", message))
    return runbook, problems


def _command_position(lines: list[str], command: StepCommand, offset: int | None) -> tuple[int, int]:
    """Line and column of a runbook command (and of ``offset`` in its line, when known)."""
    number = command.source_line
    text = lines[number - 1] if 0 < number <= len(lines) else ""
    if text.lstrip().startswith(("```", "~~~")):
        return _fenced_position(lines, number, command, offset)
    for written in (command.line, "tabletop " + command.line):
        found = text.find(written)
        if found >= 0:
            start = found + (len(written) - len(command.line))
            return number, start + (offset or 0) + 1
    return number, len(text) - len(text.lstrip()) + 1


def _fenced_position(lines: list[str], fence: int, command: StepCommand, offset: int | None) -> tuple[int, int]:
    """In a fenced block the command is its non-blank lines joined by spaces (``query `` first
    for a promql block)."""
    content: list[tuple[int, str, int]] = []  # (line number, stripped text, indent)
    for number in range(fence + 1, len(lines) + 1):
        text = lines[number - 1]
        if text.strip().startswith(("```", "~~~")):
            break
        if text.strip():
            content.append((number, text.strip(), len(text) - len(text.lstrip())))
    if not content:
        return fence, 1
    rest = max(0, offset - len("query ")) if offset is not None and command.line.startswith("query ") else 0
    for number, text, indent in content:
        if rest <= len(text):
            return number, indent + rest + 1
        rest -= len(text) + 1
    number, text, indent = content[-1]
    return number, indent + len(text)


# -- scripts ----------------------------------------------------------------------------------------


def _script(source: Source, scenario: Scenario | None) -> tuple[ResponderScript | None, list[Problem]]:
    script, problems = validate(ResponderScript, source)
    world = World.of(scenario.model_dump(by_alias=True)) if scenario is not None else World()
    return script, problems + _script_checks(source, world)


def _script_checks(source: Source, world: World) -> list[Problem]:
    """Names and PromQL of every command written well enough to be read (raw data)."""
    problems: list[Problem] = []
    participants = world.participants
    for path, person in each(source.data, "commands", "*", "as"):
        if isinstance(person, str) and participants is not None and person not in participants:
            message = f"no participant {person!r}{hint(person, participants)}; participants: {', '.join(participants)}"
            problems.append(source.problem(path, message))
    for path, line in each(source.data, "commands", "*", "run"):
        for message, offset in check_command(line, world) if isinstance(line, str) else ():
            if offset is None:
                problems.append(source.problem(path, message))
            else:
                row, column = source.offset_position(path, offset)
                problems.append(Problem(source.file, row, column, format_path(path), message))
    return problems


def _read(path: Path) -> tuple[bytes | None, list[Problem]]:
    data, reason = read_file(path)
    return data, [] if data is not None else [Problem(str(path), 1, 1, "", reason or "cannot read the file")]


def _read_yaml(path: Path) -> tuple[Source | None, list[Problem]]:
    data, problems = _read(path)
    return parse_yaml(data, str(path)) if data is not None else (None, problems)
