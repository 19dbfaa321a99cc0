"""The drill's Alertmanager webhook receiver: notifications in, queued for the drill thread.

Alertmanager POSTs each notification (webhook payload version 4) to ``URL/RECEIVER``. The
request thread checks the payload and queues it; the drill thread takes what arrived with
``take`` after each pacing step and records it (``tabletop.stack.session``), so the request
threads never touch the drill. A payload that is not a version 4 notification gets 400 with
the reason, any other path 404 and any other method 405: Alertmanager logs the answer and
retries, and the drill goes on. It binds 127.0.0.1 on a free port unless told otherwise.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tabletop.serving import ServingThread

log = logging.getLogger(__name__)

PATH = "/alertmanager"
MAX_BODY = 8 << 20
"""Bytes a notification may have (Alertmanager sends every alert of a group in one)."""
REQUEST_TIMEOUT = 10.0


class _Payload(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class WebhookAlert(_Payload):
    status: str
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime | None = Field(None, alias="endsAt")
    fingerprint: str


class WebhookNotification(_Payload):
    """Alertmanager's webhook payload (``version: "4"``)."""

    version: str
    receiver: str
    status: str
    group_key: str = Field(alias="groupKey")
    group_labels: dict[str, str] = Field(alias="groupLabels")
    truncated_alerts: int = Field(0, alias="truncatedAlerts")
    alerts: list[WebhookAlert]


def parse_notification(body: bytes) -> WebhookNotification:
    """The notification in ``body``; ValueError saying what is wrong with it."""
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise ValueError(f"the body is not JSON: {error}") from None
    try:
        notification = WebhookNotification.model_validate(payload)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the body"
        raise ValueError(f"not an Alertmanager webhook notification: {where}: {first['msg']}") from None
    if notification.version != "4":
        raise ValueError(f"webhook payload version {notification.version!r}: this receiver reads version 4")
    return notification


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    inbox: "queue.SimpleQueue[WebhookNotification]"
    arrived: threading.Event

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("webhook request from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = REQUEST_TIMEOUT
    server_version = "tabletop"

    def do_POST(self) -> None:
        if not self.path.startswith(PATH + "/"):
            self._reply(404, f"not found; Alertmanager notifications go to {PATH}/RECEIVER\n")
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._reply(411, "a notification needs a Content-Length\n")
            return
        if not 0 <= length <= MAX_BODY:
            self._reply(413, f"a notification may have at most {MAX_BODY} bytes\n")
            return
        try:
            notification = parse_notification(self.rfile.read(length))
        except ValueError as error:
            self._reply(400, f"{error}\n")
            return
        self.server.inbox.put(notification)
        self.server.arrived.set()
        self._reply(200, "ok\n")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return lambda: self._reply(405, "only POST\n", {"Allow": "POST"})
        raise AttributeError(name)

    def _reply(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class WebhookReceiver(ServingThread):
    """Binds on construction, serves from ``start``; ``take`` in the drill thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        httpd = _Server((host, port), _Handler)
        httpd.inbox = queue.SimpleQueue()
        httpd.arrived = threading.Event()
        super().__init__(httpd, "tabletop-webhook")
        self._server = httpd

    @property
    def url(self) -> str:
        """What Alertmanager's webhook configs point at (plus ``/RECEIVER``)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{PATH}"

    @property
    def arrived(self) -> threading.Event:
        """Set when a notification is queued (a waiting drill thread may wake for it)."""
        return self._server.arrived

    def take(self) -> list[WebhookNotification]:
        """The notifications that arrived since the last call, in arrival order."""
        self._server.arrived.clear()
        taken = []
        while True:
            try:
                taken.append(self._server.inbox.get_nowait())
            except queue.Empty:
                return taken
