"""Writing drills: `validate` files and print the `schema` editors complete from."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tabletop.cli.common import EXIT_BAD_INPUT


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check scenarios, runbooks, rubrics, responder scripts and rule files."""
    from tabletop.scenario.loader import validate_files
    from tabletop.scenario.problems import format_problems, has_errors

    problems = validate_files(files)
    if problems:
        click.echo(format_problems(problems), err=True)
    if has_errors(problems):
        sys.exit(EXIT_BAD_INPUT)
    click.echo(f"{len(files)} file(s) OK")


@click.command()
@click.option("--kind", type=click.Choice(["scenario", "rubric", "script", "fleet", "sweep"]), default="scenario",
              show_default=True)
def schema(kind: str) -> None:
    """Print the JSON Schema of a file kind, for editors."""
    import json

    from tabletop.scenario.schema import json_schema, model_schema

    if kind == "fleet":
        from tabletop.reliability.fleet import ReliabilityFleet

        document = model_schema(ReliabilityFleet, kind, "tabletop reliability fleet (tabletop/v1)")
    elif kind == "sweep":
        from tabletop.sweep.spec import SweepSpec

        document = model_schema(SweepSpec, kind, "tabletop sweep (tabletop/v1)")
    else:
        document = json_schema(kind)  # type: ignore[arg-type]
    click.echo(json.dumps(document, indent=2))
