"""The ``silence`` and ``unsilence`` commands: Alertmanager silences from the drill.

``silence alertname=KubePodCrashLooping team=~"serv.*" --duration 2h --comment "known, draining"``
mutes the alerts whose labels match every matcher (``name=value``, ``name!=value``,
``name=~regex``, ``name!~regex``, as amtool writes them) from now for the duration (default
1h, as amtool's). Headless, tabletop's pager then pages nobody for them; under ``--stack`` the
silence is made in the real Alertmanager (``tabletop.stack.session``), which mutes them.
``unsilence S1`` expires one early. A silence that ends on its own records ``silence.expired``
with reason ``ended``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from tabletop.durations import format_duration
from tabletop.pager.silences import Silence, matcher_text
from tabletop.scenario.oncall import parse_matcher
from tabletop.timers import later

if TYPE_CHECKING:
    from tabletop.drill.engine import Drill

DEFAULT_DURATION = 3600.0


class SilenceRefused(Exception):
    """A silence command that cannot be done; the message says why."""


def matcher_from_param(key: str, value: str) -> str:
    """``name=value``, ``name!=value``, ``name=~re``, ``name!~re`` (split at the first ``=``) as a
    matcher."""
    name, op = (key[:-1], "!=") if key.endswith("!") else (key, "=")
    if value.startswith("~"):
        value, op = value[1:], "=~" if op == "=" else "!~"
    text = matcher_text(name, op, value)
    try:
        parse_matcher(text)
        if op in ("=~", "!~"):
            re.compile(value)
    except (ValueError, re.error) as error:
        raise SilenceRefused(f"{key}={value}: not a matcher ({error})") from None
    return text


def silence(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    params = args.get("params", {})
    if not params:
        raise SilenceRefused("name at least one matcher, e.g. silence alertname=KubePodCrashLooping team=serving")
    duration = args.get("duration", DEFAULT_DURATION)
    if duration <= 0:
        raise SilenceRefused("--duration must be longer than 0s")
    silences = drill.silences
    made = silences.add(Silence(
        id=silences.next_id(), matchers=[matcher_from_param(k, str(v)) for k, v in params.items()],
        starts_at=drill.now, ends_at=round(drill.now + duration, 3), created_by=actor, comment=args.get("comment", "")))
    drill.record("silence.created", {**made.data(), "command": seq}, actor)
    later(drill.env, duration, lambda: _ended(drill, made))
    muted = sorted({a.alertname for a in drill.rules.active_alerts()
                    if a.state == "firing" and made.mutes(a.labels, drill.now)})
    what = f"; mutes {', '.join(muted)} now" if muted else "; no firing alert matches it now"
    return f"{made.id} silences {' '.join(made.matchers)} for {format_duration(duration)}{what}", ""


def unsilence(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    found = drill.silences.find(args["silence"])
    if found is None:
        known = ", ".join(s.id for s in drill.silences.all) or "none yet"
        raise SilenceRefused(f"there is no silence {args['silence']} (silences: {known})")
    if not found.active(drill.now):
        raise SilenceRefused(f"{found.id} is not active")
    found.expired_at = drill.now
    drill.record("silence.expired", {"silence": found.id, "reason": "unsilenced", "command": seq}, actor)
    drill.pager.unmuted()
    return f"{found.id} expired", ""


def _ended(drill: "Drill", made: Silence) -> None:
    if made.expired_at is None:
        made.expired_at = drill.now
        drill.record("silence.expired", {"silence": made.id, "reason": "ended"})
        drill.pager.unmuted()
