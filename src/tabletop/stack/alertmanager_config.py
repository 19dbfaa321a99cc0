"""alertmanager.yml for a drill: from the scenario's routing, or from the user's own file.

A drill runs at speed S (virtual seconds per wall second) while Alertmanager counts wall time,
so every Alertmanager timing is divided by S; durations are written with millisecond
resolution (``prom_duration``) and a non-zero one that would round to 0 is refused
(``ScaleError``). Every notification goes to the drill's webhook, ``WEBHOOK_URL/RECEIVER``
(the receiver name percent-encoded), with ``send_resolved: true``: nothing leaves the machine.

``from_routing``: the scenario's routing as an Alertmanager routing tree
=======================================================================

==========================================  ==============================================
scenario (``scenario/oncall.py``)           alertmanager.yml
==========================================  ==============================================
``routing.policy`` (default policy)         root ``route.receiver`` (``RECORD_ONLY`` if null)
``routing.group_by``                        root ``route.group_by``
``routing.group_wait``                      root ``route.group_wait`` / S
(none: Alertmanager's 5m)                   root ``route.group_interval`` 5m / S
(none: Alertmanager's 4h)                   root ``route.repeat_interval`` 4h / S
(none: Alertmanager's 5m)                   ``global.resolve_timeout`` 5m / S
``routes[i]``, in order                     ``route.routes[i]`` (first match wins)
``routes[i].matchers``                      ``matchers`` (same syntax, re-quoted)
``routes[i].policy``                        ``receiver`` (``RECORD_ONLY`` if null)
``routes[i].group_by`` (null: inherit)      ``group_by`` (absent: inherited from the root)
``routes[i].continue``                      ``continue``
escalation policy ``P`` used by a route     receiver ``P``, one webhook ``URL/P``
``policy: null`` (record, page nobody)      receiver ``RECORD_ONLY``, one webhook
``routing.inhibit_rules``                   ``inhibit_rules`` (same keys, matchers re-quoted)
==========================================  ==============================================

Both trees match the same way: a route matches when every matcher does, a missing label
compares as ``""``, regexes are anchored at both ends; the first matching route takes the
alert, ``continue`` lets later routes take it too, and an alert no route takes goes to the
default. Groups (the ``group_by`` values) wait ``group_wait`` from their first alert, and a
group whose alerts all resolved within it notifies nobody in both (the headless pager records
``page.withheld``; Alertmanager sends nothing for a group without firing alerts that never
notified). Where Alertmanager differs from the headless pager (``pager/pager.py``):

- One page per (policy, group values) headless, across routes; Alertmanager groups per route
  (the ``groupKey`` names the route), so two routes (``continue``) to the same policy with the
  same group values notify twice. The webhook receiver should key pages on (receiver, groupLabels).
- An alert joining an open group: headless adds it to the page at once; Alertmanager notifies
  the updated group after ``group_interval``, and the resolution of the last alert likewise.
- Alertmanager re-sends an unresolved group every ``repeat_interval``; headless never repeats a
  notification (escalation policies re-notify people instead).
- Regexes are Go RE2 in Alertmanager and Python ``re`` headless: lookarounds and
  back-references work only headless (a scenario should not use them).
- ``group_by: ['...']`` groups by every label in Alertmanager; headless reads ``...`` as a
  label name (all alerts in one group). No bundled scenario uses it.
- Inhibition mutes the same alerts in both (``pager/inhibition.py``), but an alert whose source
  resolved pages headless at once, and notifies from Alertmanager at its group's next flush
  (``group_wait`` after the group's first alert, else the next ``group_interval`` tick).
- Policy-null routes: headless records the alert without any page; here Alertmanager notifies
  ``RECORD_ONLY``, and the drill's receiver records it without paging.

Receivers exist for the policies the routing names (an escalation policy no route reaches
could never be notified). ``RECORD_ONLY`` has an underscore, which a policy id cannot contain,
so it can never collide with one.

``from_user_file``: the team's own alertmanager.yml, made safe and scaled
========================================================================

Validated first by the real ``amtool check-config``. Then every receiver keeps its name and
loses all its integrations (``pagerduty_configs``, ``slack_configs``, ``email_configs``, every
``*_configs``) for the one drill webhook: a receiver without integrations (a black hole) gets
it too, so the drill sees every notification and the caller decides, by receiver name, which
page whom (``receivers(config)``). ``global`` keeps only ``resolve_timeout`` (scaled): its
API URLs, keys, SMTP settings and HTTP client settings (proxies) only served the integrations
and are not copied into the drill's folder. Every route level's ``group_wait``,
``group_interval`` and ``repeat_interval`` is scaled; the root gets Alertmanager's defaults
(30s, 5m, 4h) scaled where it had none, so the levels that inherit them inherit scaled ones.
``inhibit_rules`` are kept; ``templates`` are kept as absolute paths (they are relative to the
user's file, and the drill writes its copy elsewhere).

Time intervals are wall-clock: ``time_intervals`` and ``mute_time_intervals`` definitions are
kept (inert on their own), but a route that uses them (``mute_time_intervals``,
``active_time_intervals``) is refused with a located error: the drill runs on its own clock at
S times real time, so the route would be muted or active by the hour at which the drill
happens to be played, not by the drill's time.
"""

