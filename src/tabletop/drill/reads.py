"""What a drill nobody types into can read from its series store, so the scrape can leave out the rest.

In a headless drill every PromQL expression is known before it starts: the rules, the fault,
inject and experiment conditions, the queries of the runbooks' steps and those a responder
script (or a recording) issues. The exporters then write only the series those expressions
can select: the timeline is the same as with a full scrape (``tabletop replay --verify``
checks it against one), and a drill costs about half, which is what sweeps of thousands of
runs need. The store refuses to read a left-out name (``UnscrapedRead``), so an expression
missed here fails loudly instead of seeing no data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tabletop.drill.command_line import CommandSyntaxError, parse_command
from tabletop.scenario.loader import LoadedScenario
from tabletop.signals.promql import PromQLError, parse_query
from tabletop.signals.scraper import series_names

EVERYTHING: frozenset[str] = frozenset()
"""Leave nothing out."""


def unread_series(loaded: LoadedScenario, command_lines: Iterable[str] | None) -> frozenset[str]:
    """Series names no expression of the drill can select (``SeriesStore.unscraped``).

    ``command_lines`` are the commands the responder issues beside runbook steps; None when
    they are not known in advance (then nothing is left out). Nothing is left out either when
    the drill runs Chaos Toolkit experiments (their probes query what they like) or when an
    expression may select any name or cannot be read (a placeholder, bad syntax).
    """
    if command_lines is None or loaded.experiments:
        return EVERYTHING
    read: set[str] = set()
    for expr in _expressions(loaded, command_lines):
        try:
            query = parse_query(expr)
        except PromQLError:
            return EVERYTHING
        if query.any_name:
            return EVERYTHING
        read |= query.metric_names()
    return series_names() - read


def _expressions(loaded: LoadedScenario, command_lines: Iterable[str]) -> Iterator[str]:
    scenario = loaded.scenario
    for group in loaded.rule_groups:
        for rule in group.rules:
            yield rule.expr
    for section in (scenario.faults, scenario.injects, scenario.experiments):
        for item in section:
            condition = item.when.condition if item.when is not None else None
            if condition:
                yield condition
    lines = [command.line for runbook in loaded.runbooks for step in runbook.steps for command in step.commands]
    for line in [*lines, *command_lines]:
        if not line.startswith("query"):
            continue
        try:
            command = parse_command(line)
        except CommandSyntaxError:
            yield line  # not a query we can read: nothing is left out
            continue
        if command.name == "query":
            yield command.args["expr"]
