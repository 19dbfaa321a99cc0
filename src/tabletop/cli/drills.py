"""Running drills: `run` (headless or paced), `twin` (the fleet as a Kubernetes API) and `drill` (the console)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from tabletop.cli.common import (
    check_participant, default_scenario, fail, load, parse_until, recorded_drill, responder_for, scenario_label,
    with_chaos_options, with_twin_options,
)
from tabletop.cli.library import pick_scenario
from tabletop.cli.seats import serve_seats, with_seat_options
from tabletop.cli.stack import check_stack_options, run_stack, start_console_stack, with_stack_options


@click.command()
@click.argument("scenario", required=False, type=click.Path(path_type=Path))
@click.option("--headless", is_flag=True, help="As fast as the machine allows, never against the wall clock: the scenario's "
              "Chaos Toolkit experiments are recorded as not run. Without it, only experiments, --speed, --twin or "
              "--metrics-port pace the drill.")
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
@with_stack_options
@with_chaos_options
@with_twin_options
def run(scenario: Path | None, headless: bool, responder: str, seed: int, out_dir: Path | None, duration: str | None,
        speed: float | None, metrics_port: int | None, metrics_host: str, twin: bool, live: bool, allow_process: bool,
        stack: bool, alertmanager_config: Path | None, **twin_options: Any) -> None:
    """Run a drill on SCENARIO (default: the bundled scenario) and write timeline.jsonl,
    score.json, score.md and postmortem.md.

    With --speed or --metrics-port the drill runs against the wall clock and a real Prometheus
    can scrape it (use honor_labels: true: the drill speaks for many exporters). With --twin,
    kubectl and Chaos Toolkit can act on the fleet too, beside the responder. With --stack a real
    Prometheus and Alertmanager page the team (see `--stack`).

    A scenario with Chaos Toolkit experiments runs paced (--speed, default 1) and, when they
    target the twin, with --twin implied; their journals go to OUT/chaos/. A real cluster is
    only touched with --live and the scenario's kubernetes.allowlist; otherwise a dry run
    shows what would have happened."""
    if headless:
        paced = [name for name, given in (("--speed", speed is not None), ("--metrics-port", metrics_port is not None),
                                          ("--twin", twin), ("--live", live)) if given]
        if paced:
            needs = "needs" if len(paced) == 1 else "need"
            fail(f"--headless runs as fast as the machine allows; {' and '.join(paced)} {needs} the wall clock: "
                 f"drop --headless or {' and '.join(paced)}")
    _run_drill(scenario, responder, seed, out_dir, duration, speed, metrics_port, metrics_host, twin, twin_options,
               {"live": live, "allow_process": allow_process}, headless=headless,
               stack={"stack": stack, "alertmanager_config": alertmanager_config})


def _run_drill(scenario: Path | None, responder: str | None, seed: int, out_dir: Path | None, duration: str | None,
               speed: float | None, metrics_port: int | None, metrics_host: str, twin: bool,
               twin_options: dict[str, Any], chaos_options: dict[str, Any] | None = None, headless: bool = False,
               stack: dict[str, Any] | None = None) -> None:
    """`run` and `twin`: a drill to its end (headless, paced or served as a twin), then its outputs.
    Whenever it will run against the wall clock without being asked to, one line says so and why."""
    import time

    from tabletop.drill.outputs import write_outputs
    from tabletop.drill.responders import BUILT_IN
    from tabletop.drill.run import run_headless

    path = scenario or default_scenario()
    if not path.exists():
        fail(f"{path}: no such scenario file")
    until = parse_until(duration)
    loaded = load(path)
    stack = stack or {"stack": False, "alertmanager_config": None}
    check_stack_options(stack["stack"], stack["alertmanager_config"], twin, loaded, headless)
    if stack["stack"] and metrics_port is not None:
        fail("--stack serves the drill's metrics to its own Prometheus: drop --metrics-port")
    chosen = None if responder is None else responder_for(responder, loaded)
    name = "twin" if responder is None else responder if responder in BUILT_IN else Path(responder).stem
    out_dir = out_dir or Path("out") / f"{loaded.scenario.metadata.id}-{name}-seed{seed}"
    timeline = out_dir / "timeline.jsonl"
    options = {"seed": seed, "timeline_path": timeline, "scenario_label": scenario_label(path),
               "responder_name": name, "until": until}
    _say_pacing(loaded, headless, speed, until)
    began = time.perf_counter()
    try:
        if stack["stack"]:
            drill = run_stack(loaded, chosen, speed or 1.0, out_dir, stack["alertmanager_config"], options)
        elif loaded.experiments and not headless:
            drill = _run_chaos(loaded, chosen, speed or 1.0, metrics_host, metrics_port, out_dir, options, twin_options,
                               twin=twin, **(chaos_options or {}))
        elif twin:
            drill = _run_twin(loaded, chosen, speed or 1.0, metrics_host, metrics_port, out_dir, options, **twin_options)
        elif speed is None and metrics_port is None:
            drill = run_headless(loaded, chosen, scrape_all=False, **options)
        else:
            drill = _run_live(loaded, chosen, speed or 1.0, metrics_host, metrics_port, options)
        elapsed = time.perf_counter() - began
        outputs = write_outputs(loaded, drill.timeline.header, drill.timeline.events, out_dir)
    except KeyboardInterrupt:
        click.echo(f"interrupted; the timeline so far is in {timeline}", err=True)
        sys.exit(130)
    except OSError as error:
        fail(f"cannot write the drill's outputs to {out_dir}: {error.strerror or error}")
    click.echo(outputs.summary(drill, elapsed))
    if drill.timeline.events[-1].data.get("reason") == "aborted":
        sys.exit(130)


def _say_pacing(loaded: Any, headless: bool, speed: float | None, until: float | None) -> None:
    """One line when the scenario's experiments decide how the drill runs: skipped when headless,
    else paced (at 1x unless --speed says otherwise)."""
    from tabletop.durations import format_duration

    count = len(loaded.experiments)
    if not count:
        return
    what = f"{count} Chaos Toolkit experiment{'s' if count > 1 else ''}"
    if headless:
        click.echo(f"headless: the scenario's {what} will be recorded as not run; to run them, drop --headless "
                   "(the drill then runs paced, --speed 10 to go faster)", err=True)
    elif speed is None:
        wall = format_duration(until or loaded.scenario.metadata.duration)
        click.echo(f"the scenario's {what} run on the wall clock, so the drill is paced at 1x ({wall} of wall time); "
                   "--speed N goes faster, --headless skips them and runs as fast as the machine allows", err=True)


def _run_twin(loaded: Any, responder: Any, speed: float, metrics_host: str, metrics_port: int | None, out_dir: Path,
              options: dict[str, Any], *, twin_host: str, twin_port: int, twin_actor: str | None, twin_token: str | None,
              kubeconfig_path: Path | None, companions: tuple[Any, ...] = (), without_faults: bool = False) -> Any:
    """A drill paced at ``speed`` whose fleet is served as a Kubernetes API (and its metrics with ``metrics_port``)."""
    from tabletop.twin.runner import run_twin
    from tabletop.twin.tls import TlsError

    participants = [p.id for p in loaded.scenario.participants]
    check_participant(loaded.scenario, "--twin-as", twin_actor)
    kubeconfig = kubeconfig_path or out_dir / "kubeconfig"

    def ready(twin: Any) -> None:
        context = loaded.scenario.metadata.id
        click.echo(f"serving the simulated fleet as a Kubernetes API at {twin.url} (context {context}, "
                   f"writes as {twin.actor})\n  kubectl --kubeconfig {kubeconfig} get pods", err=True)

    try:
        return run_twin(loaded, seed=options["seed"], speed=speed, host=twin_host, port=twin_port, token=twin_token,
                        actor=twin_actor or (participants[0] if participants else None), kubeconfig_path=kubeconfig,
                        timeline_path=options["timeline_path"], scenario_label=options["scenario_label"],
                        responder=responder, responder_name=options["responder_name"], until=options["until"],
                        metrics_host=metrics_host, metrics_port=metrics_port, on_ready=ready,
                        on_metrics=lambda bound: _serving_metrics(metrics_host, bound), companions=companions,
                        without_faults=without_faults)
    except TlsError as error:
        fail(f"--twin-token: {error}")
    except OSError as error:
        if error.filename is not None:
            raise
        fail(f"cannot listen on {twin_host}:{twin_port} (or the metrics port): {error.strerror or error}")


def _run_chaos(loaded: Any, responder: Any, speed: float, metrics_host: str, metrics_port: int | None, out_dir: Path,
               options: dict[str, Any], twin_options: dict[str, Any], *, twin: bool = False, live: bool = False,
               allow_process: bool = False) -> Any:
    """A paced drill whose Chaos Toolkit experiments run: against its twin (served as with --twin), or
    against the scenario's real cluster (--live and the allowlist decide), the twin then served
    only with --twin, for the team to look at the simulated fleet beside it."""
    from tabletop.chaos.runner import ChaosRunner, run_chaos_drill
    from tabletop.scenario.chaos import TWIN

    def notify(message: str) -> None:
        click.echo(message, err=True)

    context = loaded.scenario.kubernetes.context
    if context == TWIN or twin:
        runner = ChaosRunner(loaded, out_dir, live=live, allow_process=allow_process, notify=notify)
        if context != TWIN:
            click.echo(f"experiments act on kube context {context!r}; the twin serves the simulated fleet beside it",
                       err=True)
        return _run_twin(loaded, responder, speed, metrics_host, metrics_port, out_dir, options, companions=(runner,),
                         **twin_options)
    click.echo(f"experiments act on kube context {context!r}; the drill runs without a twin (--twin serves one)",
               err=True)
    try:
        return run_chaos_drill(loaded, out_dir=out_dir, speed=speed, live=live, allow_process=allow_process,
                               responder=responder, notify=notify, metrics_host=metrics_host, metrics_port=metrics_port,
                               on_metrics=lambda bound: _serving_metrics(metrics_host, bound), **options)
    except OSError as error:
        if metrics_port is None:
            raise
        fail(f"--metrics-port: cannot listen on {metrics_host}:{metrics_port}: {error.strerror or error}")


def _serving_metrics(host: str, port: int) -> None:
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"serving the drill's metrics at http://{shown}:{port}/metrics (scrape with honor_labels: true)", err=True)


def _run_live(loaded: Any, responder: Any, speed: float, host: str, port: int | None, options: dict[str, Any]) -> Any:
    """A drill paced at ``speed``, serving its metrics when ``port`` is given."""
    from tabletop.drill.live import run_live

    try:
        return run_live(loaded, responder, speed=speed, metrics_host=host, metrics_port=port,
                        on_ready=lambda bound: _serving_metrics(host, bound), **options)
    except OSError as error:
        if port is None:
            raise
        fail(f"--metrics-port: cannot listen on {host}:{port}: {error.strerror or error}")


@click.command()
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
@click.option("--without-faults", is_flag=True,
              help="Leave the scenario's faults out: the experiment `tabletop chaos export SCENARIO` wrote injects "
                   "them, under the same ids (recorded in the timeline's header; replay does the same).")
@with_twin_options
def twin(scenario: Path | None, seed: int, out_dir: Path | None, speed: float, duration: str | None,
         responder: str | None, metrics_port: int | None, metrics_host: str, without_faults: bool,
         **twin_options: Any) -> None:
    """Serve SCENARIO's simulated fleet as a Kubernetes API while its drill runs.

    Writes a kubeconfig (context named after the scenario) for kubectl, the Kubernetes Python
    client and Chaos Toolkit. Every write (delete pod, cordon, drain, scale, rollout restart or
    undo) is a command on the timeline in the name of --twin-as (or `kubectl --as=ID`). At the
    end, or on Ctrl-C, the score and postmortem draft are written as `run` writes them."""
    _run_drill(scenario, responder, seed, out_dir, duration, speed, metrics_port, metrics_host, True,
               {**twin_options, "without_faults": without_faults})


@click.command()
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
@with_seat_options
@with_stack_options
@with_chaos_options
@with_twin_options
def drill(scenario: Path | None, seed: int | None, out_dir: Path | None, acting_as: str | None, speed: float | None,
          resume: Path | None, scenario_path: Path | None, twin: bool, live: bool, allow_process: bool,
          stack: bool, alertmanager_config: Path | None, serve: bool, host: str, port: int, web: bool,
          web_port: int, **twin_options: Any) -> None:
    """Work a drill together in the terminal console (no SCENARIO: pick one from the bank in a terminal, else the bundled one).

    The timeline is written as the drill goes; quitting before the end keeps it, and
    --resume continues it. At the end the score and postmortem draft are written beside it,
    exactly as `run --headless` writes them. With --twin, `kubectl` against the written
    kubeconfig acts on the same drill, on the same timeline. With --stack a real Prometheus and
    Alertmanager page the team; they run on the wall clock, so once space has started the
    clock the drill cannot pause, change speed or skip ahead. With --serve each participant can
    take their own seat from another terminal (`tabletop join`), and with --web from a browser."""
    from contextlib import ExitStack

    from tabletop.drill.session import SPEEDS

    if speed is not None and not 0 < speed <= SPEEDS[-1]:
        fail(f"--speed: must be more than 0 and at most {SPEEDS[-1]:g} (virtual seconds per wall second)")

    with ExitStack() as exits:
        stacks: list[Any] = []

        def prepare(loaded: Any, folder: Path, recorded_paging: str | None) -> str:
            """Once the drill's inputs are read and before its session exists: the last checks, and
            the live stack started (so a stack that cannot start leaves no timeline); the paging."""
            check_participant(loaded.scenario, "--as", acting_as)
            check_stack_options(stack, alertmanager_config, twin, loaded, headless=False)
            if recorded_paging is not None:
                _check_resumed_paging(recorded_paging, stack)
            if not stack:
                return "tabletop"
            from tabletop.tui.app import DEFAULT_REFRESH_HZ

            stacks.append(start_console_stack(exits, loaded, speed=speed or 1.0, folder=folder / "stack",
                                              alertmanager_config=alertmanager_config, tick=1 / DEFAULT_REFRESH_HZ))
            return "alertmanager"

        if resume is not None:
            session, notices = _resumed_session(resume, scenario_path, scenario, seed, out_dir, prepare)
        else:
            session, notices = _new_session(scenario, seed, out_dir, scenario_path, prepare)
        on_tick = []
        if stacks:
            session.follow(stacks[0])
            on_tick.append(stacks[0].step)
            notices.append(_stack_notice(stacks[0], session.now if resume is not None else None))
            click.echo(notices[-1], err=True)  # stays in the terminal after the console
        elif speed is not None:
            session.set_speed(speed)

        from tabletop.tui.app import TabletopApp

        served = None
        experiments = bool(session.loaded.experiments)
        if twin or (experiments and session.loaded.scenario.kubernetes.context == "twin"):
            served, kubeconfig = _console_twin(session, acting_as, **twin_options)
            exits.enter_context(served)
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
            exits.callback(chaos.leave)
            on_tick.append(chaos.step)
        seats = serve_seats(exits, session, apps, notices, on_tick, serve=serve, host=host, port=port,
                            web=web, web_port=web_port)
        app = TabletopApp(session, acting_as=acting_as, notices=notices, on_tick=on_tick, seat_server=seats)
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


def _check_resumed_paging(paging: str, stack: bool) -> None:
    """A drill paged by Alertmanager goes on with a live stack, and one paged by tabletop without."""
    if paging == "alertmanager" and not stack:
        fail("this drill was paged by Alertmanager: resume it with --stack")
    if paging != "alertmanager" and stack:
        fail("this drill was paged by tabletop, not by Alertmanager: resume it without --stack")


def _stack_notice(live: Any, resumed_at: float | None) -> str:
    """Where the console drill's live stack is, and what it means for the clock."""
    urls = live.urls()
    notice = (f"Live stack in {live.folder}: Prometheus {urls['prometheus']}, Alertmanager {urls['alertmanager']} "
              f"(drill at {live.speed:g}x; pages come from Alertmanager). It runs on the wall clock: once space "
              "starts it, the drill cannot pause, change speed or skip.")
    if resumed_at is not None:
        notice += (f" Prometheus starts afresh at {_clock(resumed_at)}: rules over windows reaching before then "
                   "warm up for their range.")
    return notice


