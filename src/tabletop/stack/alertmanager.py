"""A real Alertmanager beside a paced drill: it groups what Prometheus fires and notifies the drill.

``with Alertmanager(folder, config=...) as alertmanager:`` writes into ``folder``
``alertmanager.yml`` (a dict from ``alertmanager_config``, or text), ``alertmanager-data/``
(silences and notification log, emptied first unless ``keep_data``) and ``alertmanager.log``, and serves on ``127.0.0.1``
(``server.py``) with clustering off (``--cluster.listen-address=``: no gossip port). Its API v2
is reached through the methods below (silences, alerts, status).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tabletop.stack.alertmanager_config import dump
from tabletop.stack.binaries import find
from tabletop.stack.server import Managed, Server

API = "/api/v2"


class Alertmanager(Managed):
    """Alertmanager in ``folder`` with ``config`` (alertmanager.yml as a dict or as text)."""

    def __init__(self, folder: Path, *, config: dict[str, Any] | str, binary: Path | None = None,
                 keep_data: bool = False, data: Path | None = None, ready_timeout: float = 30.0, stop_timeout: float = 10.0) -> None:
        self.folder = Path(folder)
        self.keep_data = keep_data
        self.config = config
        self.config_file = self.folder / "alertmanager.yml"
        self.data = Path(data) if data is not None else self.folder / "alertmanager-data"
        """Its storage (default: in ``folder``; a drill's stack keeps it in a temporary folder)."""
        self.server = Server("Alertmanager", binary or find("alertmanager"), self.folder / "alertmanager.log",
                             self._arguments, ready_timeout=ready_timeout, stop_timeout=stop_timeout)

    def _arguments(self, address: str) -> list[str]:
        return [f"--config.file={self.config_file}", f"--storage.path={self.data}",
                f"--web.listen-address={address}", "--cluster.listen-address="]

    def write_files(self) -> None:
        self.config_file.write_text(self.config if isinstance(self.config, str) else dump(self.config))

    # API v2 -------------------------------------------------------------------------------------
    def create_silence(self, matchers: list[dict[str, Any]], starts_at: datetime | str, ends_at: datetime | str,
                       created_by: str, comment: str) -> str:
        """A new silence; its id. Each matcher is ``{name, value, isRegex, isEqual}`` (the last two
        default to false and true); naive datetimes are local time."""
        body = {
            "matchers": [{"isRegex": False, "isEqual": True, **matcher} for matcher in matchers],
            "startsAt": _timestamp(starts_at), "endsAt": _timestamp(ends_at),
            "createdBy": created_by, "comment": comment,
        }
        return str(self.server.request("POST", f"{API}/silences", body)["silenceID"])

    def silences(self) -> list[dict[str, Any]]:
        """Every silence (active, pending and expired), with ``id`` and ``status.state``."""
        return list(self.server.request("GET", f"{API}/silences"))

    def expire_silence(self, silence_id: str) -> None:
        self.server.request("DELETE", f"{API}/silence/{quote(silence_id, safe='')}")

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts Alertmanager holds, with ``labels``, ``fingerprint``, ``status`` and ``receivers``."""
        return list(self.server.request("GET", f"{API}/alerts"))

    def status(self) -> dict[str, Any]:
        """``GET /api/v2/status``: version, uptime, the loaded configuration and the cluster's state."""
        return dict(self.server.request("GET", f"{API}/status"))


def _timestamp(value: datetime | str) -> str:
    return value if isinstance(value, str) else value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
