"""Silences, as Alertmanager keeps them: label matchers and a time window that mute alerts.

A silence made in the drill (``silence alertname=X team=serving --duration 1h``) gets an id
``S1``, ``S2``... A silence that a real Alertmanager reports (made with ``amtool`` or its UI
beside a ``--stack`` drill) keeps Alertmanager's id; one made in the drill and sent to
Alertmanager learns Alertmanager's id too, so either id names it. Matchers are Alertmanager's
(``name="value"``, ``!=``, ``=~``, ``!~``; regexes anchored) and a silence mutes an alert when
every matcher matches its labels while ``starts_at <= now < ends_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tabletop.pager.routing import matches
from tabletop.scenario.oncall import parse_matcher

OPERATORS = {"=": (False, True), "!=": (False, False), "=~": (True, True), "!~": (True, False)}
"""Matcher operator → Alertmanager API v2's (isRegex, isEqual)."""


@dataclass(eq=False)
class Silence:
    id: str
    matchers: list[str]
    starts_at: float
    ends_at: float
    created_by: str
    comment: str
    alertmanager_id: str | None = None
    expired_at: float | None = None

    def active(self, now: float) -> bool:
        return self.expired_at is None and self.starts_at <= now < self.ends_at

    def mutes(self, labels: dict[str, str], now: float) -> bool:
        return self.active(now) and all(matches(m, labels) for m in self.matchers)

    def data(self) -> dict[str, Any]:
        """What the timeline records of it."""
        return {"silence": self.id, "matchers": list(self.matchers), "starts_at": self.starts_at,
                "ends_at": self.ends_at, "created_by": self.created_by, "comment": self.comment}


def matcher_text(name: str, op: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}{op}"{escaped}"'


def api_matchers(matchers: list[str]) -> list[dict[str, Any]]:
    """Matchers as Alertmanager's API v2 takes them."""
    out = []
    for text in matchers:
        name, op, value = parse_matcher(text)
        is_regex, is_equal = OPERATORS[op]
        out.append({"name": name, "value": value, "isRegex": is_regex, "isEqual": is_equal})
    return out


def from_api_matchers(matchers: list[dict[str, Any]]) -> list[str]:
    ops = {flags: op for op, flags in OPERATORS.items()}
    return [matcher_text(m["name"], ops[(bool(m.get("isRegex")), bool(m.get("isEqual", True)))], str(m["value"]))
            for m in matchers]


class Silences:
    def __init__(self) -> None:
        self.all: list[Silence] = []

    def add(self, silence: Silence) -> Silence:
        self.all.append(silence)
        return silence

    def next_id(self) -> str:
        return f"S{sum(1 for s in self.all if s.id.startswith('S') and s.id[1:].isdigit()) + 1}"

    def find(self, silence_id: str) -> Silence | None:
        """The silence with this id (ours, or Alertmanager's)."""
        return next((s for s in self.all if silence_id in (s.id, s.alertmanager_id)), None)

    def muting(self, labels: dict[str, str], now: float) -> Silence | None:
        """The first silence that mutes an alert with ``labels`` now, if any."""
        return next((s for s in self.all if s.mutes(labels, now)), None)

    def reported(self, data: dict[str, Any], now: float) -> None:
        """What a real Alertmanager said of a silence (an ``alertmanager.silence`` event): the id
        it gave one of the drill's, one made beside the drill, or one expired there. An
        acknowledgement's silence (``ack``) is Alertmanager's business only: not kept here."""
        if data.get("ack"):
            return
        silence = self.find(data["silence"]) if data.get("silence") else self.find(data["id"])
        if silence is None:
            silence = self.add(Silence(
                id=data["id"], matchers=list(data.get("matchers", [])), starts_at=data.get("starts_at", now),
                ends_at=data.get("ends_at", now), created_by=data.get("created_by", ""), comment=data.get("comment", ""),
                alertmanager_id=data["id"]))
        silence.alertmanager_id = data["id"]
        if data["state"] == "expired" and silence.expired_at is None:
            silence.expired_at = now