from __future__ import annotations

import copy
import math
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tabletop.durations import parse_duration
from tabletop.pager.alertmanager import RECORD_ONLY
from tabletop.scenario.oncall import InhibitRule, Routing, parse_matcher
from tabletop.scenario.problems import InputError, PathPart, Problem
from tabletop.scenario.yaml_source import Source, line_column, parse_yaml, read_file
from tabletop.signals.promtool_rules import dump_yaml, prom_duration
from tabletop.stack.binaries import find

GROUP_WAIT = 30.0
GROUP_INTERVAL = 300.0
REPEAT_INTERVAL = 4 * 3600.0
RESOLVE_TIMEOUT = 300.0
"""Alertmanager's defaults, in virtual seconds."""
ROUTE_TIMINGS = {"group_wait": GROUP_WAIT, "group_interval": GROUP_INTERVAL, "repeat_interval": REPEAT_INTERVAL}
TIME_INTERVAL_KEYS = ("mute_time_intervals", "active_time_intervals")
AMTOOL_TIMEOUT = 30.0


class ScaleError(ValueError):
    """A duration that divided by the drill's speed would be shorter than Alertmanager counts."""


def scaled(seconds: float, speed: float, what: str) -> str:
    """``seconds`` of drill time as a wall-clock Prometheus duration at ``speed``."""
    check_speed(speed)
    text = prom_duration(seconds / speed)
    if text == "0s" and seconds > 0:
        raise ScaleError(
            f"{what} {prom_duration(seconds)} at speed {speed:g}x would last {seconds / speed * 1000:.2g} ms of wall "
            f"time, and Alertmanager counts whole milliseconds: use a speed of at most {seconds * 1000:g}x")
    return text


def check_speed(speed: float) -> None:
    if not (isinstance(speed, int | float) and math.isfinite(speed) and speed > 0):
        raise ValueError(f"the drill's speed must be a positive number, got {speed!r}")


def webhook(webhook_url: str, receiver: str) -> dict[str, Any]:
    """The drill's webhook integration for ``receiver``."""
    return {"url": f"{webhook_url.rstrip('/')}/{quote(receiver, safe='')}", "send_resolved": True}


def receivers(config: dict[str, Any]) -> list[str]:
    """The receiver names of an alertmanager.yml, in file order."""
    return [receiver["name"] for receiver in config.get("receivers") or []]


def dump(config: dict[str, Any]) -> str:
    """alertmanager.yml text."""
    return dump_yaml(config)


# from the scenario ---------------------------------------------------------------------------
def from_routing(routing: Routing, *, webhook_url: str, speed: float) -> dict[str, Any]:
    """The alertmanager.yml (as a dict) that routes like the headless pager (module docstring)."""
    check_speed(speed)
    timing = {key: getattr(routing, key, None) or default for key, default in ROUTE_TIMINGS.items()}
    root: dict[str, Any] = {"receiver": _receiver(routing.policy), "group_by": list(routing.group_by)}
    root.update({key: scaled(seconds, speed, f"routing.{key}") for key, seconds in timing.items()})
    children = []
    for candidate in routing.routes:
        child: dict[str, Any] = {"receiver": _receiver(candidate.policy)}
        if candidate.matchers:
            child["matchers"] = [_matcher(text) for text in candidate.matchers]
        if candidate.group_by is not None:
            child["group_by"] = list(candidate.group_by)
        if candidate.continue_:
            child["continue"] = True
        children.append(child)
    if children:
        root["routes"] = children
    names = list(dict.fromkeys([root["receiver"], *(child["receiver"] for child in children)]))
    resolve = getattr(routing, "resolve_timeout", None) or RESOLVE_TIMEOUT
    config: dict[str, Any] = {"global": {"resolve_timeout": scaled(resolve, speed, "resolve_timeout")}, "route": root}
    if routing.inhibit_rules:
        config["inhibit_rules"] = [_inhibit_rule(rule) for rule in routing.inhibit_rules]
    config["receivers"] = [{"name": name, "webhook_configs": [webhook(webhook_url, name)]} for name in names]
    return config


def _receiver(policy: str | None) -> str:
    return RECORD_ONLY if policy is None else policy


def _inhibit_rule(rule: InhibitRule) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("source_matchers", "target_matchers"):
        if getattr(rule, key):
            out[key] = [_matcher(text) for text in getattr(rule, key)]
    if rule.equal:
        out["equal"] = list(rule.equal)
    return out


def _matcher(text: str) -> str:
    """A scenario matcher in Alertmanager's quoting, which unescapes only ``\\\\``, ``\\"`` and ``\\n``."""
    name, op, value = parse_matcher(text)
    quoted = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'{name}{op}"{quoted}"'


def for_drill(routing: Routing, user_file: Path | None, *, webhook_url: str, speed: float) -> dict[str, Any]:
    """A drill's alertmanager.yml: from the team's own file when one is given, else from the routing."""
    if user_file is not None:
        return from_user_file(user_file, webhook_url=webhook_url, speed=speed)
    return from_routing(routing, webhook_url=webhook_url, speed=speed)


