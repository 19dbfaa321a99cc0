"""The sweep's pictures (matplotlib, Agg, no pyplot state): ``plots/*.png``.

- each numeric metric against each parameter: the mean with its 95% confidence band (one line
  per value of the other parameter when there are two, the mean over the others otherwise);
- a sweep without parameters: each metric's distribution over the seeds;
- a broken-down metric (a fleet's interruptions by cause, lost GPU-hours by category): the mean
  of each part per parameter value, stacked;
- fleets: ETTR against the checkpoint interval, when that is a parameter, with the best interval,
  the closed form and Young's interval.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tabletop.durations import format_duration, parse_duration
from tabletop.sweep.metrics import TIMES
from tabletop.sweep.summary import families, headline

_UNITS = ((7200.0, 3600.0, "h"), (120.0, 60.0, "min"), (0.0, 1.0, "s"))


@dataclass(frozen=True)
class Picture:
    title: str
    path: Path


@dataclass(frozen=True)
class Axis:
    """Where a parameter's values go on the x axis, and what the ticks say."""

    positions: list[float]
    labels: list[str]
    title: str
    scale: float | None = None
    """Seconds per unit when the values are durations."""
    log: bool = False
    """Positive numbers spanning 20 times or more: a logarithmic axis."""


def axis(name: str, values: Sequence[Any]) -> Axis:
    """Numbers as they are, durations in a readable unit, anything else evenly spaced."""
    labels = [_label(v) for v in values]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return Axis([float(v) for v in values], labels, name, log=_wide([float(v) for v in values]))
    try:
        seconds = [parse_duration(v) for v in values]
    except (TypeError, ValueError, AttributeError):
        return Axis([float(i) for i in range(len(values))], labels, name)
    _, scale, unit = next(u for u in _UNITS if max(seconds) >= u[0])
    return Axis([s / scale for s in seconds], labels, f"{name} ({unit})", scale, _wide(seconds))


def _wide(numbers: list[float]) -> bool:
    return len(numbers) > 2 and min(numbers) > 0 and max(numbers) / min(numbers) >= 20


def _y(column: str, value: float | None) -> float | None:
    return None if value is None else value / 60 if column in TIMES else value


def _y_title(column: str) -> str:
    return f"{column} (min)" if column in TIMES else column


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "value"


def _figure(width: float = 7) -> Any:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, 4.2), dpi=100, layout="constrained")
    return figure, figure.subplots()


def _save(figure: Any, folder: Path, name: str, title: str) -> Picture:
    path = folder / f"{_slug(name)}.png"
    figure.savefig(path, format="png")
    return Picture(title, path)


def _line(ax: Any, column: str, x: list[float], groups: list[dict[str, Any]], label: str | None) -> None:
    spreads = [g["metrics"][column] for g in groups]
    means = [_y(column, s["mean"]) for s in spreads]
    points = [(xi, m) for xi, m in zip(x, means) if m is not None]
    if not points:
        return
    drawn = ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
    band = [(xi, _y(column, s["ci95"][0]), _y(column, s["ci95"][1])) for xi, s in zip(x, spreads) if s["ci95"]]
    if band:
        ax.fill_between([b[0] for b in band], [b[1] for b in band], [b[2] for b in band],
                        color=drawn[0].get_color(), alpha=0.2, linewidth=0)


def metric_plots(summary: dict[str, Any], folder: Path) -> list[Picture]:
    parameters = summary["parameters"]
    points = criteria_points(summary)
    pictures: list[Picture] = []
    for column in headline(summary) + points:
        for index, parameter in enumerate(parameters):
            name = parameter["name"]
            x = axis(name, parameter["values"])
            figure, ax = _figure()
            if len(parameters) == 2:
                other = parameters[1 - index]
                for value in other["values"]:
                    _line(ax, column, x.positions, _points(summary, name, parameter["values"], other["name"], value),
                          f"{other['name']} = {_label(value)}")
                ax.legend(fontsize="small")
            else:
                _line(ax, column, x.positions, summary["by_parameter"][name], None)
            _axes(ax, x, _y_title(column), f"{column} by {name}: mean and 95% confidence interval")
            pictures.append(_save(figure, folder, f"{column}--{name}", f"{column} by {name}"))
    return pictures


def criteria_points(summary: dict[str, Any]) -> list[str]:
    return [c for c in summary["columns"]["numeric"] if c.startswith("criteria.")]


def _points(summary: dict[str, Any], name: str, values: list[Any], other: str, value: Any) -> list[dict[str, Any]]:
    """The grid points where ``other`` is ``value``, in the order of ``name``'s values."""
    return [next(g for g in summary["by_point"] if _same(g["parameters"][name], v) and _same(g["parameters"][other], value))
            for v in values]