def _console_twin(session: Any, acting_as: str | None, *, twin_host: str, twin_port: int, twin_actor: str | None,
                  twin_token: str | None, kubeconfig_path: Path | None) -> tuple[Any, Path]:
    """The console drill's twin (served from the console's thread at each tick) and its kubeconfig."""
    from tabletop.twin.tls import TlsError
    from tabletop.twin.twin import Twin

    participants = [p.id for p in session.drill.scenario.participants]
    check_participant(session.drill.scenario, "--twin-as", twin_actor)
    actor = twin_actor or acting_as or (participants[0] if participants else None)
    try:
        served = Twin(session.drill, host=twin_host, port=twin_port, token=twin_token, actor=actor)
    except TlsError as error:
        fail(f"--twin-token: {error}")
    except OSError as error:
        fail(f"--twin-port: cannot listen on {twin_host}:{twin_port}: {error.strerror or error}")
    timeline = session.drill.timeline.path
    folder = timeline.parent if timeline is not None else Path(".")
    return served, served.write_kubeconfig(kubeconfig_path or folder / "kubeconfig")


def _clock(t: float) -> str:
    from tabletop.durations import format_clock

    return format_clock(t)


def _new_session(scenario: Path | None, seed: int | None, out_dir: Path | None, scenario_path: Path | None,
                 prepare: Any) -> Any:
    """A console drill starting now, writing its timeline into the output folder; ``prepare(loaded,
    out_dir, None)`` runs just before it is made and says how it is paged."""
    from tabletop.drill.session import DrillSession
    from tabletop.drill.timeline_reader import read_timeline
    from tabletop.scenario.problems import InputError

    if scenario_path is not None:
        fail("--scenario goes with --resume; to start a drill, give the scenario as the argument")
    path = scenario or pick_scenario()
    if not path.exists():
        fail(f"{path}: no such scenario file")
    loaded = load(path)
    seed = 0 if seed is None else seed
    out_dir = out_dir or Path("out") / f"{loaded.scenario.metadata.id}-console-seed{seed}"
    timeline = out_dir / "timeline.jsonl"
    if timeline.exists():
        try:
            ended = any(e.kind == "drill.ended" for e in read_timeline(timeline).events)
        except InputError:
            ended = False
        if not ended:
            fail(f"{timeline} holds a drill that has not ended; continue it with "
                  f"`tabletop drill --resume {timeline}`, or choose another --out")
    paging = prepare(loaded, out_dir, None)
    try:
        session = DrillSession.start(loaded, seed=seed, out_dir=out_dir, scenario_label=scenario_label(path),
                                     paging=paging)
    except OSError as error:
        fail(f"cannot write the drill's timeline to {out_dir}: {error.strerror or error}")
    return session, [f"Drill {loaded.scenario.metadata.id}, seed {seed}: the clock is paused; space starts it, ? lists the keys."]


