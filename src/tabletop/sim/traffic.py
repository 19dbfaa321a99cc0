"""Fluid traffic: one step per scrape interval computes what a deployment's requests did.

Arrivals follow a daily cycle (cosine between ``base_rps`` at the trough and ``peak_rps`` at
``peak_at``) with per-interval noise. Requests spread evenly over Ready endpoints; those sent to
an endpoint that cannot answer fail (502). Each serving replica is a queue with ``concurrency``
servers: the Sakasegawa approximation of the M/M/c wait gives how latency grows with
utilisation, and latency is log-normal around the resulting median. Requests above capacity or
slower than the gateway timeout fail (504).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING, NamedTuple

from tabletop.scenario.fleet import TrafficPattern

if TYPE_CHECKING:
    from tabletop.sim.pod import Pod

Z99 = 2.3263478740408408
"""Standard normal quantile of 0.99."""
MAX_UTILISATION = 0.995


def daily_rate(pattern: TrafficPattern, seconds_of_day: float) -> float:
    hour, minute = (int(part) for part in pattern.peak_at.split(":"))
    phase = 2 * math.pi * (seconds_of_day - (hour * 3600 + minute * 60)) / 86400.0
    return pattern.base_rps + (pattern.peak_rps - pattern.base_rps) * (1 + math.cos(phase)) / 2


def queue_wait_ratio(utilisation: float, servers: int) -> float:
    """Mean queueing wait over mean service time for an M/M/c queue (Sakasegawa 1977)."""
    rho = min(max(utilisation, 0.0), MAX_UTILISATION)
    if rho == 0.0:
        return 0.0
    return rho ** (math.sqrt(2 * (servers + 1)) - 1) / (servers * (1 - rho))


class LatencyShape(NamedTuple):
    """Log-normal latency: median and shape (sigma of the log). A named tuple: one is made per
    replica and scrape, and tuples are the cheapest immutable values to build."""

    median: float
    sigma: float

    def cdf(self, seconds: float) -> float:
        if seconds <= 0:
            return 0.0
        if math.isinf(seconds):
            return 1.0
        return 0.5 * (1 + math.erf((math.log(seconds) - math.log(self.median)) / (self.sigma * math.sqrt(2))))

    def quantile(self, q: float) -> float:
        return self.median * math.exp(self.sigma * NormalDist().inv_cdf(q))

    @property
    def mean(self) -> float:
        return self.median * math.exp(self.sigma**2 / 2)


@dataclass
class PodTraffic:
    """One serving replica's share of an interval (rates per second)."""

    pod: "Pod"
    ok: float
    errors: float
    latency: LatencyShape
    ttft: LatencyShape | None
    running: float
    waiting: float
    utilisation: float


@dataclass
class TrafficStep:
    """What one deployment's traffic did during one scrape interval (rates per second)."""

    offered: float = 0.0
    ok: float = 0.0
    shed: float = 0.0
    """Rejected on purpose by load shedding (429)."""
    bad_gateway: float = 0.0
    """Sent to endpoints that could not answer (502)."""
    no_endpoints: float = 0.0
    """No Ready endpoint at all (503)."""
    timeouts: float = 0.0
    """Over capacity or slower than the gateway timeout (504)."""
    dependency_errors: float = 0.0
    """A dependency (feature store) failed the request (500)."""
    utilisation: float = 0.0
    pods: list[PodTraffic] = field(default_factory=list)

    @property
    def errors(self) -> float:
        return self.shed + self.bad_gateway + self.no_endpoints + self.timeouts + self.dependency_errors

    def fast_enough(self, threshold: float) -> float:
        """Rate of successful requests answered within ``threshold`` seconds."""
        return sum(p.ok * p.latency.cdf(threshold) for p in self.pods)
