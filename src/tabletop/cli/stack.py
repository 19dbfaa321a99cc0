"""The live monitoring stack from the command line: `run --stack` and `drill --stack` (their options and errors), and `tabletop stack` beside a running drill."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from tabletop.cli.common import fail, fail_with_problems


def with_stack_options(command: Any) -> Any:
    """--stack and --alertmanager-config."""
    command = click.option(
        "--alertmanager-config", type=click.Path(path_type=Path, dir_okay=False), default=None,
        help="With --stack: your own alertmanager.yml instead of the scenario's routing (its receivers "
             "notify only the drill; a receiver named after an escalation policy pages it).")(command)
    return click.option(
        "--stack", is_flag=True,
        help="Page through a real Prometheus and Alertmanager on loopback (Debian packages prometheus and "
             "prometheus-alertmanager): Prometheus runs the scenario's rules, time-scaled to --speed (default 1), "
             "Alertmanager routes what fires and its notifications page the team. Files and logs in OUT/stack/.")(command)


def check_stack_options(stack: bool, alertmanager_config: Path | None, twin: bool, loaded: Any, headless: bool) -> None:
    """Fail on options --stack cannot go with (before anything starts)."""
    if alertmanager_config is not None and not stack:
        fail("--alertmanager-config configures the stack: add --stack")
    if not stack:
        return
    if headless:
        fail("--stack runs Prometheus and Alertmanager on the wall clock: drop --headless (use --speed to go faster)")
    if twin:
        fail("--stack does not run beside --twin yet: run `tabletop stack` beside a twin instead")
    if loaded.experiments:
        fail(f"{loaded.path}: --stack does not run a scenario with Chaos Toolkit experiments yet")
    if alertmanager_config is not None and not alertmanager_config.exists():
        fail(f"--alertmanager-config: {alertmanager_config}: no such file")


@contextmanager
def stack_errors(prefix: str = "the live stack: ") -> Iterator[None]:
    """Every way the stack cannot start or run as one clear error and exit 1: a missing binary's
    one line, a team config's located problems, a server's or the time scaling's reason."""
    from tabletop.scenario.problems import InputError
    from tabletop.stack.binaries import MissingBinary
    from tabletop.stack.server import ServerError

    try:
        yield
    except MissingBinary as error:
        fail(str(error))
    except InputError as error:
        fail_with_problems(error)
    except (ServerError, ValueError) as error:  # ValueError: TargetError, TimescaleError, ScaleError
        fail(f"{prefix}{error}")


def run_stack(loaded: Any, responder: Any, speed: float, out_dir: Path, alertmanager_config: Path | None,
              options: dict[str, Any]) -> Any:
    """A drill paged by the live stack; every way the stack cannot start is one clear error."""
    from tabletop.stack.run import run_with_stack

    folder = out_dir / "stack"

    def ready(live: Any) -> None:
        urls = live.urls()
        click.echo(f"live stack in {folder}: Prometheus {urls['prometheus']}, Alertmanager {urls['alertmanager']} "
                   f"(drill at {live.speed:g}x; pages come from Alertmanager)", err=True)

    with stack_errors():
        return run_with_stack(loaded, responder, folder=folder, speed=speed, alertmanager_config=alertmanager_config,
                              on_ready=ready, **options)


def start_console_stack(exits: Any, loaded: Any, *, speed: float, folder: Path, alertmanager_config: Path | None,
                        tick: float) -> Any:
    """`drill --stack`: the live stack of a console drill, started before its session exists (a
    stack that cannot start is one clear error and leaves no timeline) and stopped by ``exits``
    (an ExitStack); the console steps it every ``tick`` wall seconds."""
    from contextlib import closing

    from tabletop.signals.metrics_server import MetricsServer
    from tabletop.stack.session import LiveStack

    metrics = exits.enter_context(closing(MetricsServer("127.0.0.1", 0)))
    live = LiveStack(loaded, metrics, speed=speed, folder=folder, alertmanager_config=alertmanager_config, tick=tick)
    exits.callback(live.close)
    with stack_errors():
        metrics.start()
        live.start()
    return live


@click.command("stack")
@click.argument("target")
@click.option("--scenario", "scenario_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The drill's scenario file (default: the bundled scenario, or the one of ./scenarios or the "
                   "bundled bank whose metadata.id the drill names).")
@click.option("--speed", type=float, default=None,
              help="The drill's speed (drill seconds per wall second); default: measured from its clock.")
@click.option("--alertmanager-config", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Your own alertmanager.yml instead of the scenario's routing (its receivers are replaced "
                   "by the local webhook).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder for the configs, logs and data (default out/stack-<scenario id>).")
