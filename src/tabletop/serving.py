"""An HTTP server of the standard library served from a daemon thread: bound when made (a busy
port fails at once), serving from ``start``, and ``close`` stops it and releases the port."""

from __future__ import annotations

import threading
from http.server import HTTPServer
from typing import Self

POLL_INTERVAL = 0.05
"""Seconds ``close`` may wait for the serving loop to notice."""


class ServingThread:
    def __init__(self, httpd: HTTPServer, name: str) -> None:
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, args=(POLL_INTERVAL,), name=name, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, release the port and wait for the serving thread."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
