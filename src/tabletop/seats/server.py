"""The seat server: joins, the feed and commands over HTTP (standard library, JSON, loopback by default).

Every request needs ``Authorization: Bearer TOKEN``, a seat's own token (``SeatTokens``):

- ``GET /v1/seat``: whose seat it is, the drill's timeline header and the participants;
- ``GET /v1/feed?after=N&version=V``: the feed's ops from ``N`` on and its clock, once there
  is something newer than op ``N`` and clock version ``V`` (long poll, ``WAIT`` seconds at most);
- ``POST /v1/command`` with ``{"line": ..., "after": N}``: run the line in the drill's thread as
  the token's participant (never anyone the seat names) and answer with the command's
  timeline ``seq`` and the feed from ``N`` on, which holds it.

Threads, as the twin's: the drill's thread (the facilitator's console timer) alone touches the
drill. It calls ``serve()`` every tick, which runs what requests queued with ``call`` and
publishes the feed; ``notify`` (optional) is called from a request's thread to have ``serve``
run sooner than the next tick. Commands queued at the same moment run in the order they
arrived, all at the same drill time; that order is on the timeline, so a replay repeats it.

Refusals are JSON ``{"error": "..."}`` with 401 (no such seat), 403 (the facilitator removed
the seat), 404, 400, 503 (closing) or 504 (the drill's thread did not answer in time).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from tabletop.seats.feed import Feed
from tabletop.drill_thread import DrillThreadCalls
from tabletop.serving import ServingThread
from tabletop.seats.tokens import SeatTokens

if TYPE_CHECKING:
    from pathlib import Path

    from tabletop.drill.session import DrillSession

log = logging.getLogger(__name__)

WAIT = 10.0
"""Seconds a feed request waits for news before it is answered with what there is."""
CALL_TIMEOUT = 20.0
MAX_BODY = 64 * 1024


CONNECTED = "connected"
NOT_JOINED = "not joined"
REMOVED = "removed: a new token lets them back in"
LAST_SEEN = "last seen "
"""A seat's states in ``SeatServer.seats`` (last seen: followed by how long ago)."""


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class SeatServer:
    """Serves ``session``'s seats; construct and ``serve`` it in the drill's thread."""

    def __init__(self, session: "DrillSession", tokens: SeatTokens, *, host: str = "127.0.0.1", port: int = 0,
                 notify: Callable[[], None] | None = None, wait: float = WAIT,
                 folder: "Path | None" = None) -> None:
        """``folder``: where the tokens' seats.json is kept, written again when a seat is removed
        (so a drill served again keeps the removed token refused)."""
        self.session = session
        self.tokens = tokens
        self.folder = folder
        self.feed = Feed()
        self.notify = notify
        self.wait = wait
        self.seen: dict[str, float] = {}
        """Participant → ``time.monotonic()`` of their seat's last request."""
        self.removed: set[str] = set()
        """Participants whose seat the facilitator removed (their new token not used yet)."""
        self.closed = threading.Event()
        self._calls = DrillThreadCalls(passed=(), what="a seat's request",
                                       internal=lambda e: Refused(500, f"the drill could not run it: {type(e).__name__}"))
        self.feed.publish(session)
        self.httpd = _Server((host, port), _Handler)
        self.httpd.seats = self
        self._serving = ServingThread(self.httpd, "tabletop-seats")
        self._started = False

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(str(host), str(host))
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"

    # lifecycle -------------------------------------------------------------------------------------
    def start(self) -> "SeatServer":
        if not self._started:
            self._started = True
            self._serving.start()
        return self

    def close(self) -> None:
        self.closed.set()
        self.feed.wake_all()
        self._serving.close()
        self._fail_pending()

    def __enter__(self) -> "SeatServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fail_pending(self) -> None:
        self._calls.fail_pending(lambda: Refused(503, "the drill server is closing"))

    # the drill's thread ---------------------------------------------------------------------------
    def serve(self) -> None:
        """Run what requests queued for the drill, then publish the feed."""
        self._calls.run_pending()
        self.feed.publish(self.session)

    def remove(self, participant: str) -> str:
        """Remove ``participant``'s seat: its token is refused from now on (a seat waiting on the
        feed is answered at once, and refused at its next request); returns their new token.
        OSError when seats.json could not be written again (the seat is removed all the same)."""
        token = self.tokens.remove(participant)
        self.seen.pop(participant, None)
        self.removed.add(participant)
        self.feed.wake_all()
        if self.folder is not None:
            self.tokens.write(self.folder, self.url)
        return token

    def seats(self, now: float | None = None) -> list[tuple[str, str]]:
        """Every participant's seat and how it is: connected (a request within the last
        ``wait`` + 5 seconds: a connected seat always has one waiting on the feed), last seen
        how long ago, removed (until its new token is used), or not joined."""
        now = time.monotonic() if now is None else now
        states = []
        for participant in self.tokens.tokens:
            seen = self.seen.get(participant)
            if seen is None:
                state = REMOVED if participant in self.removed else NOT_JOINED
            elif now - seen <= self.wait + 5:
                state = CONNECTED
            else:
                state = f"{LAST_SEEN}{_ago(now - seen)} ago"
            states.append((participant, state))
        return states

    # requests' threads ----------------------------------------------------------------------------
    def call(self, action: Callable[[], Any]) -> Any:
        if self.closed.is_set():
            raise Refused(503, "the drill server is closing")
        future = self._calls.put(action)
        if self.notify is not None:
            try:
                self.notify()
            except Exception:  # the console is going away: the tick (or the timeout) answers
                log.debug("notify failed", exc_info=True)
        return self._calls.wait(future, CALL_TIMEOUT, lambda: Refused(504, "the drill did not answer in time"))

    def seat_of(self, authorization: str) -> str:
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Refused(401, "a seat needs its token (--token)")
        participant = self.tokens.who(token)
        if participant is None:
            if self.tokens.was_revoked(token):
                raise Refused(403, "the facilitator removed this seat")
            raise Refused(401, "the drill refused the token: it opens no seat of this drill")
        self.seen[participant] = time.monotonic()
        self.removed.discard(participant)
        return participant

    def hello(self, participant: str) -> dict[str, Any]:
        drill = self.session.drill
        return {"participant": participant, "header": drill.timeline.header.to_json(),
                "participants": [p.id for p in drill.scenario.participants]}

    def command(self, participant: str, line: str, after: int) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            result = self.session.execute(participant, line)
            self.feed.publish(self.session)
            return {"ok": result.ok, "message": result.message,
                    "seq": result.event.seq if result.event is not None else None, "update": self.feed.update(after)}

        return self.call(run)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    """Listen backlog. Every publish of the clock answers all seats' waiting feed requests at once
    and each seat asks again at once, on a new connection: the default backlog of 5 dropped
    connection attempts under 20 seats, which a seat's kernel retries only after 1 s
    (benchmarks/seat_load.py)."""
    seats: SeatServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("seat request from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "tabletop-seats"

    def log_message(self, format: str, *args: Any) -> None:  # no access log on the console's terminal
        pass

    def do_GET(self) -> None:
        self._answer(self._get)

    def do_POST(self) -> None:
        self._answer(self._post)

    def _get(self, seats: SeatServer, participant: str) -> dict[str, Any]:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if url.path == "/v1/seat":
            return seats.hello(participant)
        if url.path == "/v1/feed":
            after, version = _integer(query, "after"), _integer(query, "version", -1)
            if seats.closed.is_set():
                raise Refused(503, "the drill server is closing")
            return seats.feed.since(after, version, seats.wait)
        raise Refused(404, f"no such endpoint: {url.path}")

    def _post(self, seats: SeatServer, participant: str) -> dict[str, Any]:
        if urlsplit(self.path).path != "/v1/command":
            raise Refused(404, f"no such endpoint: {self.path}")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise Refused(400, "the command is too long")
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            line, after = body["line"], int(body.get("after", 0))
        except (ValueError, KeyError, TypeError):
            raise Refused(400, 'a command is {"line": "...", "after": N}') from None
        if not isinstance(line, str) or not line.strip():
            raise Refused(400, "an empty command")
        return seats.command(participant, line.strip(), after)

    def _answer(self, handle: Callable[[SeatServer, str], dict[str, Any]]) -> None:
        seats = self.server.seats
        try:
            participant = seats.seat_of(self.headers.get("Authorization", ""))
            status, body = 200, handle(seats, participant)
        except Refused as refused:
            status, body = refused.status, {"error": str(refused)}
            self.close_connection = True  # a refused request's body may be unread
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)


def _ago(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m"


def _integer(query: dict[str, str], name: str, default: int = 0) -> int:
    try:
        return int(query.get(name, default))
    except ValueError:
        raise Refused(400, f"{name} must be a whole number") from None
