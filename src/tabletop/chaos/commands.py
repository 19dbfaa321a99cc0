"""``tabletop chaos export`` and ``tabletop chaos import``: scenarios to Chaos Toolkit
experiments and back. Imports happen when a command runs, so ``tabletop --help`` stays fast."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

EXIT_BAD_INPUT = 1
_FORMATS = (".json", ".yaml", ".yml")


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        _fail(f"cannot write {path}: {error.strerror or error}")


@click.group()
def chaos() -> None:
    """Chaos Toolkit: export a scenario as an experiment, import an experiment as a scenario."""


@chaos.command("export")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False),
              help="Write here (.json, or .yaml/.yml for YAML) instead of standard output (JSON).")
def export_command(scenario: Path, out: Path | None) -> None:
    """Write SCENARIO as a Chaos Toolkit experiment that `chaos run` accepts.

    Its method injects the scenario's faults into a running drill on the drill's clock, its
    steady-state hypothesis holds each SLO, its rollbacks are the ground truth's fixes. Run it
    against a twin of the scenario that leaves them out, `tabletop twin SCENARIO --without-faults`:
    TABLETOP_URL=<the twin's URL> chaos run EXPERIMENT."""
    from tabletop.scenario.loader import load_scenario
    from tabletop.scenario.problems import InputError, format_problems

    if out is not None and out.suffix.lower() not in _FORMATS:
        _fail(f"--out: {out}: give a .json, .yaml or .yml file name (the format follows it)")
    if not scenario.exists():
        _fail(f"{scenario}: no such scenario file")
    try:
        loaded = load_scenario(scenario)
    except InputError as error:
        click.echo(format_problems(error.problems), err=True)
        sys.exit(EXIT_BAD_INPUT)
    from tabletop.chaos.export import ExportError, dumps, export_experiment

    try:
        exported = export_experiment(loaded.scenario)
    except ExportError as error:
        _fail(f"{scenario}: {error}")
    for warning in exported.warnings:
        click.echo(f"warning: {scenario}: {warning}", err=True)
    text = dumps(exported.experiment, out)
    if out is None:
        click.echo(text, nl=False)
        return
    _write(out, text)
    faults = len(exported.experiment["method"])
    click.echo(f"wrote {out} ({faults} fault(s), {len(exported.experiment['rollbacks'])} rollback(s)); "
               f"check it with: chaos validate {out}; run it against `tabletop twin {scenario} --without-faults` "
               f"(TABLETOP_URL=<its URL> chaos run {out})")


@chaos.command("import")
@click.argument("experiment", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False),
              help="The scenario to write (default: <experiment>.scenario.yaml beside the experiment).")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
def import_command(experiment: Path, out: Path | None, force: bool) -> None:
    """Write a scenario skeleton around the Chaos Toolkit EXPERIMENT (JSON or YAML).

    The scenario runs the experiment on the drill's clock against its Kubernetes twin, with a
    small fleet, SLO, alert and on-call set-up to adapt; the comments say what to fill in."""
    from tabletop.chaos.importer import ImportProblems, import_experiment
    from tabletop.scenario.problems import format_problems

    if not experiment.exists():
        _fail(f"{experiment}: no such experiment file")
    target = out or experiment.with_name(f"{experiment.stem}.scenario.yaml")
    if target.suffix.lower() not in (".yaml", ".yml"):
        _fail(f"--out: {target}: a scenario is a .yaml or .yml file")
    if target.exists() and not force:
        _fail(f"{target} exists; choose another --out or pass --force")
    try:
        imported = import_experiment(experiment, target)
    except ImportProblems as error:
        click.echo(format_problems(error.problems), err=True)
        sys.exit(EXIT_BAD_INPUT)
    for warning in imported.warnings:
        click.echo(warning.format(), err=True)
    _write(target, imported.text)
    click.echo(f"wrote {target}; fill in its TODOs, then: tabletop validate {target}")