def stack(target: str, scenario_path: Path | None, speed: float | None, alertmanager_config: Path | None,
          out_dir: Path | None) -> None:
    """Bring a real Prometheus and Alertmanager up beside a running drill or twin, to show their UIs.

    TARGET is the drill's metrics URL as `run --speed N --metrics-port P` or `twin --metrics-port P`
    printed it (http://127.0.0.1:PORT/metrics, or HOST:PORT). Prometheus scrapes it (honor_labels)
    every scrape interval / speed and runs the scenario's rules time-scaled to the drill's clock,
    read from its tabletop_drill_elapsed_seconds; Alertmanager routes what fires. Prints the
    Prometheus UI (/graph, /alerts) and Alertmanager UI URLs, then one line per Alertmanager
    notification: its receivers point at a local webhook that only prints them, so this stack
    pages nobody (the drill pages through its own engine). Runs until Ctrl-C or SIGTERM, or
    until the drill stops answering, then stops both servers (exit 0).

    The drill's samples carry no timestamps, so Prometheus evaluates on its own grid and its
    alerts fire near, not at, the drill second the drill's engine fires them: this stack is for
    showing the real UIs; `run --stack` is the one whose firing times match the drill exactly."""
    import math

    from tabletop.stack import beside

    if speed is not None and not (math.isfinite(speed) and speed > 0):
        fail(f"--speed: must be a positive number of drill seconds per wall second, got {speed:g}")
    if alertmanager_config is not None and not alertmanager_config.exists():
        fail(f"--alertmanager-config: {alertmanager_config}: no such file")
    try:
        where = beside.parse_target(target)
        reading = beside.read_target(where)
    except beside.TargetError as error:
        fail(str(error))
    loaded = _drill_scenario(scenario_path, reading.scenario)
    folder = out_dir or Path("out") / f"stack-{loaded.scenario.metadata.id}"
    with beside.terminating_as_interrupt():
        _serve_beside(loaded, where, reading, speed, alertmanager_config, folder)


def _drill_scenario(path: Path | None, scenario_id: str) -> Any:
    """--scenario, else the bundled scenario or the bank's scenario with the drill's id."""
    from tabletop.cli.common import default_scenario, load
    from tabletop.stack.beside import find_scenario

    if path is not None:
        if not path.exists():
            fail(f"--scenario: {path}: no such scenario file")
        loaded = load(path)
        if loaded.scenario.metadata.id != scenario_id:
            click.echo(f"warning: {path} is scenario {loaded.scenario.metadata.id}; the drill plays {scenario_id}",
                       err=True)
        return loaded
    bundled = default_scenario()
    found = find_scenario(scenario_id, [bundled, Path("scenarios"), bundled.parent])
    if found is None:
        fail(f"the drill plays scenario {scenario_id!r}, and neither the bundled scenario nor ./scenarios nor the "
             f"bundled bank has one with that metadata.id: give its file with --scenario")
    return load(found)


def _serve_beside(loaded: Any, where: Any, reading: Any, speed: float | None, alertmanager_config: Path | None,
                  folder: Path) -> None:
    """Measure the drill's clock, start the stack, say where it is, print notifications until told
    to stop or the drill is gone; the stack is stopped whatever happens."""
    import sys

    from tabletop.stack.beside import BesideStack, observe, watch

    live = None
    up = False
    try:
        with stack_errors(prefix=""):
            clock = observe(where, speed)
            live = BesideStack(loaded, where, clock, folder=folder, alertmanager_config=alertmanager_config)
            live.start()
            up = True
            _say_up(live, reading)
            if watch(live, click.echo) == "gone":
                click.echo(f"the drill at {where.url} stopped answering: stopping the stack (files in {folder})")
    except KeyboardInterrupt:
        if not up:
            click.echo("interrupted before the stack was up", err=True)
            sys.exit(130)
        click.echo(f"stopping the stack (files in {folder}); the drill goes on")
    finally:
        if live is not None:
            live.close()


def _say_up(live: Any, reading: Any) -> None:
    clock = live.clock
    measured = "given" if clock.measured is None else f"measured {clock.measured:.4g}x"
    urls = live.urls()
    click.echo(f"tabletop stack beside {live.target.url}: drill {reading.scenario} (seed {reading.seed}, responder "
               f"{reading.responder}) at {clock.speed:g}x ({measured})\n"
               f"  Prometheus UI:    {urls['prometheus']}\n"
               f"  its alerts:       {urls['prometheus_alerts']}\n"
               f"  Alertmanager UI:  {urls['alertmanager']}\n"
               f"  files:            {live.folder}\n"
               "Alertmanager's notifications are printed below; they page nobody (the drill pages through its own "
               "engine). Ctrl-C stops the stack; the drill goes on.")
