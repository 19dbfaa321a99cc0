"""SLO accounting from the fluid traffic: breaches, failed requests and error budget burned.

Each interval adds its good and total requests per SLO. A breach starts when the ratio of good
requests over the last five minutes falls below the objective and ends when it is back above.
The error budget of an SLO is ``(1 - objective)`` of the requests its deployment serves in the
SLO window at its average daily rate.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tabletop.scenario.model import Slo
from tabletop.sim.deployment import Deployment

WINDOW = 300.0


@dataclass
class SloState:
    slo: Slo
    deployment: Deployment
    good: float = 0.0
    total: float = 0.0
    recent: deque[tuple[float, float]] = field(default_factory=deque)
    breach_good: float = 0.0
    breach_total: float = 0.0
    in_breach: bool = False

    @property
    def budget(self) -> float:
        traffic = self.deployment.spec.traffic
        daily_mean = (traffic.base_rps + traffic.peak_rps) / 2
        return (1 - self.slo.objective / 100) * daily_mean * self.slo.window

    def burned_percent(self) -> float:
        return 100 * (self.total - self.good) / self.budget if self.budget > 0 else 0.0

    def window_ratio(self) -> float:
        good = sum(g for g, _ in self.recent)
        total = sum(t for _, t in self.recent)
        return good / total if total > 0 else 1.0


class SloTracker:
    def __init__(self, slos: list[Slo], deployments: dict[str, Deployment], record: Callable[[str, dict[str, Any]], Any], interval: float) -> None:
        self.states = [SloState(slo, deployments[slo.deployment]) for slo in slos]
        self.record = record
        self._window_len = max(1, round(WINDOW / interval))

    def observe(self, dt: float) -> None:
        """Account the interval that just ended (after every deployment stepped)."""
        for state in self.states:
            step = state.deployment.last
            total = step.offered * dt
            if state.slo.latency_threshold is None:
                good = step.ok * dt
            else:
                good = step.fast_enough(state.slo.latency_threshold) * dt
            state.good += good
            state.total += total
            state.recent.append((good, total))
            if len(state.recent) > self._window_len:
                state.recent.popleft()
            if state.in_breach:
                state.breach_good += good
                state.breach_total += total
            self._update_breach(state)

    def _update_breach(self, state: SloState) -> None:
        ratio = state.window_ratio()
        objective = state.slo.objective / 100
        base = {"slo": state.slo.id, "deployment": state.slo.deployment, "sli": round(ratio, 6), "objective": objective}
        if not state.in_breach and ratio < objective:
            state.in_breach = True
            state.breach_good, state.breach_total = 0.0, 0.0
            self.record("slo.breach_start", base)
        elif state.in_breach and ratio >= objective:
            state.in_breach = False
            self.record("slo.breach_end", {**base, "bad": round(state.breach_total - state.breach_good), "total": round(state.breach_total)})

    def summary(self) -> dict[str, dict[str, float]]:
        return {
            s.slo.id: {
                "good": round(s.good), "bad": round(s.total - s.good), "total": round(s.total),
                "budget_burned_percent": round(s.burned_percent(), 3),
            }
            for s in self.states
        }
