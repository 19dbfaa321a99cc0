"""Entry points: one run of a fleet as flat metrics (what sweeps call), and many runs."""

from __future__ import annotations

from typing import Any

from tabletop.reliability.fleet import DAY, ReliabilityFleet, fleet_from_data
from tabletop.reliability.sim import CATEGORIES, simulate

HOUR = 3600.0


def simulate_fleet(fleet: dict[str, Any], *, days: float | None = None, seed: int) -> dict[str, Any]:
    """One run of the fleet file's data (parsed YAML) for ``days`` (default: the file's), as flat
    JSON-able metrics. Raises ``InputError`` (located problems) when the data is not a valid fleet.

    Keys:

    - ``days``: days simulated.
    - ``interruptions``: every interruption; ``unexpected_interruptions`` (failures) and
      ``planned_interruptions``; ``interruptions.<cause>`` for each cause of the file (0 when none).
    - ``job_mttf_hours``: wall hours / interruptions; ``job_mttf_unexpected_hours``: wall hours /
      unexpected interruptions (None when there were none).
    - ``ettr``: effective training time ratio (Kokolis et al.): productive training time (kept,
      not lost to a failure) / wall time.
    - ``goodput``: useful GPU-hours / GPU-hours held (the job's GPUs and its spare nodes' GPUs).
    - ``gpu_hours``: the job's GPUs x wall hours; ``useful_gpu_hours``: its productive share;
      ``lost_gpu_hours``: the rest, and ``lost_gpu_hours.<category>`` for ``lost_work`` (training
      since the last checkpoint, discarded), ``checkpoint`` (writes), ``detection``, ``planned``
      (planned downtime), ``waiting`` (for a repaired node, no spare free), ``restart``.
    - ``spare_gpu_hours``: GPU-hours of the spare nodes (0 when replacements are unlimited).
    - ``capacity_waits``: node losses that found no spare free; ``nodes_in_repair_max``: most
      nodes in repair at once (with unlimited replacements: the spares that would have been needed).
    """
    return metrics(fleet_from_data(fleet), days=days, seed=seed)


def metrics(fleet: ReliabilityFleet, *, days: float | None = None, seed: int) -> dict[str, Any]:
    """``simulate_fleet`` for a fleet already checked."""
    days = fleet.days if days is None else days
    out = simulate(fleet, days * DAY, seed)
    wall = out.wall / HOUR
    planned = sum(out.interruptions[p.cause] for p in fleet.planned)
    total = sum(out.interruptions.values())
    unexpected = total - planned
    gpus = fleet.job.gpus
    spare_gpus = (fleet.spare_nodes or 0) * fleet.job.gpus_per_node
    row: dict[str, Any] = {
        "days": days,
        "interruptions": total,
        "unexpected_interruptions": unexpected,
        "planned_interruptions": planned,
        **{f"interruptions.{cause}": count for cause, count in out.interruptions.items()},
        "job_mttf_hours": wall / total if total else None,
        "job_mttf_unexpected_hours": wall / unexpected if unexpected else None,
        "ettr": out.productive / out.wall,
        "goodput": out.productive * gpus / (out.wall * (gpus + spare_gpus)),
        "gpu_hours": gpus * wall,
        "useful_gpu_hours": gpus * out.productive / HOUR,
        "lost_gpu_hours": gpus * sum(out.seconds.values()) / HOUR,
        **{f"lost_gpu_hours.{category}": gpus * out.seconds[category] / HOUR for category in CATEGORIES},
        "spare_gpu_hours": spare_gpus * wall,
        "capacity_waits": out.capacity_waits,
        "nodes_in_repair_max": out.most_in_repair,
    }
    return row


def simulate_runs(fleet: ReliabilityFleet, *, runs: int, seed: int, days: float | None = None) -> list[dict[str, Any]]:
    """``runs`` runs with the seeds ``seed``, ``seed + 1``, ...: run i is ``simulate_fleet(..., seed=seed + i)``."""
    return [metrics(fleet, days=days, seed=seed + i) for i in range(runs)]