def distribution_plots(summary: dict[str, Any], rows: Sequence[dict[str, Any]], folder: Path) -> list[Picture]:
    """Without parameters: each metric's values over the seeds."""
    pictures: list[Picture] = []
    for column in headline(summary):
        values = [_y(column, r.get(column)) for r in rows if isinstance(r.get(column), (int, float))]
        if not values:
            continue
        figure, ax = _figure()
        ax.hist(values, bins=min(30, max(5, len(values) // 3)))
        spread = summary["by_point"][0]["metrics"][column]
        if spread["mean"] is not None:
            ax.axvline(_y(column, spread["mean"]), color="black", linestyle="--", label="mean")
            ax.legend(fontsize="small")
        ax.set_xlabel(_y_title(column))
        ax.set_ylabel("runs")
        ax.set_title(f"{column} over {len(values)} runs", fontsize="medium")
        pictures.append(_save(figure, folder, f"{column}--distribution", f"{column}: distribution over the runs"))
    return pictures


def breakdown_plots(summary: dict[str, Any], folder: Path) -> list[Picture]:
    """Each broken-down metric (a fleet's interruptions by cause, its lost GPU-hours by category):
    the mean of each part for each value of each parameter, stacked."""
    from matplotlib import colormaps

    pictures = []
    cuts = [(p["name"], p["values"], summary["by_parameter"][p["name"]]) for p in summary["parameters"]]
    for parent, members in families(summary["columns"]["numeric"]).items():
        colours = colormaps["tab20"].resampled(max(len(members), 2))
        for name, values, groups in cuts or [("all runs", ["all runs"], summary["by_point"])]:
            figure, ax = _figure(width=9)
            positions = list(range(len(values)))
            bottom = [0.0] * len(values)
            for number, member in enumerate(members):
                heights = [g["metrics"][member]["mean"] or 0.0 for g in groups]
                ax.bar(positions, heights, bottom=bottom, label=member[len(parent) + 1:], color=colours(number))
                bottom = [b + h for b, h in zip(bottom, heights)]
            ax.set_xticks(positions, [_label(v) for v in values])
            ax.set_xlabel(name)
            ax.set_ylabel(f"{parent} per run (mean)")
            ax.set_title(f"{parent} by {parent_part(parent)}, by {name}", fontsize="medium")
            handles, labels = ax.get_legend_handles_labels()
            ax.legend(handles[::-1], labels[::-1], fontsize="x-small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
            pictures.append(_save(figure, folder, f"{parent}-breakdown--{name}", f"{parent} by {parent_part(parent)}, by {name}"))
    return pictures


def parent_part(parent: str) -> str:
    return "cause" if parent == "interruptions" else "category" if parent.startswith("lost_") else "part"


def checkpoint_plot(summary: dict[str, Any], folder: Path) -> list[Picture]:
    """Fleets: ETTR against the checkpoint interval: the simulated mean and 95% band, the best
    interval, and (with no other parameter) Kokolis et al.'s closed form and Young's interval."""
    parameter = next((p for p in summary["parameters"] if p["path"].endswith("checkpoint.interval")), None)
    if parameter is None or "ettr" not in summary["columns"]["numeric"]:
        return []
    x = axis(parameter["name"], parameter["values"])
    groups = summary["by_parameter"][parameter["name"]]
    figure, ax = _figure()
    _line(ax, "ettr", x.positions, groups, "simulated (mean, 95% CI)")
    means = [g["metrics"]["ettr"]["mean"] for g in groups]
    if any(m is not None for m in means):
        best = max((m, i) for i, m in enumerate(means) if m is not None)[1]
        ax.axvline(x.positions[best], color="grey", linestyle=":", label=f"best simulated: {x.labels[best]}")
    closed = [g.get("closed_form") for g in summary["by_point"]]
    if len(summary["parameters"]) == 1 and all(closed):
        ax.plot(x.positions, [c["ettr"] for c in closed], linestyle="--", color="black", label="E[ETTR], closed form")
        young = closed[0]["young_interval_seconds"]
        if young is not None and x.scale is not None:
            ax.axvline(young / x.scale, color="tab:red", linestyle="-.", alpha=0.7,
                       label=f"Young's interval {format_duration(young)}")
    ax.legend(fontsize="small")
    _axes(ax, x, "ETTR (effective training time ratio)", "ETTR vs checkpoint interval")
    return [_save(figure, folder, "ettr-vs-checkpoint-interval", "ETTR vs checkpoint interval")]


def _axes(ax: Any, x: Axis, y: str, title: str) -> None:
    if x.log:
        ax.set_xscale("log")
        ax.minorticks_off()
    ax.set_xticks(x.positions, x.labels)
    ax.set_xlabel(x.title)
    ax.set_ylabel(y)
    ax.set_title(title, fontsize="medium")
    ax.grid(True, alpha=0.3)


def make_plots(summary: dict[str, Any], rows: Sequence[dict[str, Any]], folder: Path) -> list[Picture]:
    """Every picture of the sweep, written to ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.png"):
        stale.unlink()
    pictures = checkpoint_plot(summary, folder) + breakdown_plots(summary, folder)
    if summary["parameters"]:
        return pictures + metric_plots(summary, folder)
    return pictures + distribution_plots(summary, rows, folder)


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def _label(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
