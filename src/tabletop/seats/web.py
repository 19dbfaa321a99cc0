"""Seats in a browser (``tabletop drill --serve --web``): textual-serve runs a participant's
console, ``tabletop join``, behind a web page, one process per browser session.

The web front is a process of its own (``python -m tabletop.seats.web SEAT_URL``), started and
stopped by the facilitator's ``drill`` (``web_front``): relaying screens costs the drill's process
nothing, and nothing it prints reaches the facilitator's terminal (its log is OUT/web.log). It
holds no token: each request's token is checked by asking the seat server whose seat it opens.

A participant's page is ``/seat/TOKEN``, their own seat token in the link (as a meeting link is
the key to the meeting): a token the seat server refuses gets a page saying why (a removed
seat's old link stops working). The page's terminal runs ``tabletop join SEAT_URL --as THEM``
with the token in its environment, not on its command line (``ps`` shows command lines). Two
tabs of one link are two joins of the same seat, acting in the same name.

textual-serve (pinned) gives the page, its xterm.js terminal and ``AppService``, the process
behind one browser session; its ``Server`` is built on here only for its statics and templates,
since its one command for every session cannot carry a seat.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import logging
import os
import shlex
import signal
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager
from textual_serve.server import Server

from tabletop.seats.client import SeatClient, SeatError

log = logging.getLogger("tabletop.seats.web")

PARENT_POLL = 1.0
"""Seconds between the web front's checks that the drill that started it still runs."""


def _seat_of(seat_url: str, token: str) -> tuple[str | None, int, str]:
    """Whose seat ``token`` opens (participant, 200, ""), or (None, status, why) when refused."""
    try:
        return str(SeatClient(seat_url, token).hello()["participant"]), 200, ""
    except SeatError as error:
        return None, (error.status or 502) if error.refused else 502, str(error)
    except (KeyError, TypeError, ValueError):
        return None, 502, f"{seat_url} is not a tabletop seat server"


def _page(status: int, title: str, text: str) -> Any:
    body = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body style='font-family: monospace; background: #0c181f; color: #ddd; padding: 2em'>"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>")
    return web.Response(status=status, text=body, content_type="text/html",
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


class SeatPages:
    """The web front's aiohttp application: a page and a terminal per seat token."""

    def __init__(self, seat_url: str, scenario: Path | None) -> None:
        self.seat_url = seat_url
        self.scenario = scenario
        self.textual = Server("tabletop join")  # its statics and templates, found beside it
        self.downloads = DownloadManager()
        self.sessions: set[Any] = set()

    def app(self) -> Any:
        app = web.Application()
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.textual.templates_path))
        app.add_routes([
            web.get("/", self.index),
            web.get("/seat/{token}", self.seat_page),
            web.get("/seat/{token}/ws", self.seat_terminal),
            web.static("/static", self.textual.statics_path, name="static"),
        ])
        app.on_shutdown.append(self.stop_sessions)
        return app

    async def _participant(self, request: Any) -> tuple[str | None, Any]:
        """The token's participant, or None and the page that says why not."""
        token = request.match_info["token"]
        participant, status, why = await asyncio.get_running_loop().run_in_executor(
            None, _seat_of, self.seat_url, token)
        if participant is None:
            return None, _page(status, "This seat link does not open a seat", why)
        return participant, None

    async def index(self, request: Any) -> Any:
        return _page(200, "tabletop seats", "Open the seat link the facilitator gave you: "
                     f"{request.scheme}://{request.host}/seat/YOUR-TOKEN (one per participant).")

    async def seat_page(self, request: Any) -> Any:
        participant, refusal = await self._participant(request)
        if participant is None:
            return refusal
        base = f"{request.scheme}://{request.host}"
        socket = "wss" if request.scheme == "https" else "ws"
        context = {
            "font_size": 16,
            "app_websocket_url": f"{socket}://{request.host}/seat/{request.match_info['token']}/ws",
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": f"tabletop: {participant}'s seat"},
        }
        response = aiohttp_jinja2.render_template("app_index.html", request, context)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"  # the link is the seat's key
        return response

    def join_command(self, participant: str) -> str:
        command = [sys.executable, "-m", "tabletop", "join", self.seat_url, "--as", participant]
        if self.scenario is not None:
            command += ["--scenario", str(self.scenario)]
        return shlex.join(command)

    async def seat_terminal(self, request: Any) -> Any:
        participant, refusal = await self._participant(request)
        if participant is None:
            return refusal
        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        service = SeatService(self.join_command(participant), request.match_info["token"],
                               write_bytes=websocket.send_bytes, write_str=websocket.send_str, close=websocket.close,
                               download_manager=self.downloads)
        width, height = _size(request.query, "width", 80), _size(request.query, "height", 24)
        log.info("%s's seat opened in a browser (%dx%d)", participant, width, height)
        self.sessions.add(service)
        try:
            await service.start(width, height)
            await self.textual._process_messages(websocket, service)
        except asyncio.CancelledError:
            pass
        finally:
            self.sessions.discard(service)
            await service.stop()
            await websocket.close()
            log.info("%s's browser session closed", participant)
        return websocket

    async def stop_sessions(self, app: Any = None) -> None:
        """Tell every browser session's console to quit, and wait for them."""
        await asyncio.gather(*(service.stop() for service in list(self.sessions)), return_exceptions=True)


def _size(query: Any, name: str, default: int) -> int:
    try:
        return max(10, min(int(query.get(name, default)), 1000))
    except ValueError:
        return default


class SeatService(AppService):
    """One browser session's console: textual-serve's AppService with the seat's token in its
    environment."""

    def __init__(self, command: str, token: str, **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self.token = token

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width=width, height=height)
        environment["TABLETOP_SEAT_TOKEN"] = self.token
        return environment


async def _serve(pages: SeatPages, host: str, port: int, parent: int | None) -> None:
    runner = web.AppRunner(pages.app(), handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as error:
        print(json.dumps({"error": f"cannot listen on {host}:{port}: {error.strerror or error}"}), flush=True)
        await runner.cleanup()
        return
    bound_host, bound_port = runner.addresses[0][:2]
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(bound_host, bound_host)
    url = f"http://{f'[{shown}]' if ':' in shown else shown}:{bound_port}"
    log.info("serving seats' consoles at %s for the seat server %s", url, pages.seat_url)
    _answer_once(url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), PARENT_POLL)
        except asyncio.TimeoutError:
            if parent is not None and os.getppid() != parent:
                log.info("the drill that started this web front is gone")
                break
    await pages.stop_sessions()
    await runner.cleanup()


def _answer_once(url: str) -> None:
    """Write the ready line to the drill, which reads only that line: from before it is written,
    whatever else reaches stdout (textual-serve prints a failed console's output there) goes to
    the log, so a full pipe nobody reads cannot stall this process."""
    answer = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    with answer:
        answer.write(json.dumps({"url": url}) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tabletop.seats.web", description=__doc__.splitlines()[0])
    parser.add_argument("seat_url")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--scenario", type=Path)
    parser.add_argument("--parent", type=int, help="exit when this process (the drill) is gone")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        stream=sys.stderr)
    logging.Formatter.converter = time.gmtime
    asyncio.run(_serve(SeatPages(args.seat_url, args.scenario), args.host, args.port, args.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
