"""The ``tabletop`` command line. Subcommands import what they need when they run, so that
``tabletop --help`` stays fast."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from tabletop import __version__

EXIT_BAD_INPUT = 1


def _default_scenario() -> Path:
    """The bundled default scenario of a source checkout."""
    return Path(__file__).resolve().parents[2] / "scenarios" / "serving-gpu-node-failure.yaml"


def _fail_with_problems(error: Any) -> NoReturn:
    from tabletop.scenario.problems import format_problems

    click.echo(format_problems(error.problems), err=True)
    sys.exit(EXIT_BAD_INPUT)


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def _load(path: Path) -> Any:
    from tabletop.scenario.loader import load_scenario
    from tabletop.scenario.problems import InputError

    try:
        return load_scenario(path)
    except InputError as error:
        _fail_with_problems(error)


def _until(duration: str | None) -> float | None:
    """The --duration option in seconds (None: the scenario's own)."""
    from tabletop.durations import parse_duration

    if duration is None:
        return None
    try:
        until = parse_duration(duration)
    except ValueError as error:
        _fail(f"--duration: {error}")
    if until <= 0:
        _fail("--duration: must be longer than 0s")
    return until


def _responder(choice: str, loaded: Any) -> Any:
    """The --responder option: expert, novice or a responder script checked against the scenario."""
    from tabletop.drill.responders import BUILT_IN, make_responder
    from tabletop.scenario.problems import InputError

    if choice not in BUILT_IN and not Path(choice).exists():
        _fail(f"--responder: {choice!r} is neither expert, novice nor an existing responder script")
    try:
        return make_responder(choice, loaded)
    except InputError as error:
        _fail_with_problems(error)


def _check_participant(scenario: Any, option: str, who: str | None) -> None:
    """Fail on an option naming someone who is not a participant of ``scenario``."""
    participants = [p.id for p in scenario.participants]
    if who is not None and who not in participants:
        _fail(f"{option}: {who!r} is not a participant of {scenario.metadata.id}; participants: {', '.join(participants)}")


def _scenario_label(path: Path) -> str:
    """The scenario path as recorded in the timeline: relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _twin_options(command: Any) -> Any:
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


def _chaos_options(command: Any) -> Any:
    """--live and --allow-process: what the scenario's Chaos Toolkit experiments may do."""
    command = click.option("--allow-process", is_flag=True,
                           help="Let the scenario's Chaos Toolkit experiments run programs on this machine "
                                "(process providers); without it they are dry runs.")(command)
    return click.option("--live", is_flag=True,
                        help="Let the scenario's Chaos Toolkit experiments act on a real cluster: only the context and "
                             "namespaces its kubernetes.allowlist names; without it they are dry runs.")(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tabletop")
def main() -> None:
    """tabletop: incident tabletop drills and chaos simulation for ML-infrastructure on-call."""


@main.command()
@click.argument("scenario", required=False, type=click.Path(path_type=Path))
@click.option("--headless", is_flag=True, help="Run without the console (scripted responders). The only mode for now.")
@click.option("--responder", default="expert", show_default=True, metavar="expert|novice|PATH",
              help="Who responds: a built-in scripted responder or a responder script (YAML).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of every random choice in the drill.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), help="Folder for the outputs (default out/<scenario>-<responder>-seed<N>).")
@click.option("--duration", default=None, metavar="DURATION", help="Simulate this long instead of the scenario's duration, e.g. 3h.")
@click.option("--speed", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Run against the wall clock: virtual seconds per wall second (1 = real time). Default: as fast as possible.")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
              help="Serve the simulated fleet's metrics at http://HOST:PORT/metrics while the drill runs (0: any free port; implies --speed 1 unless given).")
@click.option("--metrics-host", default="127.0.0.1", show_default=True, help="Address the metrics server listens on.")
@click.option("--twin", is_flag=True, help="Serve the simulated fleet as a Kubernetes API while the drill runs "
              "(implies --speed 1 unless given); see `tabletop twin --help` for the --twin-* options.")
@_chaos_options
@_twin_options
def run(scenario: Path | None, headless: bool, responder: str, seed: int, out_dir: Path | None, duration: str | None,
        speed: float | None, metrics_port: int | None, metrics_host: str, twin: bool, live: bool, allow_process: bool,
        **twin_options: Any) -> None:
    """Run a drill on SCENARIO (default: the bundled scenario) and write timeline.jsonl,
    score.json, score.md and postmortem.md.

    With --speed or --metrics-port the drill runs against the wall clock and a real Prometheus
    can scrape it (use honor_labels: true: the drill speaks for many exporters). With --twin,
    kubectl and Chaos Toolkit can act on the fleet too, beside the responder.

    A scenario with Chaos Toolkit experiments runs paced (--speed, default 1) and, when they
    target the twin, with --twin implied; their journals go to OUT/chaos/. A real cluster is
    only touched with --live and the scenario's kubernetes.allowlist; otherwise a dry run
    shows what would have happened."""
    _run_drill(scenario, responder, seed, out_dir, duration, speed, metrics_port, metrics_host, twin, twin_options,
               {"live": live, "allow_process": allow_process})


def _run_drill(scenario: Path | None, responder: str | None, seed: int, out_dir: Path | None, duration: str | None,
               speed: float | None, metrics_port: int | None, metrics_host: str, twin: bool,
               twin_options: dict[str, Any], chaos_options: dict[str, Any] | None = None) -> None:
    """`run` and `twin`: a drill to its end (headless, paced or served as a twin), then its outputs."""
    import time

    from tabletop.drill.outputs import write_outputs
    from tabletop.drill.responders import BUILT_IN
    from tabletop.drill.run import run_headless

    path = scenario or _default_scenario()
    if not path.exists():
        _fail(f"{path}: no such scenario file")
    until = _until(duration)
    loaded = _load(path)
    chosen = None if responder is None else _responder(responder, loaded)
    name = "twin" if responder is None else responder if responder in BUILT_IN else Path(responder).stem
    out_dir = out_dir or Path("out") / f"{loaded.scenario.metadata.id}-{name}-seed{seed}"
    timeline = out_dir / "timeline.jsonl"
    options = {"seed": seed, "timeline_path": timeline, "scenario_label": _scenario_label(path),
               "responder_name": name, "until": until}
    began = time.perf_counter()
    try:
        if loaded.experiments:
            drill = _run_chaos(loaded, chosen, speed or 1.0, metrics_host, metrics_port, out_dir, options, twin_options,
                               **(chaos_options or {}))
        elif twin:
            drill = _run_twin(loaded, chosen, speed or 1.0, metrics_host, metrics_port, out_dir, options, **twin_options)
        elif speed is None and metrics_port is None:
            drill = run_headless(loaded, chosen, **options)
        else:
            drill = _run_live(loaded, chosen, speed or 1.0, metrics_host, metrics_port, options)
        elapsed = time.perf_counter() - began
        outputs = write_outputs(loaded, drill.timeline.header, drill.timeline.events, out_dir)
    except KeyboardInterrupt:
        click.echo(f"interrupted; the timeline so far is in {timeline}", err=True)
        sys.exit(130)
    except OSError as error:
        _fail(f"cannot write the drill's outputs to {out_dir}: {error.strerror or error}")
    click.echo(outputs.summary(drill, elapsed))
    if drill.timeline.events[-1].data.get("reason") == "aborted":
        sys.exit(130)


def _run_twin(loaded: Any, responder: Any, speed: float, metrics_host: str, metrics_port: int | None, out_dir: Path,
              options: dict[str, Any], *, twin_host: str, twin_port: int, twin_actor: str | None, twin_token: str | None,
              kubeconfig_path: Path | None, companions: tuple[Any, ...] = ()) -> Any:
    """A drill paced at ``speed`` whose fleet is served as a Kubernetes API (and its metrics with ``metrics_port``)."""
    from tabletop.twin.runner import run_twin
    from tabletop.twin.tls import TlsError

    participants = [p.id for p in loaded.scenario.participants]
    _check_participant(loaded.scenario, "--twin-as", twin_actor)
    kubeconfig = kubeconfig_path or out_dir / "kubeconfig"

    def ready(twin: Any) -> None:
        context = loaded.scenario.metadata.id
        click.echo(f"serving the simulated fleet as a Kubernetes API at {twin.url} (context {context}, "
                   f"writes as {twin.actor})\n  kubectl --kubeconfig {kubeconfig} get pods", err=True)
        if metrics_port is not None:
            click.echo("serving the drill's metrics at /metrics too (scrape with honor_labels: true)", err=True)

    try:
        return run_twin(loaded, seed=options["seed"], speed=speed, host=twin_host, port=twin_port, token=twin_token,
                        actor=twin_actor or (participants[0] if participants else None), kubeconfig_path=kubeconfig,
                        timeline_path=options["timeline_path"], scenario_label=options["scenario_label"],
                        responder=responder, responder_name=options["responder_name"], until=options["until"],
                        metrics_host=metrics_host, metrics_port=metrics_port, on_ready=ready, companions=companions)
    except TlsError as error:
        _fail(f"--twin-token: {error}")
    except OSError as error:
        if error.filename is not None:
            raise
        _fail(f"cannot listen on {twin_host}:{twin_port} (or the metrics port): {error.strerror or error}")


def _run_chaos(loaded: Any, responder: Any, speed: float, metrics_host: str, metrics_port: int | None, out_dir: Path,
               options: dict[str, Any], twin_options: dict[str, Any], *, live: bool = False, allow_process: bool = False) -> Any:
    """A paced drill whose Chaos Toolkit experiments run: against its twin (served as with --twin), or
    against the scenario's real cluster (no twin; --live and the allowlist decide)."""
    from tabletop.chaos.runner import ChaosRunner, run_chaos_drill
    from tabletop.scenario.chaos import TWIN

    def notify(message: str) -> None:
        click.echo(message, err=True)

    if loaded.scenario.kubernetes.context == TWIN:
        runner = ChaosRunner(loaded, out_dir, live=live, allow_process=allow_process, notify=notify)
        return _run_twin(loaded, responder, speed, metrics_host, metrics_port, out_dir, options, companions=(runner,),
                         **twin_options)
    click.echo(f"experiments act on kube context {loaded.scenario.kubernetes.context!r}; the drill runs without a twin",
               err=True)
    return run_chaos_drill(loaded, out_dir=out_dir, speed=speed, live=live, allow_process=allow_process,
                           responder=responder, notify=notify, **options)


def _run_live(loaded: Any, responder: Any, speed: float, host: str, port: int | None, options: dict[str, Any]) -> Any:
    """A drill paced at ``speed``, serving its metrics when ``port`` is given."""
    from tabletop.drill.live import run_live

    def ready(bound: int) -> None:
        shown = f"[{host}]" if ":" in host else host
        click.echo(f"serving the drill's metrics at http://{shown}:{bound}/metrics (scrape with honor_labels: true)", err=True)

    try:
        return run_live(loaded, responder, speed=speed, metrics_host=host, metrics_port=port, on_ready=ready, **options)
    except OSError as error:
        if port is None:
            raise
        _fail(f"--metrics-port: cannot listen on {host}:{port}: {error.strerror or error}")


@main.command()
@click.argument("scenario", required=False, type=click.Path(path_type=Path))
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of every random choice in the drill.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Folder for the kubeconfig and the outputs (default out/<scenario>-twin-seed<N>).")
@click.option("--speed", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Virtual seconds per wall second.")
@click.option("--duration", default=None, metavar="DURATION", help="Run this long instead of the scenario's duration, e.g. 3h.")
@click.option("--responder", default=None, metavar="expert|novice|PATH",
              help="A scripted responder working the drill beside the people using the API (default: none).")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
              help="Serve the fleet's metrics at http://HOST:PORT/metrics too (0: any free port).")
@click.option("--metrics-host", default="127.0.0.1", show_default=True, help="Address the metrics server listens on.")
@_twin_options
def twin(scenario: Path | None, seed: int, out_dir: Path | None, speed: float, duration: str | None,
         responder: str | None, metrics_port: int | None, metrics_host: str, **twin_options: Any) -> None:
    """Serve SCENARIO's simulated fleet as a Kubernetes API while its drill runs.

    Writes a kubeconfig (context named after the scenario) for kubectl, the Kubernetes Python
    client and Chaos Toolkit. Every write (delete pod, cordon, drain, scale, rollout restart or
    undo) is a command on the timeline in the name of --twin-as (or `kubectl --as=ID`). At the
    end, or on Ctrl-C, the score and postmortem draft are written as `run` writes them."""
    _run_drill(scenario, responder, seed, out_dir, duration, speed, metrics_port, metrics_host, True, twin_options)


@main.command()
@click.argument("scenario", required=False, type=click.Path(path_type=Path))
@click.option("--seed", type=int, default=None, help="Seed of every random choice in the drill.  [default: 0]")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Folder for the timeline and, at the end, score and postmortem (default out/<scenario>-console-seed<N>).")
@click.option("--as", "acting_as", metavar="PARTICIPANT",
              help="Participant your commands run as (default: the scenario's first); switch in the console with p.")
@click.option("--speed", type=float, default=None,
              help="Virtual seconds per wall second, up to 60 (default 1). The drill starts paused: space starts it.")
@click.option("--resume", type=click.Path(path_type=Path, dir_okay=False), metavar="TIMELINE",
              help="Continue the drill recorded in TIMELINE (a console closed or crashed before the end).")
@click.option("--scenario", "scenario_path", type=click.Path(path_type=Path),
              help="With --resume: the scenario file (default: the path the timeline names).")
@click.option("--twin", is_flag=True, help="Serve the simulated fleet as a Kubernetes API too, so kubectl and "
              "Chaos Toolkit can act on it (kubeconfig in the output folder).")
@_chaos_options
@_twin_options
def drill(scenario: Path | None, seed: int | None, out_dir: Path | None, acting_as: str | None, speed: float | None,
          resume: Path | None, scenario_path: Path | None, twin: bool, live: bool, allow_process: bool,
          **twin_options: Any) -> None:
    """Work a drill together in the terminal console (default: the bundled scenario).

    The timeline is written as the drill goes; quitting before the end keeps it, and
    --resume continues it. At the end the score and postmortem draft are written beside it,
    exactly as `run --headless` writes them. With --twin, `kubectl` against the written
    kubeconfig acts on the same drill, on the same timeline."""
    from tabletop.drill.session import SPEEDS

    if speed is not None and not 0 < speed <= SPEEDS[-1]:
        _fail(f"--speed: must be more than 0 and at most {SPEEDS[-1]:g} (virtual seconds per wall second)")

    def check_participant(loaded: Any) -> None:
        _check_participant(loaded.scenario, "--as", acting_as)

    if resume is not None:
        session, notices = _resumed_session(resume, scenario_path, scenario, seed, out_dir, check_participant)
    else:
        session, notices = _new_session(scenario, seed, out_dir, scenario_path, check_participant)
    if speed is not None:
        session.set_speed(speed)

    from contextlib import ExitStack

    from tabletop.tui.app import TabletopApp

    with ExitStack() as stack:
        on_tick = []
        served = None
        experiments = bool(session.loaded.experiments)
        if twin or (experiments and session.loaded.scenario.kubernetes.context == "twin"):
            served, kubeconfig = _console_twin(session, acting_as, **twin_options)
            stack.enter_context(served)
            on_tick.append(served.serve)
            notices.append(f"Kubernetes API at {served.url}: kubectl --kubeconfig {kubeconfig} get pods "
                           f"(writes as {served.actor})")
        apps: list[Any] = []
        if experiments:
            from tabletop.chaos.console import ConsoleChaos

            def notify(message: str) -> None:
                if apps:
                    apps[0].notify(message)
                else:
                    notices.append(message)

            chaos = ConsoleChaos(session, served, live=live, allow_process=allow_process, notify=notify)
            stack.callback(chaos.leave)
            on_tick.append(chaos.step)
        app = TabletopApp(session, acting_as=acting_as, notices=notices, on_tick=on_tick)
        apps.append(app)
        app.run()
    timeline = session.drill.timeline.path
    if session.outputs is not None:
        click.echo(f"Drill {session.drill.scenario.metadata.id} ended at {_clock(session.now)}: "
                   f"score {session.outputs.score.total:.1f}/100")
        if session.outputs.files:
            click.echo(f"  wrote {', '.join(str(f) for f in session.outputs.files)}")
    elif timeline is not None:
        click.echo(f"The drill is not over ({_clock(session.now)}); its timeline is in {timeline}\n"
                   f"continue it with: tabletop drill --resume {timeline}")


def _console_twin(session: Any, acting_as: str | None, *, twin_host: str, twin_port: int, twin_actor: str | None,
                  twin_token: str | None, kubeconfig_path: Path | None) -> tuple[Any, Path]:
    """The console drill's twin (served from the console's thread at each tick) and its kubeconfig."""
    from tabletop.twin.tls import TlsError
    from tabletop.twin.twin import Twin

    participants = [p.id for p in session.drill.scenario.participants]
    _check_participant(session.drill.scenario, "--twin-as", twin_actor)
    actor = twin_actor or acting_as or (participants[0] if participants else None)
    try:
        served = Twin(session.drill, host=twin_host, port=twin_port, token=twin_token, actor=actor)
    except TlsError as error:
        _fail(f"--twin-token: {error}")
    except OSError as error:
        _fail(f"--twin-port: cannot listen on {twin_host}:{twin_port}: {error.strerror or error}")
    timeline = session.drill.timeline.path
    folder = timeline.parent if timeline is not None else Path(".")
    return served, served.write_kubeconfig(kubeconfig_path or folder / "kubeconfig")


def _clock(t: float) -> str:
    from tabletop.durations import format_clock

    return format_clock(t)


def _new_session(scenario: Path | None, seed: int | None, out_dir: Path | None, scenario_path: Path | None,
                 check: Any) -> Any:
    """A console drill starting now, writing its timeline into the output folder."""
    from tabletop.drill.session import DrillSession
    from tabletop.drill.timeline_reader import read_timeline
    from tabletop.scenario.problems import InputError

    if scenario_path is not None:
        _fail("--scenario goes with --resume; to start a drill, give the scenario as the argument")
    path = scenario or _default_scenario()
    if not path.exists():
        _fail(f"{path}: no such scenario file")
    loaded = _load(path)
    check(loaded)
    seed = 0 if seed is None else seed
    out_dir = out_dir or Path("out") / f"{loaded.scenario.metadata.id}-console-seed{seed}"
    timeline = out_dir / "timeline.jsonl"
    if timeline.exists():
        try:
            ended = any(e.kind == "drill.ended" for e in read_timeline(timeline).events)
        except InputError:
            ended = False
        if not ended:
            _fail(f"{timeline} holds a drill that has not ended; continue it with "
                  f"`tabletop drill --resume {timeline}`, or choose another --out")
    try:
        session = DrillSession.start(loaded, seed=seed, out_dir=out_dir, scenario_label=_scenario_label(path))
    except OSError as error:
        _fail(f"cannot write the drill's timeline to {out_dir}: {error.strerror or error}")
    return session, [f"Drill {loaded.scenario.metadata.id}, seed {seed}: the clock is paused; space starts it, ? lists the keys."]


def _resumed_session(timeline: Path, scenario_path: Path | None, scenario: Path | None, seed: int | None,
                     out_dir: Path | None, check: Any) -> Any:
    """The drill a timeline records, rebuilt by replaying its commands, writing on to the same file."""
    from tabletop.drill.resume import ResumeError, resume_drill
    from tabletop.drill.session import DrillSession

    if scenario is not None:
        _fail("--resume continues a recorded drill: give its scenario with --scenario, not as the argument")
    if seed is not None or out_dir is not None:
        _fail("--resume continues a recorded drill with its own seed, in its own folder: drop --seed and --out")
    if not timeline.exists():
        _fail(f"{timeline}: no such timeline")
    recorded, loaded = _recorded(timeline, scenario_path)
    check(loaded)
    try:
        drill = resume_drill(loaded, recorded)
    except ResumeError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"cannot write {timeline}: {error.strerror or error}")
    session = DrillSession(loaded, drill, out_dir=timeline.parent)
    return session, [f"Resumed at {_clock(drill.now)} from {timeline} ({len(recorded.events)} events); "
                     "the clock is paused: space starts it."]


@main.command()
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


@main.command()
@click.option("--kind", type=click.Choice(["scenario", "rubric", "script"]), default="scenario", show_default=True)
def schema(kind: str) -> None:
    """Print the JSON Schema of a file kind, for editors."""
    import json

    from tabletop.scenario.schema import json_schema

    click.echo(json.dumps(json_schema(kind), indent=2))


def _recorded(timeline: Path, scenario: Path | None) -> tuple[Any, Any]:
    """The recorded timeline and the scenario it was run on (checked by hash)."""
    from tabletop.drill.timeline_reader import read_timeline
    from tabletop.scenario.problems import InputError

    try:
        recorded = read_timeline(timeline)
    except InputError as error:
        _fail_with_problems(error)
    if recorded.truncated:
        click.echo(f"warning: {timeline}: the last line was incomplete (the drill was interrupted); "
                   f"read {len(recorded.events)} complete events", err=True)
    path = scenario or Path(recorded.header.scenario_path)
    if not path.exists():
        _fail(f"{timeline}: its scenario {path} is not there; pass --scenario PATH")
    loaded = _load(path)
    if loaded.sha256 != recorded.header.scenario_sha256:
        click.echo(f"warning: {path} (or a file it refers to) changed since the drill was recorded", err=True)
    return recorded, loaded


@main.command()
@click.argument("timeline", type=click.Path(path_type=Path))
@click.option("--scenario", type=click.Path(path_type=Path), help="Scenario file (default: the one the timeline names).")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write here instead of standard output.")
def score(timeline: Path, scenario: Path | None, fmt: str, out: Path | None) -> None:
    """Score a recorded drill against its rubric."""
    import json

    from tabletop.scoring.score import render_markdown, score_drill

    recorded, loaded = _recorded(timeline, scenario)
    result = score_drill(loaded.scenario, list(loaded.runbooks), loaded.rubric, recorded.events)
    text = render_markdown(result) if fmt == "md" else json.dumps(result.to_json(), indent=2)
    _emit(text, out)


@main.command()
@click.argument("timeline", type=click.Path(path_type=Path))
@click.option("--scenario", type=click.Path(path_type=Path), help="Scenario file (default: the one the timeline names).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="File to write (default postmortems/<scenario>-<date>.md).")
def postmortem(timeline: Path, scenario: Path | None, out: Path | None) -> None:
    """Write a postmortem draft for a recorded drill."""
    from tabletop.postmortem.draft import write_postmortem
    from tabletop.scoring.score import score_drill

    recorded, loaded = _recorded(timeline, scenario)
    runbooks = list(loaded.runbooks)
    result = score_drill(loaded.scenario, runbooks, loaded.rubric, recorded.events)
    text = write_postmortem(loaded.scenario, runbooks, recorded.events, result, recorded.header)
    day = recorded.header.start[:10]
    target = out or Path("postmortems") / f"{loaded.scenario.metadata.id}-{day}-seed{recorded.header.seed}.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {target}")


@main.command()
@click.argument("timeline", type=click.Path(path_type=Path))
@click.option("--verify", is_flag=True, help="Fail unless the replay reproduces the timeline byte for byte.")
@click.option("--scenario", type=click.Path(path_type=Path), help="Scenario file (default: the one the timeline names).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Also write the replayed timeline here.")
def replay(timeline: Path, verify: bool, scenario: Path | None, out: Path | None) -> None:
    """Re-run a recorded drill with its recorded commands."""
    from tabletop.drill.replay import first_difference, replay_timeline

    recorded, loaded = _recorded(timeline, scenario)
    replayed = replay_timeline(loaded, recorded, out)
    difference = first_difference(recorded, replayed)
    if difference is None:
        click.echo(f"replay of {timeline}: identical ({len(recorded.events)} events)")
        return
    click.echo(f"replay of {timeline}: differs at {difference}", err=True)
    if verify:
        sys.exit(EXIT_BAD_INPUT)


@main.group()
def rules() -> None:
    """Prometheus rule files: export a scenario's rules, state what they do as a promtool unit test."""


@rules.command("export")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write here instead of standard output.")
def rules_export(scenario: Path, out: Path | None) -> None:
    """Write SCENARIO's rules (inline and rule_files) as one Prometheus rule file."""
    from tabletop.signals.promtool_rules import rule_file_text

    if not scenario.exists():
        _fail(f"{scenario}: no such scenario file")
    loaded = _load(scenario)
    try:
        text = rule_file_text(loaded.rule_groups)
    except ValueError as error:
        _fail(f"{scenario}: {error}")
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as error:
        _fail(f"cannot write {out}: {error.strerror or error}")
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
        _fail(f"{scenario}: no such scenario file")
    until = _until(duration)
    loaded = _load(scenario)
    groups = _rule_file_groups(rules_file) if rules_file is not None else list(loaded.rule_groups)
    if not any(rule.alert for group in groups for rule in group.rules):
        _fail(f"{rules_file or scenario}: no alerting rules to test")
    rules_text = None
    if rules_file is None:
        try:
            rules_text = rule_file_text(groups)
        except ValueError as error:
            _fail(f"{scenario}: {error}")
    chosen = _responder(responder, loaded)
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
        _fail(str(error))
    if statement.failures:
        failure = statement.failures[0]
        _fail(f"rule {failure.rule!r} (group {failure.group!r}) fails at {format_duration(failure.t)}: "
              f"{failure.message}; promtool stops a test at a failing rule")
    rules_path = rules_file if rules_file is not None else out.with_name(out.stem + ".rules.yaml")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if rules_text is not None:
            rules_path.write_text(rules_text, encoding="utf-8")
        reference = os.path.relpath(rules_path.resolve(), out.parent.resolve())
        out.write_text(statement.text([reference]), encoding="utf-8")
    except OSError as error:
        _fail(f"cannot write {out}: {error.strerror or error}")
    firing = sum(1 for t in statement.transitions if t.state == "firing")
    click.echo(f"wrote {out} ({len(statement.test['input_series'])} input series, "
               f"{len(statement.test['alert_rule_test'])} alert checks at {len(statement.checked)} times, "
               f"{firing} alert(s) fired)" + (f" and {rules_path}" if rules_text is not None else ""))
    click.echo(f"check it with: promtool test rules {out}")


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        click.echo(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {out}")


from tabletop.chaos.commands import chaos  # noqa: E402  (a group beside its package; imports only click)

main.add_command(chaos)


if __name__ == "__main__":
    main()