def _resumed_session(timeline: Path, scenario_path: Path | None, scenario: Path | None, seed: int | None,
                     out_dir: Path | None, prepare: Any) -> Any:
    """The drill a timeline records, rebuilt by replaying its commands, writing on to the same file;
    ``prepare(loaded, folder, recorded paging)`` runs just before."""
    from tabletop.drill.resume import ResumeError, resume_drill
    from tabletop.drill.session import DrillSession

    if scenario is not None:
        fail("--resume continues a recorded drill: give its scenario with --scenario, not as the argument")
    if seed is not None or out_dir is not None:
        fail("--resume continues a recorded drill with its own seed, in its own folder: drop --seed and --out")
    if not timeline.exists():
        fail(f"{timeline}: no such timeline")
    recorded, loaded = recorded_drill(timeline, scenario_path)
    prepare(loaded, timeline.parent, recorded.header.paging)
    try:
        drill = resume_drill(loaded, recorded)
    except ResumeError as error:
        fail(str(error))
    except OSError as error:
        fail(f"cannot write {timeline}: {error.strerror or error}")
    session = DrillSession(loaded, drill, out_dir=timeline.parent)
    return session, [f"Resumed at {_clock(drill.now)} from {timeline} ({len(recorded.events)} events); "
                     "the clock is paused: space starts it."]
