"""Chaos Toolkit probes of tabletop's simulated fleet (``"type": "python", "module":
"tabletop.chaos.sim.probes"``). See ``tabletop.chaos.sim`` for how they find the drill.

SLO probes read the drill's SLO accounting: ``slo_good_ratio`` is the share of good requests
over the last five minutes (the SLI breaches are judged on; 1.0 without traffic), to hold
against the objective with a range tolerance::

    {"type": "probe", "name": "chat-llm-availability",
     "tolerance": {"type": "range", "range": [0.995, 1.0]},
     "provider": {"type": "python", "module": "tabletop.chaos.sim.probes", "func": "slo_good_ratio",
                  "arguments": {"slo": "chat-llm-availability"}}}

``wait_until`` holds the experiment until a drill time or a PromQL condition, so a method can
follow the drill's clock whatever its speed, and even while the drill is paused.
"""

from __future__ import annotations

import time
from typing import Any

from chaoslib.exceptions import ActivityFailed

from tabletop.chaos.sim.client import call, seconds

__all__ = [
    "alert_firing",
    "alerts_firing",
    "drill_time",
    "error_budget_burned",
    "fault_active",
    "fault_status",
    "query",
    "query_value",
    "slo_good_ratio",
    "slo_in_breach",
    "slo_met",
    "slo_state",
    "wait",
    "wait_until",
]

POLL = 0.1
"""Wall seconds between two looks at the drill while waiting."""

Config = dict[str, Any] | None


def drill_time(configuration: Config = None, secrets: Config = None) -> float:
    """Drill seconds since the drill started."""
    return float(call("GET", "/clock", configuration=configuration, secrets=secrets)["now"])


def slo_state(slo: str, configuration: Config = None, secrets: Config = None) -> dict[str, Any]:
    """The SLO's state: id, deployment, objective (a ratio, 0.995), good_ratio (last 5m),
    in_breach, budget_burned_percent, good, total."""
    return _slo(slo, configuration, secrets)


def _slo(name: str, configuration: Config, secrets: Config) -> dict[str, Any]:
    return call("GET", f"/slos/{name}", configuration=configuration, secrets=secrets)


def slo_good_ratio(slo: str, configuration: Config = None, secrets: Config = None) -> float:
    """Share of good requests over the last five minutes (1.0 when there were none)."""
    return float(_slo(slo, configuration, secrets)["good_ratio"])


def slo_in_breach(slo: str, configuration: Config = None, secrets: Config = None) -> bool:
    """Whether the SLO is in breach now (its 5-minute good ratio fell below the objective)."""
    return bool(_slo(slo, configuration, secrets)["in_breach"])


def slo_met(slo: str, configuration: Config = None, secrets: Config = None) -> bool:
    """Whether the 5-minute good ratio is at or above the objective."""
    state = _slo(slo, configuration, secrets)
    return bool(state["good_ratio"] >= state["objective"])


def error_budget_burned(slo: str, configuration: Config = None, secrets: Config = None) -> float:
    """Percent of the SLO's error budget (over its window) burned since the drill started."""
    return float(_slo(slo, configuration, secrets)["budget_burned_percent"])


def alerts_firing(configuration: Config = None, secrets: Config = None) -> list[str]:
    """Names of the alerts firing now, sorted, each once."""
    items = call("GET", "/alerts", query={"state": "firing"}, configuration=configuration, secrets=secrets)["items"]
    return sorted({a["alertname"] for a in items})


def alert_firing(alertname: str, configuration: Config = None, secrets: Config = None) -> bool:
    """Whether an alert of that name is firing now."""
    return alertname in alerts_firing(configuration, secrets)


def fault_status(id: str, configuration: Config = None, secrets: Config = None) -> str:
    """``scheduled`` (not injected yet), ``waiting`` (for its condition), ``active``, ``mitigated``
    (impact over) or ``ended``."""
    return str(call("GET", f"/faults/{id}", configuration=configuration, secrets=secrets)["status"])


def fault_active(id: str, configuration: Config = None, secrets: Config = None) -> bool:
    """Whether the fault is injected and still hurting (not mitigated, not ended)."""
    return fault_status(id, configuration, secrets) == "active"


def query(promql: str, configuration: Config = None, secrets: Config = None) -> Any:
    """The instant query's result now, as Prometheus' API gives it: for a vector, a list of
    ``{"metric": {labels}, "value": [t, "v"]}``; for a scalar, ``[t, "v"]``."""
    return call("POST", "/query", {"query": promql}, configuration=configuration, secrets=secrets)["result"]


def query_value(promql: str, configuration: Config = None, secrets: Config = None) -> float | None:
    """The value of a query returning one sample or a scalar (None when it returns nothing)."""
    answer = call("POST", "/query", {"query": promql}, configuration=configuration, secrets=secrets)
    result = answer["result"]
    if answer["resultType"] == "scalar":
        return float(result[1])
    if answer["resultType"] != "vector":
        raise ActivityFailed(f"{promql!r} returns a {answer['resultType']}, not a number")
    if not result:
        return None
    if len(result) > 1:
        raise ActivityFailed(f"{promql!r} returns {len(result)} series; aggregate it to one (e.g. sum(...))")
    return float(result[0]["value"][1])


def wait(duration: Any, timeout: Any = None, configuration: Config = None, secrets: Config = None) -> float:
    """Wait ``duration`` of drill time (seconds or ``"2m"``) from now; as ``wait_until``."""
    span = seconds(duration, "duration") or 0.0
    return wait_until(at=drill_time(configuration, secrets) + span, timeout=timeout, configuration=configuration,
                      secrets=secrets)


def wait_until(at: Any = None, condition: str | None = None, after: Any = None, timeout: Any = None,
               configuration: Config = None, secrets: Config = None) -> float:
    """Wait for the drill: until drill time ``at`` (seconds or ``"10m"``), or until the PromQL
    ``condition`` returns a sample (not before drill time ``after``), as a scenario's ``when``
    does. ``timeout``: wall seconds to wait at most (default: until the drill ends). Returns the
    drill time it saw. Fails when the drill ends first."""
    target = seconds(at, "at")
    not_before = seconds(after, "after") or 0.0
    limit = seconds(timeout, "timeout")
    if (target is None) == (condition is None):
        raise ActivityFailed("wait_until needs exactly one of at or condition")
    deadline = None if limit is None else time.monotonic() + limit
    while True:
        clock = call("GET", "/clock", configuration=configuration, secrets=secrets)
        now = float(clock["now"])
        if target is not None and now >= target:
            return now
        if condition is not None and now >= not_before and _holds(condition, configuration, secrets):
            return now
        if clock["ended"]:
            raise ActivityFailed(f"the drill ended at {now:g}s before " + (f"drill time {target:g}s" if target is not None
                                                                          else f"{condition!r} held"))
        if deadline is not None and time.monotonic() >= deadline:
            raise ActivityFailed(f"gave up after {limit:g}s (wall clock) at drill time {now:g}s")
        time.sleep(POLL)


def _holds(condition: str, configuration: Config, secrets: Config) -> bool:
    """As a scenario's condition: at least one sample, or a scalar that is not zero."""
    answer = call("POST", "/query", {"query": condition}, configuration=configuration, secrets=secrets)
    if answer["resultType"] == "vector":
        return bool(answer["result"])
    try:
        return float(answer["result"][1]) != 0
    except (TypeError, ValueError, IndexError):
        return False
