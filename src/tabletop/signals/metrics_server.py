"""A small HTTP server publishing a drill's exposition at ``/metrics`` for a real Prometheus.

The drill thread renders the exposition and hands the bytes over with ``publish``; request
threads only read that reference (rebinding an attribute is atomic), so they never touch the
series store while the simulation writes it. ``/`` is a short text page, other paths get 404,
methods other than GET and HEAD get 405; malformed requests get the standard library's 4xx/5xx
and the server carries on. It binds 127.0.0.1 unless told otherwise; port 0 picks a free port.
Standard library only, so the core stays free of web frameworks.
"""

from __future__ import annotations

import logging
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tabletop.serving import ServingThread

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The Prometheus text exposition format."""

ALLOWED = "GET, HEAD"
REQUEST_TIMEOUT = 10.0
"""Seconds a connection may stay silent before the server drops it."""

log = logging.getLogger(__name__)

_INDEX = b"tabletop drill: simulated fleet metrics at /metrics\n"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    body = b""

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("metrics request from %s failed", client_address, exc_info=True)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = REQUEST_TIMEOUT
    server_version = "tabletop"
    error_content_type = "text/plain; charset=utf-8"
    error_message_format = "%(code)d %(message)s\n"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._reply(200, self.server.body, CONTENT_TYPE)
        elif path == "/":
            self._reply(200, _INDEX)
        else:
            self._reply(404, b"not found; metrics are at /metrics\n")

    def do_HEAD(self) -> None:
        self.do_GET()

    def __getattr__(self, name: str) -> Any:
        """Every other method (``do_POST``, ``do_PUT``, ...) is answered 405."""
        if name.startswith("do_"):
            return self._not_allowed
        raise AttributeError(name)

    def _not_allowed(self) -> None:
        self._reply(405, b"method not allowed\n", headers={"Allow": ALLOWED})

    def _reply(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8",
               headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class MetricsServer(ServingThread):
    """Serves the last published exposition; binds on construction, serves from ``start``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((_Server6 if ":" in host else _Server)((host, port), _Handler), "tabletop-metrics")

    @property
    def host(self) -> str:
        return self._httpd.server_address[0]

    @property
    def port(self) -> int:
        """The bound port (the chosen one when constructed with port 0)."""
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def publish(self, body: bytes) -> None:
        """Serve ``body`` from now on (called from the drill thread)."""
        self._httpd.body = body
