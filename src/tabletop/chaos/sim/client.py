"""The HTTP client of the sim provider: where the drill is (see ``tabletop.chaos.sim``) and one
request to its control API. Failures raise chaoslib's ``ActivityFailed`` with the drill's own
message, so ``chaos run`` shows why an activity failed."""

from __future__ import annotations

import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from chaoslib.exceptions import ActivityFailed

from tabletop.durations import parse_duration

TIMEOUT = 60.0
"""Seconds a request may take (the drill answers between two steps of its clock)."""
PREFIX = "/tabletop/v1"


def _setting(name: str, configuration: dict[str, Any] | None, secrets: dict[str, Any] | None = None) -> str | None:
    for source in (configuration or {}, secrets or {}):
        value = source.get(f"tabletop_{name}")
        if value not in (None, ""):
            return str(value)
    return os.environ.get(f"TABLETOP_{name.upper()}") or None


def base_url(configuration: dict[str, Any] | None = None) -> str:
    url = _setting("url", configuration)
    if url is None:
        raise ActivityFailed("where is the drill? set the experiment's configuration tabletop_url (e.g. "
                             "{type: env, key: TABLETOP_URL}) or the environment variable TABLETOP_URL to the "
                             "twin's URL (`tabletop twin` prints it)")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ActivityFailed(f"tabletop_url must be the twin's http(s)://HOST:PORT URL, not {url!r}")
    return url.rstrip("/")


def call(method: str, path: str, body: Any = None, *, query: dict[str, str] | None = None,
         configuration: dict[str, Any] | None = None, secrets: dict[str, Any] | None = None) -> Any:
    """``method`` ``/tabletop/v1/path``: the decoded JSON answer, or ActivityFailed saying why not."""
    url = base_url(configuration) + PREFIX + path
    if query:
        url += "?" + urllib.parse.urlencode(query)
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    token = _setting("token", configuration, secrets)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    actor = _setting("actor", configuration)
    if actor:
        headers["Impersonate-User"] = actor
    context = None
    if url.startswith("https:"):
        context = ssl.create_default_context(cafile=_setting("ca_file", configuration))
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=context) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raise ActivityFailed(_failure(error)) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ActivityFailed(f"cannot reach the drill at {base_url(configuration)}: {reason} "
                             "(is the twin running? check tabletop_url / TABLETOP_URL)") from None


def _failure(error: urllib.error.HTTPError) -> str:
    try:
        status = json.loads(error.read())
        message = status.get("message") or error.reason
    except (ValueError, AttributeError):
        message = error.reason
    return f"the drill refused ({error.code}): {message}"


def seconds(value: Any, what: str) -> float | None:
    """A duration argument (number of seconds or ``"5m"``) in seconds; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ActivityFailed(f"{what}: expected a duration such as 90, '90s' or '5m', got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return parse_duration(str(value))
    except ValueError as error:
        raise ActivityFailed(f"{what}: {error}") from None
