"""HTTP for the twin: the standard library's threading server, HTTP/1.1 keep-alive, chunked streams.

Each request runs on its own daemon thread. It is read into a ``Request``, answered by
``Api.handle`` with a ``Response`` (or a ``Stream`` of chunks for watches and followed logs), and
written back; any failure becomes a ``Status`` and the server carries on. Binds 127.0.0.1
unless told otherwise; port 0 picks a free port.
"""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from tabletop.twin import errors
from tabletop.twin.errors import ApiError

if TYPE_CHECKING:
    from tabletop.twin.api import Api
    from tabletop.twin.tls import Certificate

log = logging.getLogger(__name__)

MAX_BODY = 8 * 2**20
IDLE_TIMEOUT = 30.0
"""Seconds a kept-alive connection may stay silent."""
JSON = "application/json"
SMALL = 64 * 2**10
"""Answers up to this size go out in one write with their headers."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    """Lower-cased names."""
    body: bytes


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Stream:
    """A chunked response; closing the iterator ends the work behind it."""

    chunks: Iterator[bytes]
    content_type: str = JSON
    status: int = 200


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    api: "Api | None" = None
    certificate: "Certificate | None" = None

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        if self.certificate is not None:  # the handshake happens in the request's thread (Handler.setup)
            connection = self.certificate.context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        return connection, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("request from %s failed", client_address, exc_info=True)


class _ApiServer6(ApiServer):
    address_family = socket.AF_INET6


def bind(host: str = "127.0.0.1", port: int = 0, certificate: "Certificate | None" = None) -> ApiServer:
    """Listen now (OSError when the port is taken); requests are answered once ``api`` is set.

    With a ``certificate`` the server speaks HTTPS."""
    server = (_ApiServer6 if ":" in host else ApiServer)((host, port), Handler)
    server.certificate = certificate
    return server


class Handler(BaseHTTPRequestHandler):
    server: ApiServer
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT
    server_version = "tabletop-twin"

    def setup(self) -> None:
        self.request.settimeout(self.timeout)
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle delay on small answers
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _handle(self) -> None:
        try:
            request = self._request()
            api = self.server.api
            if api is None:
                raise errors.unavailable("the twin is starting")
            answer: Response | Stream = api.handle(request)
        except ApiError as error:
            answer = Response(error.code, error.body(), headers=error.headers)
        except Exception as error:  # a bug must not take the server or the drill down
            log.warning("twin request %s %s failed", self.command, self.path, exc_info=True)
            answer = Response(500, errors.internal(type(error).__name__).body())
        try:
            if isinstance(answer, Stream):
                self._stream(answer)
            else:
                self._send(answer)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True

    def _request(self) -> Request:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        return Request(self.command, url.path or "/", query, headers, self._body(headers))

    def _body(self, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._chunked_body()
        length = headers.get("content-length")
        if not length:
            return b""
        try:
            size = int(length)
        except ValueError:
            self.close_connection = True
            raise errors.bad_request("malformed Content-Length") from None
        if size < 0 or size > MAX_BODY:
            self.close_connection = True
            raise errors.too_large()
        return self.rfile.read(size)

    def _chunked_body(self) -> bytes:
        parts, total = [], 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip() or b"x", 16)
            except ValueError:
                self.close_connection = True
                raise errors.bad_request("malformed chunked body") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY:
                self.close_connection = True
                raise errors.too_large()
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-cache, private")
        for key, value in response.headers.items():
            self.send_header(key, value)
        body = response.body if self.command != "HEAD" else b""
        if len(body) <= SMALL:  # headers and body in one segment
            self._headers_buffer.append(b"\r\n" + body)  # type: ignore[attr-defined]
            self.flush_headers()
        else:
            self.end_headers()
            self.wfile.write(body)

    def _stream(self, stream: Stream) -> None:
        self.send_response(stream.status)
        self.send_header("Content-Type", stream.content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.flush()
        try:
            for chunk in stream.chunks:
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        finally:
            close = getattr(stream.chunks, "close", None)
            if close is not None:
                close()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)
