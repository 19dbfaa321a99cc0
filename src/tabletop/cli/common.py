"""What the command groups share: failing with a clear message, loading a scenario, shared options."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click

EXIT_BAD_INPUT = 1


def default_scenario() -> Path:
    """The bundled default scenario of a source checkout."""
    return Path(__file__).resolve().parents[3] / "scenarios" / "serving-gpu-node-failure.yaml"


def fail_with_problems(error: Any) -> NoReturn:
    from tabletop.scenario.problems import format_problems

    click.echo(format_problems(error.problems), err=True)
    sys.exit(EXIT_BAD_INPUT)


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def load(path: Path) -> Any:
    from tabletop.scenario.loader import load_scenario
    from tabletop.scenario.problems import InputError

    try:
        return load_scenario(path)
    except InputError as error:
        fail_with_problems(error)


def parse_until(duration: str | None) -> float | None:
    """The --duration option in seconds (None: the scenario's own)."""
    from tabletop.durations import parse_duration

    if duration is None:
        return None
    try:
        until = parse_duration(duration)
    except ValueError as error:
        fail(f"--duration: {error}")
    if until <= 0:
        fail("--duration: must be longer than 0s")
    return until


def responder_for(choice: str, loaded: Any) -> Any:
    """The --responder option: expert, novice or a responder script checked against the scenario."""
    from tabletop.drill.responders import BUILT_IN, make_responder
    from tabletop.scenario.problems import InputError

    if choice not in BUILT_IN and not Path(choice).exists():
        fail(f"--responder: {choice!r} is neither expert, novice nor an existing responder script")
    try:
        return make_responder(choice, loaded)
    except InputError as error:
        fail_with_problems(error)


def check_participant(scenario: Any, option: str, who: str | None) -> None:
    """Fail on an option naming someone who is not a participant of ``scenario``."""
    participants = [p.id for p in scenario.participants]
    if who is not None and who not in participants:
        fail(f"{option}: {who!r} is not a participant of {scenario.metadata.id}; participants: {', '.join(participants)}")


def scenario_label(path: Path) -> str:
    """The scenario path as recorded in the timeline: relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def with_twin_options(command: Any) -> Any:
    """The options of the Kubernetes twin, shared by `twin` and `run --twin`."""
    options = [
        click.option("--twin-host", default="127.0.0.1", show_default=True, help="Address the Kubernetes API listens on."),
        click.option("--twin-port", type=click.IntRange(0, 65535), default=0, show_default=True,
                     help="Port of the Kubernetes API (0: any free port; the kubeconfig names it)."),
        click.option("--twin-as", "twin_actor", metavar="PARTICIPANT",
                     help="Participant the API's writes are recorded as (default: the scenario's first); "
                          "`kubectl --as=ID` names another per request."),
        click.option("--twin-token", envvar="TABLETOP_TWIN_TOKEN", metavar="TOKEN",
                     help="Require this bearer token (env TABLETOP_TWIN_TOKEN); the API then speaks HTTPS with "
                          "a self-signed certificate the kubeconfig trusts."),
        click.option("--kubeconfig", "kubeconfig_path", type=click.Path(path_type=Path, dir_okay=False),
                     help="Where to write the kubeconfig (default: kubeconfig in the output folder)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def with_chaos_options(command: Any) -> Any:
    """--live and --allow-process: what the scenario's Chaos Toolkit experiments may do."""
    command = click.option("--allow-process", is_flag=True,
                           help="Let the scenario's Chaos Toolkit experiments run programs on this machine "
                                "(process providers); without it they are dry runs.")(command)
    return click.option("--live", is_flag=True,
                        help="Let the scenario's Chaos Toolkit experiments act on a real cluster: only the context and "
                             "namespaces its kubernetes.allowlist names; without it they are dry runs.")(command)




def emit(text: str, out: Path | None) -> None:
    if out is None:
        click.echo(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {out}")


def recorded_drill(timeline: Path, scenario: Path | None) -> tuple[Any, Any]:
    """The recorded timeline and the scenario it was run on (checked by hash)."""
    from tabletop.drill.timeline_reader import read_timeline
    from tabletop.scenario.problems import InputError

    try:
        recorded = read_timeline(timeline)
    except InputError as error:
        fail_with_problems(error)
    if recorded.truncated:
        click.echo(f"warning: {timeline}: the last line was incomplete (the drill was interrupted); "
                   f"read {len(recorded.events)} complete events", err=True)
    path = scenario or Path(recorded.header.scenario_path)
    if not path.exists():
        fail(f"{timeline}: its scenario {path} is not there; pass --scenario PATH")
    loaded = load(path)
    if loaded.sha256 != recorded.header.scenario_sha256:
        click.echo(f"warning: {path} (or a file it refers to) changed since the drill was recorded", err=True)
    return recorded, loaded
