"""The live monitoring stack from the command line: `run --stack` (and its options)."""

from __future__ import annotations

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


def run_stack(loaded: Any, responder: Any, speed: float, out_dir: Path, alertmanager_config: Path | None,
              options: dict[str, Any]) -> Any:
    """A drill paged by the live stack; every way the stack cannot start is one clear error."""
    from tabletop.scenario.problems import InputError
    from tabletop.stack.binaries import MissingBinary
    from tabletop.stack.run import run_with_stack
    from tabletop.stack.server import ServerError

    folder = out_dir / "stack"

    def ready(live: Any) -> None:
        urls = live.urls()
        click.echo(f"live stack in {folder}: Prometheus {urls['prometheus']}, Alertmanager {urls['alertmanager']} "
                   f"(drill at {live.speed:g}x; pages come from Alertmanager)", err=True)

    try:
        return run_with_stack(loaded, responder, folder=folder, speed=speed, alertmanager_config=alertmanager_config,
                              on_ready=ready, **options)
    except MissingBinary as error:
        fail(str(error))
    except InputError as error:
        fail_with_problems(error)
    except (ServerError, ValueError) as error:  # ValueError: TimescaleError, ScaleError
        fail(f"the live stack: {error}")


def start_console_stack(exits: Any, loaded: Any, *, speed: float, folder: Path, alertmanager_config: Path | None,
                        tick: float) -> Any:
    """`drill --stack`: the live stack of a console drill, started before its session exists (a
    stack that cannot start is one clear error and leaves no timeline) and stopped by ``exits``
    (an ExitStack); the console steps it every ``tick`` wall seconds."""
    from contextlib import closing

    from tabletop.scenario.problems import InputError
    from tabletop.signals.metrics_server import MetricsServer
    from tabletop.stack.binaries import MissingBinary
    from tabletop.stack.server import ServerError
    from tabletop.stack.session import LiveStack

    metrics = exits.enter_context(closing(MetricsServer("127.0.0.1", 0)))
    live = LiveStack(loaded, metrics, speed=speed, folder=folder, alertmanager_config=alertmanager_config, tick=tick)
    exits.callback(live.close)
    try:
        metrics.start()
        live.start()
    except MissingBinary as error:
        fail(str(error))
    except InputError as error:
        fail_with_problems(error)
    except (ServerError, ValueError) as error:  # ValueError: TimescaleError, ScaleError
        fail(f"the live stack: {error}")
    return live
