"""The twin: a Kubernetes API over a live drill's simulated fleet.

Threads. The drill has one owner thread (the pacing loop, or the console's timer), which alone
touches the fleet: it calls ``serve()`` after advancing the clock, and whenever ``wake`` is set
(a pacing loop passes ``wake`` to ``pace``; a console passes ``notify``). ``serve`` brings the
API objects up to date (``Store.sync``) and runs the requests queued for the drill (writes, log
reads). The server's threads read the published objects and queue the rest with ``call``.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tabletop.drill_thread import DrillThreadCalls
from tabletop.twin import errors
from tabletop.twin.actions import Writes
from tabletop.twin.api import Api
from tabletop.twin.kubeconfig import write_kubeconfig
from tabletop.twin.server import ApiServer, bind
from tabletop.twin.store import Store
from tabletop.twin.tls import self_signed

if TYPE_CHECKING:
    from tabletop.drill.engine import Drill

log = logging.getLogger(__name__)

T = TypeVar("T")
CALL_TIMEOUT = 30.0
"""Seconds a request waits for the drill thread before it is answered 504."""
POLL_INTERVAL = 0.05


def listen(host: str = "127.0.0.1", port: int = 0, token: str | None = None) -> ApiServer:
    """The twin's server socket: HTTPS with a fresh self-signed certificate when a token is asked for
    (raises TlsError without openssl), else HTTP; OSError when the port is taken."""
    return bind(host, port, self_signed(host) if token else None)


class Twin:
    """Serves ``drill`` as a Kubernetes API; construct and ``serve`` it in the drill's thread.

    ``actor`` is the participant the API's writes are recorded as (a request may name another
    with ``Impersonate-User``, i.e. ``kubectl --as=ID``); without one the twin is read-only.
    ``token`` makes every request but /version and the health checks need ``Authorization:
    Bearer TOKEN``. ``notify`` is called from server threads when a request waits for the drill
    thread (``wake`` is set too)."""

    def __init__(self, drill: "Drill", *, host: str = "127.0.0.1", port: int = 0, token: str | None = None,
                 actor: str | None = None, notify: Callable[[], None] | None = None,
                 server: ApiServer | None = None, call_timeout: float = CALL_TIMEOUT) -> None:
        self.participants = frozenset(p.id for p in drill.scenario.participants)
        if actor is not None and actor not in self.participants:
            raise ValueError(f"{actor!r} is not a participant of {drill.scenario.metadata.id} "
                             f"(participants: {', '.join(sorted(self.participants))})")
        self.drill = drill
        self.token = token or None
        self.actor = actor
        self.identities: dict[str, str] = {}
        """Bearer token → who its requests act as: tools tabletop starts itself (``identity_token``)."""
        self.wake = threading.Event()
        self.closed = threading.Event()
        self._notify = notify
        self.call_timeout = call_timeout
        self._calls = DrillThreadCalls(passed=(errors.ApiError,), internal=lambda e: errors.internal(type(e).__name__),
                                       what="twin request")
        self._owner = threading.get_ident()
        self.store = Store(drill)
        self.store.sync(force=True)
        self.writes = Writes(drill, self.store)
        self.server = server or listen(host, port, self.token)
        self.server.api = Api(self)
        self._thread: threading.Thread | None = None

    # where it listens ------------------------------------------------------------------------------
    @property
    def host(self) -> str:
        return str(self.server.server_address[0])

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        """Where clients reach it (the loopback address when it listens on all addresses)."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        host = f"[{host}]" if ":" in host else host
        return f"{'https' if self.server.certificate else 'http'}://{host}:{self.port}"

    def identity_token(self, actor: str) -> str:
        """A fresh bearer token whose requests act as ``actor``, participant or not (the Chaos
        Toolkit experiments the drill runs: their writes are faults, not a responder's)."""
        token = secrets.token_urlsafe(24)
        self.identities[token] = actor
        return token

    def identity(self, headers: dict[str, str]) -> str | None:
        """Who a request's bearer token says it acts as, if it is an identity token."""
        scheme, _, value = headers.get("authorization", "").partition(" ")
        return self.identities.get(value.strip()) if scheme.lower() == "bearer" else None

    def write_kubeconfig(self, path: Path, *, namespace: str | None = None, as_actor: str | None = None) -> Path:
        """A kubeconfig for this twin: context and cluster named after the scenario, user the actor
        (``as_actor``: a user whose identity token makes every request act as them)."""
        certificate = self.server.certificate
        token = self.identity_token(as_actor) if as_actor is not None else self.token
        return write_kubeconfig(Path(path), server=self.url, name=self.drill.scenario.metadata.id,
                                user=as_actor or self.actor or "tabletop", token=token,
                                namespace=namespace or self.store.world.default_namespace,
                                certificate_authority=certificate.pem if certificate else None)

    # lifecycle -------------------------------------------------------------------------------------
    def start(self) -> "Twin":
        if self._thread is None:
            self._thread = threading.Thread(target=self.server.serve_forever, args=(POLL_INTERVAL,),
                                            name="tabletop-twin", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving: end the watches, answer what still waits with 503, release the port."""
        self.closed.set()
        with self.store.lock:
            for watcher in list(self.store.watchers):
                watcher.close()
        self._fail_pending()
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join()
            self._thread = None
        self.server.server_close()
        self._fail_pending()

    def __enter__(self) -> "Twin":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fail_pending(self) -> None:
        self._calls.fail_pending(lambda: errors.unavailable("the drill has ended"))

    # the drill thread ------------------------------------------------------------------------------
    def serve(self) -> None:
        """In the drill's thread: publish the fleet as it is now and run what requests queued."""
        self._owner = threading.get_ident()
        try:
            self.store.sync()
        except Exception:  # the API may lag behind, but the drill goes on
            log.warning("the twin could not bring its objects up to date", exc_info=True)
        self._calls.run_pending()

    # server threads ----------------------------------------------------------------------------------
    def call(self, action: Callable[[], T], timeout: float | None = None) -> T:
        """Run ``action`` in the drill's thread and return what it returns (raises its ApiError)."""
        if threading.get_ident() == self._owner:
            return action()
        if self.closed.is_set():
            raise errors.unavailable("the drill has ended")
        future = self._calls.put(action)
        self.wake.set()
        if self._notify is not None:
            self._notify()
        return self._calls.wait(future, self.call_timeout if timeout is None else timeout,
                                lambda: errors.timeout("the drill did not answer in time (is it paused or over?)"))
