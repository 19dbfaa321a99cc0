"""The summary of many runs of a fleet: as JSON data, and as Markdown for people."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tabletop.durations import format_duration
from tabletop.markdown import cell
from tabletop.reliability import theory
from tabletop.reliability.fleet import DAY, ReliabilityFleet
from tabletop.reliability.sim import CATEGORIES
from tabletop.stats import spread

_CATEGORY_TITLES = {
    "lost_work": "lost work (since the last checkpoint)", "checkpoint": "checkpoint writes",
    "detection": "detection", "planned": "planned downtime", "waiting": "waiting for a node (no spare free)",
    "restart": "restart overhead",
}


def summarize(fleet: ReliabilityFleet, rows: list[dict[str, Any]], *, days: float, seed: int, file: str) -> dict[str, Any]:
    """The JSON summary of ``rows`` (one per run, seeds ``seed`` onwards)."""
    hours = days * DAY / 3600
    mttf = theory.job_mttf(fleet)
    return {
        "fleet": {
            "id": fleet.metadata.id, "title": fleet.metadata.title, "source": fleet.metadata.source, "file": file,
            "gpus": fleet.job.gpus, "gpus_per_node": fleet.job.gpus_per_node, "nodes": fleet.nodes,
            "spare_nodes": fleet.spare_nodes, "days": days,
            "checkpoint_interval_seconds": fleet.checkpoint.interval, "checkpoint_write_seconds": fleet.checkpoint.write,
            "restart_seconds": fleet.restart,
        },
        "runs": len(rows),
        "seeds": [seed, seed + len(rows) - 1],
        "metrics": {key: spread(row[key] for row in rows).to_json() for key in rows[0]} if rows else {},
        "expected_interruptions": {
            **{f.cause: fleet.nodes * fleet.node_rate(f) * days * DAY for f in fleet.failures},
            **{p.cause: days * DAY / fleet.period(p) for p in fleet.planned},
        },
        "closed_forms": {
            "job_mttf_unexpected_hours": mttf / 3600 if mttf is not None else None,
            "unexpected_interruptions": theory.failure_rate(fleet) * days * DAY,
            "ettr": theory.expected_ettr(fleet),
            "overhead_seconds": theory.overhead(fleet),
            "young_interval_seconds": theory.young_interval(fleet),
            "daly_interval_seconds": theory.daly_interval(fleet),
            "nodes_in_repair_mean": theory.nodes_in_repair(fleet),
            "no_spare_free_share": theory.no_spare_free(fleet),
            "spares_needed_99": theory.spares_needed(fleet),
            "wall_hours": hours,
        },
        "rows": rows,
    }


def markdown(summary: dict[str, Any], fleet: ReliabilityFleet) -> str:
    """The summary as a Markdown report."""
    info, metrics, theory_ = summary["fleet"], summary["metrics"], summary["closed_forms"]
    spares = "unlimited replacements" if info["spare_nodes"] is None else _plural(info["spare_nodes"], "spare node")
    first, last = summary["seeds"]
    lines = [
        f"# Reliability: {info['title']}",
        "",
        f"Fleet `{info['id']}` ({info['file']}): {info['gpus']:,} GPUs in {info['nodes']:,} nodes of "
        f"{info['gpus_per_node']}, {spares}; {info['days']:g} days; {_plural(summary['runs'], 'run')}, seeds {first}-{last}.",
        *([f"Source: {info['source']}."] if info["source"] else []),
        f"Policy: checkpoint every {_duration(fleet.checkpoint.interval)} (write {_duration(fleet.checkpoint.write)}), "
        f"detection {_duration(fleet.detection)} unless a cause says otherwise, restart {_duration(fleet.restart)}, "
        f"repair {_duration(fleet.repair)}.",
        "",
        "## The job",
        "",
        "| metric | mean | sd | 95% CI | closed form |",
        "|---|---:|---:|---:|---:|",
    ]
    job_rows: list[tuple[str, str, Callable[[float], str], Any]] = [
        ("ETTR (productive time / wall time)", "ettr", _percent, theory_["ettr"]),
        ("goodput (useful / held GPU-hours)", "goodput", _percent, None),
        ("job MTTF, all interruptions (h)", "job_mttf_hours", _hours, None),
        ("job MTTF, unexpected (h)", "job_mttf_unexpected_hours", _hours, theory_["job_mttf_unexpected_hours"]),
        ("interruptions", "interruptions", _count, None),
        ("unexpected", "unexpected_interruptions", _count, theory_["unexpected_interruptions"]),
        ("planned", "planned_interruptions", _count, None),
        ("node losses finding no spare free", "capacity_waits", _count, None),
        ("most nodes in repair at once", "nodes_in_repair_max", _count, None),
    ]
    for title, key, show, closed in job_rows:
        lines.append(_row(title, metrics[key], show, "" if closed is None else show(closed)))
    lines += ["", *_spare_lines(info, theory_), "", "## Interruptions by cause", "",
              "| cause | takes out | expected | mean | sd | 95% CI | share |", "|---|---|---:|---:|---:|---:|---:|"]
    total = metrics["interruptions"]["mean"] or 0
    kinds = {f.cause: f.takes_out for f in fleet.failures} | {p.cause: "planned" for p in fleet.planned}
    for cause, expected in sorted(summary["expected_interruptions"].items(), key=lambda kv: -kv[1]):
        item = metrics[f"interruptions.{cause}"]
        share = _percent(item["mean"] / total) if total else "-"
        lines.append(f"| {cell(fleet.title(cause))} | {kinds[cause]} | {expected:,.1f} | {_count(item['mean'])} | "
                     f"{_count(item['sd'])} | {_ci(item, _count)} | {share} |")
    held = metrics["gpu_hours"]["mean"]
    lines += ["", "## Where the job's GPU-hours went (mean per run)", "", "| | GPU-hours | share |", "|---|---:|---:|",
              f"| useful training | {_gpu_hours(metrics['useful_gpu_hours']['mean'])} | "
              f"{_percent(metrics['useful_gpu_hours']['mean'] / held)} |"]
    for category in CATEGORIES:
        value = metrics[f"lost_gpu_hours.{category}"]["mean"]
        lines.append(f"| {_CATEGORY_TITLES[category]} | {_gpu_hours(value)} | {_percent(value / held)} |")
    lines.append(f"| **the job's GPUs x wall time** | **{_gpu_hours(held)}** | **100%** |")
    if info["spare_nodes"]:
        lines.append(f"| spare nodes, held besides | {_gpu_hours(metrics['spare_gpu_hours']['mean'])} | "
                     f"{_percent(metrics['spare_gpu_hours']['mean'] / held)} |")
    lines += ["", "## Checkpoint interval", "", *_interval_lines(fleet, theory_)]
    return "\n".join(lines)


def _spare_lines(info: dict[str, Any], closed: dict[str, Any]) -> list[str]:
    mean, needed = closed["nodes_in_repair_mean"], closed["spares_needed_99"]
    if mean == 0:
        return ["No failure class takes a node out: no spare is ever needed."]
    text = (f"Nodes in repair: {mean:,.1f} on average (closed form: Poisson, mean = node-loss rate x repair time); "
            f"{_plural(needed, 'spare node')} let {theory.SPARE_QUANTILE:.0%} of node losses find one free")
    if closed["no_spare_free_share"] is not None:
        text += f"; with {info['spare_nodes']:,}, {_percent(closed['no_spare_free_share'], 4)} find none"
    return [text + "."]


def _interval_lines(fleet: ReliabilityFleet, closed: dict[str, Any]) -> list[str]:
    young, daly = closed["young_interval_seconds"], closed["daly_interval_seconds"]
    this = f"This fleet checkpoints every {_duration(fleet.checkpoint.interval)}."
    if young is None or daly is None:
        return [this + " (No optimum to compare with: it has no failures or its checkpoints take no time.)"]
    return [f"{this} The interval that maximises ETTR is about Young's sqrt(2 delta M) = {_duration(young)}, "
            f"or Daly's sqrt(2 delta (M + R)) = {_duration(daly)}, with delta = {_duration(fleet.checkpoint.write)} "
            f"(write), M = {_hours(closed['job_mttf_unexpected_hours'])} h (job MTTF), R = "
            f"{_duration(closed['overhead_seconds'])} (detection + restart). Sweep `checkpoint.interval` "
            "(`tabletop sweep`) to see the whole curve."]


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def _duration(seconds: float) -> str:
    """``2d`` for whole days, else the usual ``1h30m``, ``2m30s``."""
    if seconds >= DAY and seconds % DAY == 0:
        return f"{seconds / DAY:g}d"
    return format_duration(seconds)


def _row(title: str, item: dict[str, Any], show: Callable[[float], str], closed: str) -> str:
    return f"| {title} | {_maybe(item['mean'], show)} | {_maybe(item['sd'], show)} | {_ci(item, show)} | {closed} |"


def _ci(item: dict[str, Any], show: Callable[[float], str]) -> str:
    if item["ci95"] is None:
        return "-"
    low, high = item["ci95"]
    return f"{show(low)} to {show(high)}"


def _maybe(value: float | None, show: Callable[[float], str]) -> str:
    return "-" if value is None else show(value)


def _percent(value: float, digits: int = 2) -> str:
    return f"{value * 100:.{digits}f}%"


def _hours(value: float) -> str:
    return f"{value:,.2f}"


def _count(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _gpu_hours(value: float) -> str:
    return f"{value:,.0f}"
