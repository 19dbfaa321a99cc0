"""The ``tabletop`` command line, one module per command group. Subcommands import what they
need when they run, so that ``tabletop --help`` stays fast."""

from __future__ import annotations

import click

from tabletop import __version__
from tabletop.chaos.commands import chaos
from tabletop.cli.authoring import schema, validate
from tabletop.cli.drills import drill, run, twin
from tabletop.cli.export import export
from tabletop.cli.library import brief, list_drills
from tabletop.cli.records import postmortem, replay, score
from tabletop.cli.reliability import reliability
from tabletop.cli.rules import rules
from tabletop.cli.seats import join
from tabletop.cli.stack import stack
from tabletop.cli.sweep import sweep


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tabletop")
def main() -> None:
    """tabletop: incident tabletop drills and chaos simulation for ML-infrastructure on-call."""


for command in (run, twin, drill, list_drills, brief, validate, schema, score, postmortem, replay, export, rules, chaos, reliability, sweep, stack, join):
    main.add_command(command)


if __name__ == "__main__":
    main()
