"""`rules`: export a scenario's Prometheus rules, state what they do as a promtool unit test."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from tabletop.cli.common import EXIT_BAD_INPUT, fail, load, parse_until, responder_for


@click.group()
def rules() -> None:
    """Prometheus rule files: export a scenario's rules, state what they do as a promtool unit test."""


@rules.command("export")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write here instead of standard output.")
def rules_export(scenario: Path, out: Path | None) -> None:
    """Write SCENARIO's rules (inline and rule_files) as one Prometheus rule file."""
    from tabletop.signals.promtool_rules import rule_file_text

    if not scenario.exists():
        fail(f"{scenario}: no such scenario file")
    loaded = load(scenario)
    try:
        text = rule_file_text(loaded.rule_groups)
    except ValueError as error:
        fail(f"{scenario}: {error}")
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {out}: {error.strerror or error}")
    click.echo(f"wrote {out}")


def _rule_file_groups(path: Path) -> list[Any]:
    """The groups of a Prometheus rule file; every problem located, then exit 1."""
    from tabletop.scenario.problems import Problem, format_problems, has_errors
    from tabletop.scenario.expressions import check_rule_groups
    from tabletop.scenario.rules import RuleFile
    from tabletop.scenario.validation import validate
    from tabletop.scenario.yaml_source import parse_yaml, read_file

    data, reason = read_file(path)
    if data is None:
        click.echo(format_problems([Problem(str(path), 1, 1, "", reason or "cannot read the file")]), err=True)
        sys.exit(EXIT_BAD_INPUT)
    source, problems = parse_yaml(data, str(path))
    rule_file = None
    if source is not None:
        rule_file, found = validate(RuleFile, source)
        problems += found + check_rule_groups(source, ("groups",))
    if rule_file is None or has_errors(problems):
        click.echo(format_problems(problems), err=True)
        sys.exit(EXIT_BAD_INPUT)
    return list(rule_file.groups)


@rules.command("test")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path, dir_okay=False), help="The promtool unit-test file to write.")
@click.option("--rules", "rules_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Your own Prometheus rule file to state (default: the scenario's rules).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the simulated drill.")
@click.option("--responder", default="expert", show_default=True, metavar="expert|novice|PATH",
              help="Who responds during the simulated drill.")
@click.option("--duration", default=None, metavar="DURATION", help="Simulate this long instead of the scenario's duration, e.g. 1h.")
def rules_test(scenario: Path, out: Path, rules_file: Path | None, seed: int, responder: str, duration: str | None) -> None:
    """Simulate SCENARIO and write a promtool unit test stating which rules fire when.

    The test's input series are the simulated series the rules read; its alert checks are
    what tabletop computed. Without --rules the scenario's rules are written next to it as
    OUT's name with .rules.yaml. `promtool test rules OUT` passes when Prometheus agrees."""
    import math
    import os

    from tabletop.drill.run import run_headless
    from tabletop.durations import format_duration
    from tabletop.signals.promtool_rules import rule_file_text
    from tabletop.signals.promtool_tests import common_interval, read_series, state_rules

    if not scenario.exists():
        fail(f"{scenario}: no such scenario file")
    until = parse_until(duration)
    loaded = load(scenario)
    groups = _rule_file_groups(rules_file) if rules_file is not None else list(loaded.rule_groups)
    if not any(rule.alert for group in groups for rule in group.rules):
        fail(f"{rules_file or scenario}: no alerting rules to test")
    rules_text = None
    if rules_file is None:
        try:
            rules_text = rule_file_text(groups)
        except ValueError as error:
            fail(f"{scenario}: {error}")
    chosen = responder_for(responder, loaded)
    signals = loaded.scenario.signals
    interval = common_interval(groups, signals.evaluation_interval)
    if interval is None:
        interval = signals.evaluation_interval
        click.echo(f"warning: the rule groups have different intervals; promtool evaluates every group every "
                   f"{format_duration(interval)} (the scenario's evaluation_interval), and so does this test", err=True)
    drill = run_headless(loaded, chosen, seed=seed, until=until)
    end = (math.ceil((until or loaded.scenario.metadata.duration) / interval) - 1) * interval
    try:
        statement = state_rules(read_series(drill.store, groups), groups, interval, end)
    except ValueError as error:
        fail(str(error))
    if statement.failures:
        failure = statement.failures[0]
        fail(f"rule {failure.rule!r} (group {failure.group!r}) fails at {format_duration(failure.t)}: "
              f"{failure.message}; promtool stops a test at a failing rule")
    rules_path = rules_file if rules_file is not None else out.with_name(out.stem + ".rules.yaml")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if rules_text is not None:
            rules_path.write_text(rules_text, encoding="utf-8")
        reference = os.path.relpath(rules_path.resolve(), out.parent.resolve())
        out.write_text(statement.text([reference]), encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {out}: {error.strerror or error}")
    firing = sum(1 for t in statement.transitions if t.state == "firing")
    click.echo(f"wrote {out} ({len(statement.test['input_series'])} input series, "
               f"{len(statement.test['alert_rule_test'])} alert checks at {len(statement.checked)} times, "
               f"{firing} alert(s) fired)" + (f" and {rules_path}" if rules_text is not None else ""))
    click.echo(f"check it with: promtool test rules {out}")
