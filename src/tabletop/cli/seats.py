"""Multi-seat drills on the command line: `drill --serve` (the glue beside the console) and `join`."""

from __future__ import annotations

import functools
import ipaddress
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click

from tabletop.cli.common import fail, load


def with_seat_options(command: Any) -> Any:
    """`drill`'s --serve, --host and --port (--host and --port without --serve are refused before
    anything is read or written)."""

    @functools.wraps(command)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if not kwargs["serve"] and (kwargs["host"] != "127.0.0.1" or kwargs["port"] != 0):
            fail("--host and --port are the seat server's: they go with --serve")
        if not kwargs["serve"] and (kwargs["web"] or kwargs["web_port"] != 0):
            fail("--web serves the seats' consoles to browsers: it goes with --serve")
        if kwargs["web_port"] != 0 and not kwargs["web"]:
            fail("--web-port is the web front's: it goes with --web")
        return command(*args, **kwargs)

    options = [
        click.option("--serve", is_flag=True, help="Serve seats: each participant joins this drill from their own "
                     "terminal with `tabletop join` and their own token (written to OUT/seats.json, mode 0600)."),
        click.option("--host", default="127.0.0.1", show_default=True,
                     help="With --serve: the address seats connect to (every seat needs its token, on any address)."),
        click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
                     help="With --serve: the seat server's port (0: any free port)."),
        click.option("--web", is_flag=True, help="With --serve: each participant can also take their seat in a "
                     "browser, at their own link (written to seats.json beside the join commands)."),
        click.option("--web-port", type=click.IntRange(0, 65535), default=0, show_default=True,
                     help="With --web: the browser seats' port (0: any free port), on --host."),
    ]
    for option in reversed(options):
        checked = option(checked)
    return checked


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_seats(exits: ExitStack, session: Any, apps: list[Any], notices: list[str], on_tick: list[Any], *,
                serve: bool, host: str, port: int, web: bool = False, web_port: int = 0) -> Any:
    """With --serve: the seat server beside the console (served from its thread at every tick, and
    at once when a seat's command waits, through ``apps[0]``); with --web its web front too; its
    tokens written; the join commands (and seat links) printed. None without --serve."""
    if not serve:
        return None
    from tabletop.seats.server import SeatServer
    from tabletop.seats.tokens import SeatTokens, join_command, recorded_ports

    participants = [p.id for p in session.drill.scenario.participants]
    timeline = session.drill.timeline.path
    folder = timeline.parent if timeline is not None else Path(".")
    tokens = SeatTokens.issue(participants, folder)
    seat_port, recorded_web_port = recorded_ports(folder)
    servers: list[Any] = []

    def wake() -> None:
        if apps and servers:
            apps[0].call_from_thread(servers[0].serve)

    server = None
    if port == 0 and seat_port is not None:  # served here before: where joined seats still look, if free
        try:
            server = SeatServer(session, tokens, host=host, port=seat_port, notify=wake, folder=folder)
        except OSError:
            server = None
    if server is None:
        try:
            server = SeatServer(session, tokens, host=host, port=port, notify=wake, folder=folder)
        except OSError as error:
            fail(f"--port: cannot listen on {host}:{port}: {error.strerror or error}")
    servers.append(server)
    exits.enter_context(server)
    if web:
        ports = [recorded_web_port, 0] if web_port == 0 and recorded_web_port is not None else [web_port]
        tokens.web = _start_web_front(exits, server.url, host, ports, session.loaded.path, folder)
    try:
        path = tokens.write(folder, server.url)
    except OSError as error:
        fail(f"cannot write the seats' tokens to {folder}: {error.strerror or error}")
    on_tick.append(server.serve)
    if not _loopback(host):
        click.echo(f"seats listen on {host}: each needs its own token, but plain HTTP carries tokens and the drill "
                   "unencrypted: use a trusted network or an SSH tunnel", err=True)
    click.echo(f"Seats at {server.url}: each participant joins with their own token ({path}, mode 0600):", err=True)
    for participant, token in tokens.tokens.items():
        click.echo(f"  {join_command(server.url, participant, token)}", err=True)
    if tokens.web is not None:
        click.echo("or in a browser, each at their own link (the link is their token: hand it to them alone):",
                   err=True)
        for participant in tokens.tokens:
            click.echo(f"  {participant:<12} {tokens.browser_link(participant)}", err=True)
    browsers = f" or in a browser ({tokens.web})" if tokens.web is not None else ""
    notices.append(f"Seats at {server.url}{browsers}: {len(participants)} participants can join (their join "
                   f"commands{' and links' if browsers else ''} are in {path}).")
    return server


