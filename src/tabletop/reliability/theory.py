"""Closed forms for a fleet, to set beside the simulated spread (and to test the simulation by).

- Job MTTF = 1 / (N r): the job's N nodes fail at r each (Kokolis et al., HPCA 2025).
- E[ETTR] ~= (1 - N r (u0 + dt/2)) / (1 + w/dt), Kokolis et al.'s expected effective training
  time ratio for restart overhead u0 (here detection + restart), checkpoint interval dt and write
  time w; valid while N r u0 is small. Planned interruptions, which it leaves out, are subtracted
  like failures without lost work: each costs its downtime and a restart.
- The checkpoint interval that maximises it: Young's sqrt(2 delta M) and Daly's first-order
  sqrt(2 delta (M + R)), delta the write time, M the MTTF, R the restart time.
- Nodes in repair: lost nodes arrive as a Poisson stream and each is away its repair time, so
  the number away is Poisson with mean sum(rate x repair) (an M/G/infinity queue); a node loss
  finds no spare free when S or more are away.
"""

from __future__ import annotations

import math

from tabletop.reliability.fleet import ReliabilityFleet

SPARE_QUANTILE = 0.99
"""``spares_needed``: spares so that this share of node losses finds one free."""


def failure_rate(fleet: ReliabilityFleet) -> float:
    """Unexpected interruptions of the job per second (N r)."""
    return sum(fleet.nodes * fleet.node_rate(f) for f in fleet.failures)


def job_mttf(fleet: ReliabilityFleet) -> float | None:
    """Seconds between unexpected interruptions, None without failures."""
    rate = failure_rate(fleet)
    return 1 / rate if rate > 0 else None


def overhead(fleet: ReliabilityFleet) -> float:
    """u0: seconds from a failure to training again, besides lost work (mean detection + restart)."""
    rate = failure_rate(fleet)
    if rate == 0:
        return fleet.restart
    detection = sum(fleet.nodes * fleet.node_rate(f) * (fleet.detection if f.detection is None else f.detection)
                    for f in fleet.failures) / rate
    return detection + fleet.restart


def expected_ettr(fleet: ReliabilityFleet) -> float:
    """Kokolis et al.'s E[ETTR], with planned interruptions subtracted (see the module)."""
    dt, w = fleet.checkpoint.interval, fleet.checkpoint.write
    planned = sum((p.downtime + fleet.restart) / fleet.period(p) for p in fleet.planned)
    return (1 - failure_rate(fleet) * (overhead(fleet) + dt / 2) - planned) / (1 + w / dt)


def young_interval(fleet: ReliabilityFleet) -> float | None:
    """Young's checkpoint interval sqrt(2 delta M), seconds (None without failures or writes)."""
    mttf = job_mttf(fleet)
    if mttf is None or fleet.checkpoint.write == 0:
        return None
    return math.sqrt(2 * fleet.checkpoint.write * mttf)


def daly_interval(fleet: ReliabilityFleet) -> float | None:
    """Daly's first-order interval sqrt(2 delta (M + R)), R = detection + restart, seconds."""
    mttf = job_mttf(fleet)
    if mttf is None or fleet.checkpoint.write == 0:
        return None
    return math.sqrt(2 * fleet.checkpoint.write * (mttf + overhead(fleet)))


def nodes_in_repair(fleet: ReliabilityFleet) -> float:
    """Mean number of the job's nodes away in repair."""
    return sum(fleet.nodes * fleet.node_rate(f) * (fleet.repair if f.repair is None else f.repair)
               for f in fleet.failures if f.takes_out == "node")


def no_spare_free(fleet: ReliabilityFleet) -> float | None:
    """Share of node losses that find no spare free (None: unlimited replacements)."""
    if fleet.spare_nodes is None:
        return None
    return _poisson_tail(nodes_in_repair(fleet), fleet.spare_nodes)


def spares_needed(fleet: ReliabilityFleet) -> int:
    """The fewest spare nodes with which ``SPARE_QUANTILE`` of node losses find one free."""
    mean = nodes_in_repair(fleet)
    if mean == 0:
        return 0  # no node is ever lost
    below, spares = 0.0, 0
    while 1.0 - below > 1 - SPARE_QUANTILE:
        below += _poisson_pmf(mean, spares)
        spares += 1
    return spares


def _poisson_tail(mean: float, k: int) -> float:
    """P(X >= k) for X ~ Poisson(mean)."""
    return max(0.0, 1.0 - math.fsum(_poisson_pmf(mean, i) for i in range(k)))


def _poisson_pmf(mean: float, i: int) -> float:
    if mean == 0:
        return 1.0 if i == 0 else 0.0
    return math.exp(-mean + i * math.log(mean) - math.lgamma(i + 1))
