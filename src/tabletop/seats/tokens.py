"""Seat tokens: one per participant, kept in OUT/seats.json (mode 0600).

A token opens exactly one seat: requests carrying it act as its participant. The file lists
the server's URL and each participant's token, so the facilitator can hand them out; a drill
served again from the same folder (``--resume``) keeps the tokens, and the ports when they are
free, so seats rejoin with what they were given and joined seats find the drill again. Removing a seat revokes its token (the seat is told so) and issues a new one.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

SEATS_FILE = "seats.json"


def new_token() -> str:
    return secrets.token_urlsafe(18)


class SeatTokens:
    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = dict(tokens)
        """Participant → token."""
        self.revoked: set[str] = set()
        self.web: str | None = None
        """The seats' web front (``drill --serve --web``), whose seat links seats.json lists too."""

    @classmethod
    def issue(cls, participants: Iterable[str], folder: Path | None = None) -> "SeatTokens":
        """A token for every participant; those in ``folder``'s seats.json are kept."""
        kept: dict[str, str] = {}
        if folder is not None:
            try:
                recorded = json.loads((folder / SEATS_FILE).read_text(encoding="utf-8")).get("seats", {})
                kept = {str(p): str(s["token"]) for p, s in recorded.items() if isinstance(s, dict) and s.get("token")}
            except (OSError, ValueError, AttributeError):
                kept = {}
        return cls({p: kept.get(p) or new_token() for p in participants})

    def who(self, token: str) -> str | None:
        """The participant whose seat ``token`` opens, or None."""
        found = None
        for participant, known in list(self.tokens.items()):  # the facilitator may remove a seat meanwhile
            if hmac.compare_digest(known.encode(), token.encode()):
                found = participant
        return found

    def was_revoked(self, token: str) -> bool:
        return any(hmac.compare_digest(old.encode(), token.encode()) for old in list(self.revoked))

    def remove(self, participant: str) -> str:
        """Revoke ``participant``'s token (their seat is refused from now on); returns the new one."""
        if participant not in self.tokens:
            raise KeyError(participant)
        self.revoked.add(self.tokens[participant])
        self.tokens[participant] = new_token()
        return self.tokens[participant]

    def write(self, folder: Path, url: str) -> Path:
        """OUT/seats.json, readable by its owner only (written 0600 from the start)."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / SEATS_FILE
        document: dict[str, object] = {"url": url, "seats": {p: self._seat(url, p, t) for p, t in self.tokens.items()}}
        if self.web is not None:
            document["web"] = self.web
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(document, file, indent=2)
            file.write("\n")
        return path


    def _seat(self, url: str, participant: str, token: str) -> dict[str, str]:
        seat = {"token": token, "join": join_command(url, participant, token)}
        if self.web is not None:
            seat["browser"] = seat_link(self.web, token)
        return seat

    def browser_link(self, participant: str) -> str | None:
        """``participant``'s seat link for a browser, with --web."""
        return None if self.web is None else seat_link(self.web, self.tokens[participant])


def recorded_ports(folder: Path) -> tuple[int | None, int | None]:
    """The seat server's and the web front's ports in ``folder``'s seats.json (a drill served
    there before, as ``--resume`` continues it): where joined seats and open pages still look."""
    try:
        recorded = json.loads((folder / SEATS_FILE).read_text(encoding="utf-8"))
        seat = urlsplit(str(recorded["url"])).port
        web = urlsplit(str(recorded["web"])).port if recorded.get("web") else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None, None
    return seat, web


def seat_link(web_url: str, token: str) -> str:
    """A seat's page on the web front: the token is in the link (whoever has it takes the seat)."""
    return f"{web_url}/seat/{token}"


def join_command(url: str, participant: str, token: str) -> str:
    return f"tabletop join {url} --as {participant} --token {token}"
