"""A seat's side of the seat server: JSON over HTTP with the standard library.

``SeatError`` carries one line for people: what the server refused (its message), or that it
could not be reached. ``refused`` tells the two apart: a refusal (wrong token, removed seat)
will not get better by asking again; an unreachable server may come back.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from tabletop.seats.server import WAIT


class SeatError(Exception):
    def __init__(self, message: str, *, refused: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.refused = refused
        self.status = status


def check_url(url: str) -> str:
    """The server's base URL without a trailing slash; ValueError when it is not http(s)://HOST:PORT."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not a seat server's URL (http://HOST:PORT, as `drill --serve` prints it)")
    return url.rstrip("/")


class SeatClient:
    def __init__(self, url: str, token: str) -> None:
        self.url = check_url(url)
        self.token = token

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None,
                 timeout: float = 10.0) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            try:
                message = json.loads(error.read()).get("error") or error.reason
            except (ValueError, AttributeError, OSError):
                message = error.reason
            raise SeatError(str(message), refused=error.code in (400, 401, 403, 404), status=error.code) from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", None) or error
            raise SeatError(f"cannot reach the drill server at {self.url}: {getattr(reason, 'strerror', None) or reason}") \
                from None

    def hello(self) -> dict[str, Any]:
        return self._request("GET", "/v1/seat")

    def feed(self, after: int, version: int, timeout: float = WAIT + 5) -> dict[str, Any]:
        return self._request("GET", f"/v1/feed?after={after}&version={version}", timeout=timeout)

    def command(self, line: str, after: int) -> dict[str, Any]:
        return self._request("POST", "/v1/command", {"line": line, "after": after}, timeout=30.0)