def _start_web_front(exits: ExitStack, seat_url: str, host: str, ports: list[int], scenario: Path,
                     folder: Path) -> str:
    """The seats' web front (``--web``) on the first of ``ports`` it can listen on, stopped with
    the drill; its URL."""
    from tabletop.seats.web_front import WebFront, WebFrontError

    *first, last = ports
    for port in first:  # where open pages still look, if free
        front = WebFront(seat_url, host=host, port=port, scenario=scenario, log_path=folder / "web.log")
        try:
            url = front.start()
        except WebFrontError:
            continue
        exits.callback(front.close)
        return url
    front = WebFront(seat_url, host=host, port=last, scenario=scenario, log_path=folder / "web.log")
    try:
        url = front.start()
    except WebFrontError as error:
        fail(f"--web: {error}")
    exits.callback(front.close)
    return url


def follow(app: Any, session: Any) -> None:
    """Wire a joined seat's console to its replica: the feed's news is applied and drawn at once
    (not at the console's next tick); connection changes are shown; a removed seat's console
    exits (``join`` then says why)."""

    def status(message: str, severity: str) -> None:
        app.notify(message, severity=severity, timeout=10)
        if session.removed:
            app.exit()

    session.on_status = status
    session.on_news = app.news


@click.command()
@click.argument("url")
@click.option("--as", "participant", required=True, metavar="PARTICIPANT", help="Whose seat this is (the token's).")
@click.option("--token", envvar="TABLETOP_SEAT_TOKEN", required=True, metavar="TOKEN",
              help="The seat's token, from the facilitator's seats.json (or TABLETOP_SEAT_TOKEN).")
@click.option("--scenario", "scenario_path", type=click.Path(path_type=Path, dir_okay=False),
              help="The drill's scenario file here (default: the path its timeline names).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Keep this seat's copy of the timeline in OUT/timeline.jsonl (and, at the end, the score and "
                   "postmortem).")
def join(url: str, participant: str, token: str, scenario_path: Path | None, out_dir: Path | None) -> None:
    """Take your seat in a drill served with `tabletop drill --serve`: the same console, acting as PARTICIPANT.

    Every command is run by the facilitator's drill in your name, on the one timeline; the
    clock, pages, alerts and timeline are the drill's. The facilitator runs the clock and has
    the facilitator screen. Quit with ctrl+q; joining again with the same token restores the seat."""
    from tabletop import __version__
    from tabletop.seats.client import SeatClient, SeatError
    from tabletop.seats.replica import Diverged, ReplicaSession, header_of

    try:
        client = SeatClient(url, token)
    except ValueError as error:
        fail(str(error))
    try:
        hello = client.hello()
        header = header_of(hello["header"])
    except SeatError as error:
        fail(f"cannot join {client.url} as {participant}: {error}")
    except (ValueError, KeyError, TypeError) as error:
        fail(f"{client.url} is not a tabletop seat server: {error}")
    if hello["participant"] != participant:
        fail(f"this token opens {hello['participant']}'s seat, not {participant}'s: each participant joins with "
             "their own token")
    if header.tabletop_version != __version__:
        fail(f"the drill runs tabletop {header.tabletop_version} and this is {__version__}: a seat needs the same "
             "version")
    path = scenario_path or Path(header.scenario_path)
    if not path.exists():
        fail(f"the drill's scenario {path} is not here: give its file with --scenario")
    loaded = load(path)
    if loaded.sha256 != header.scenario_sha256:
        fail(f"{path} (with the files it refers to) is not the drill's scenario: give the drill's with --scenario")
    session = ReplicaSession(loaded, header, participant, client, out_dir=out_dir)
    try:
        session.catch_up()
    except SeatError as error:
        fail(f"cannot join {client.url} as {participant}: {error}")
    except Diverged as error:
        fail(f"this seat cannot follow the drill: {error}")
    session.start_polling()
    from tabletop.tui.app import TabletopApp

    app = TabletopApp(session, acting_as=participant, seat=True, notices=[
        f"Joined {client.url} as {participant}: the facilitator runs the clock; ? lists the keys."])
    follow(app, session)
    try:
        app.run()
    finally:
        session.stop_polling()
    if session.removed:
        fail(f"{session.problem}: {participant}'s seat is closed (the facilitator can let you back in with a new "
             "token)")
    if session.ended:
        click.echo(f"The drill ended; {participant}'s seat is closed.")
    else:
        click.echo(f"Left the drill; rejoin with: tabletop join {client.url} --as {participant} --token TOKEN")