# from the user's file ------------------------------------------------------------------------
def from_user_file(path: Path | str, *, webhook_url: str, speed: float) -> dict[str, Any]:
    """The user's alertmanager.yml, checked by amtool, notifying only the drill, scaled by 1/S.

    InputError (located problems, amtool's own message among them) when the file is wrong or
    cannot be used for a drill; MissingBinary when amtool is not installed.
    """
    check_speed(speed)
    path = Path(path)
    file = str(path)
    data, unreadable = read_file(path)
    if data is None:
        raise InputError([Problem(file, 1, 1, "", unreadable or "cannot read the file")])
    source, problems = parse_yaml(data, file)
    amtool = check_config(path, data.decode("utf-8", "replace"))
    if amtool is not None:
        raise InputError([amtool])
    if source is None or problems:
        raise InputError(problems)
    return _UserFile(source, path, webhook_url, speed).config()


def check_config(path: Path, text: str = "") -> Problem | None:
    """``amtool check-config PATH``: None when it passes, else its message as a located problem.

    The line is amtool's when it names one, else that of the first value its message quotes
    (``undefined receiver "pager"``), else the first line.
    """
    try:
        result = subprocess.run([str(find("amtool")), "check-config", str(path)], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, timeout=AMTOOL_TIMEOUT)
    except subprocess.TimeoutExpired:
        return Problem(str(path), 1, 1, "", f"amtool check-config did not answer within {AMTOOL_TIMEOUT:g} s")
    if result.returncode == 0:
        return None
    message = _amtool_message(result.stdout)
    line, column = _amtool_position(message, text)
    return Problem(str(path), line, column, "", f"amtool check-config: {message}")


def _amtool_message(output: str) -> str:
    """What amtool said about the file, on one line (``Checking 'f'  FAILED: MESSAGE``)."""
    _, failed, rest = output.partition("FAILED:")
    text = rest if failed else output
    text = text.split("amtool: error:")[0] if failed else text
    return " ".join(text.split()) or "amtool rejected the file"


def _amtool_position(message: str, text: str) -> tuple[int, int]:
    named = re.search(r"\bline (\d+)\b", message)
    if named:
        return int(named.group(1)), 1
    for quoted in re.findall(r'"([^"]+)"', message):
        index = text.find(quoted)
        if index >= 0:
            return line_column(text, index)
    return 1, 1


def _seconds(value: Any) -> float | None:
    """A duration amtool accepted (so a valid one), in seconds; None when absent."""
    if value is None:
        return None
    text = str(value).strip()
    return 0.0 if text == "0" else parse_duration(text)


class _UserFile:
    """One pass over a checked user file: the drill's copy, and what stops it being used."""

    def __init__(self, source: Source, path: Path, webhook_url: str, speed: float) -> None:
        self.source = source
        self.folder = path.resolve().parent
        self.webhook_url = webhook_url
        self.speed = speed
        self.problems: list[Problem] = []

    def config(self) -> dict[str, Any]:
        data = self.source.data
        out: dict[str, Any] = {}
        resolve = _seconds((data.get("global") or {}).get("resolve_timeout"))
        out["global"] = {"resolve_timeout": self._scaled(("global", "resolve_timeout"), resolve, RESOLVE_TIMEOUT)}
        for key, value in data.items():
            if key == "global":
                continue
            if key == "route":
                out[key] = self._route(value, ("route",), root=True)
            elif key == "receivers":
                out[key] = [{"name": r["name"], "webhook_configs": [webhook(self.webhook_url, r["name"])]} for r in value or []]
            elif key == "templates":
                out[key] = [str(self.folder / pattern) for pattern in value or []]
            else:  # inhibit_rules, time_intervals, mute_time_intervals
                out[key] = copy.deepcopy(value)
        if self.problems:
            raise InputError(self.problems)
        return out

    def _route(self, route: dict[str, Any], path: tuple[PathPart, ...], root: bool) -> dict[str, Any]:
        out = copy.deepcopy({k: v for k, v in route.items() if k != "routes"})
        for key, default in ROUTE_TIMINGS.items():
            seconds = _seconds(route.get(key))
            if seconds is not None or root:
                out[key] = self._scaled((*path, key), seconds, default)
        for key in TIME_INTERVAL_KEYS:
            if route.get(key):
                self.problems.append(self.source.problem(
                    (*path, key), f"time intervals follow the real clock, not the drill's (which runs at "
                    f"{self.speed:g}x from its own start): this route would be muted or active by the hour the drill "
                    f"happens to be played; remove {key} from a copy of the file for the drill"))
        if route.get("routes"):
            out["routes"] = [self._route(child, (*path, "routes", i), root=False) for i, child in enumerate(route["routes"])]
        return out

    def _scaled(self, path: Sequence[PathPart], seconds: float | None, default: float) -> str:
        try:
            return scaled(default if seconds is None else seconds, self.speed, path[-1])  # type: ignore[arg-type]
        except ScaleError as error:
            self.problems.append(self.source.problem(path, str(error)))
            return "0s"
