"""The summary of a sweep: each metric's n, mean, standard deviation and 95% confidence interval
per parameter value (over every other parameter's values and the seeds) and per grid point;
``summary.json`` and ``summary.md``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tabletop.durations import format_duration
from tabletop import stats
from tabletop.sweep.metrics import TIMES
from tabletop.sweep.plan import Plan

CI_METHOD = ("95% confidence interval of the mean: mean ± t·s/√n, Student's t (0.975 quantile, n-1 degrees of "
             "freedom) from a table up to 120, the normal quantile 1.960 beyond")


def _same(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def numeric_columns(plan: Plan, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Metric columns holding numbers (the others, such as ratings, hold text)."""
    return [c for c in plan.columns if not any(isinstance(r.get(c), str) for r in rows)]


def _group(plan: Plan, rows: Sequence[dict[str, Any]], numeric: list[str]) -> dict[str, Any]:
    text = [c for c in plan.columns if c not in numeric]
    return {
        "runs": len(rows),
        "metrics": {c: stats.spread(r.get(c) for r in rows).to_json() for c in numeric},
        "ratings": {c: stats.shares(r.get(c) for r in rows) for c in text},
    }


def summarize(plan: Plan, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The summary of the plan's rows as JSON-able data."""
    numeric = numeric_columns(plan, rows)
    written = [{name: _same(row.get(name)) for name in plan.parameters} for row in rows]

    def matching(point: dict[str, Any]) -> list[dict[str, Any]]:
        wanted = {name: _same(value) for name, value in point.items()}
        return [row for row, keys in zip(rows, written) if all(keys[k] == v for k, v in wanted.items())]

    by_parameter = {p.column: [{"value": v, **_group(plan, matching({p.column: v}), numeric)} for v in p.values]
                    for p in plan.spec.parameters}
    by_point = []
    for index, point in enumerate(plan.points):
        closed = {"closed_form": plan.closed_forms[index]} if plan.closed_forms else {}
        by_point.append({"parameters": point, **_group(plan, matching(point), numeric), **closed})
    return {
        "sweep": str(plan.path),
        "kind": plan.kind,
        "document": str(plan.document),
        "responder": plan.identity["responder"],
        "runs": len(rows),
        "seeds": len(plan.spec.seeds),
        "combine": plan.spec.combine,
        "parameters": [{"name": p.column, "path": p.path, "values": p.values} for p in plan.spec.parameters],
        "columns": {"numeric": numeric, "ratings": [c for c in plan.columns if c not in numeric]},
        "ci_method": CI_METHOD,
        "by_parameter": by_parameter,
        "by_point": by_point,
    }


def fmt(column: str, value: float | None, like: float | None = None) -> str:
    """A metric's value for people: durations for the times, otherwise digits chosen by the size
    of ``like`` (default: the value itself), so an interval reads with its mean's precision."""
    if value is None:
        return "-"
    if column.split(".", 1)[0] in TIMES:
        return ("-" if value < 0 else "") + format_duration(abs(value))
    size = abs(value if like is None else like)
    if value == 0 and like is None:
        return "0"
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    if size >= 0.1 or size == 0:
        return f"{value:.3f}"
    return f"{value:.3g}"


def cell(column: str, spread: dict[str, Any], interval: bool = True) -> str:
    """``mean [low, high]`` (and how many runs had no value); whole numbers when all three are."""
    if spread["mean"] is None:
        return f"- ({spread['missing']} missing)" if spread["missing"] else "-"
    mean = spread["mean"]
    bounds = spread["ci95"] if interval and spread["ci95"] is not None else []
    if all(float(v).is_integer() for v in [mean, *bounds]) and column.split(".", 1)[0] not in TIMES:
        text = f"{mean:,.0f}" + (f" [{bounds[0]:,.0f}, {bounds[1]:,.0f}]" if bounds else "")
    else:
        text = fmt(column, mean) + (f" [{fmt(column, bounds[0], mean)}, {fmt(column, bounds[1], mean)}]" if bounds else "")
    return text + (f" ({spread['missing']} missing)" if spread["missing"] else "")


def families(columns: list[str]) -> dict[str, list[str]]:
    """Columns broken down under another column: ``interruptions`` → its ``interruptions.<cause>``."""
    found: dict[str, list[str]] = {}
    for column in columns:
        parent = column.split(".", 1)[0]
        if parent != column and parent in columns:
            found.setdefault(parent, []).append(column)
    return found


def headline(summary: dict[str, Any]) -> list[str]:
    """Numeric columns of the main tables: not the criteria, nor the breakdowns of ``families``
    (they get tables of their own)."""
    numeric = summary["columns"]["numeric"]
    parts = {c for members in families(numeric).values() for c in members}
    return [c for c in numeric if not c.startswith("criteria.") and c not in parts]


def _table(heads: list[str], groups: list[dict[str, Any]], keys: list[list[Any]], columns: list[str],
           names: list[str] | None = None, interval: bool = True) -> list[str]:
    lines = ["| " + " | ".join(heads + ["runs"] + [_escape(c) for c in names or columns]) + " |",
             "|" + "---|" * len(heads) + "--:|" + "--:|" * len(columns)]
    for key, group in zip(keys, groups):
        cells = [_escape(_show(k)) for k in key] + [str(group["runs"])]
        cells += [cell(c, group["metrics"][c], interval) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _criteria_table(head: list[str], groups: list[dict[str, Any]], keys: list[list[Any]], summary: dict[str, Any]) -> list[str]:
    """Mean points of each criterion and its most common rating."""
    ids = [c[len("criteria."):-len(".points")] for c in summary["columns"]["numeric"]
           if c.startswith("criteria.") and c.endswith(".points")]
    if not ids:
        return []
    lines = ["| " + " | ".join(head + [_escape(i) for i in ids]) + " |", "|" + "---|" * len(head) + "--:|" * len(ids)]
    for key, group in zip(keys, groups):
        cells = [_escape(_show(k)) for k in key]
        for criterion in ids:
            mean = group["metrics"][f"criteria.{criterion}.points"]["mean"]
            ratings = group["ratings"].get(f"criteria.{criterion}.rating", {})
            top = next(iter(ratings), "")
            cells.append(f"{fmt('', mean)} {top}".strip())
        lines.append("| " + " | ".join(cells) + " |")
    return ["", "Criteria: mean points and the most common rating.", ""] + lines


def _sections(summary: dict[str, Any], heads: list[str], groups: list[dict[str, Any]], keys: list[list[Any]],
              brief: bool) -> list[str]:
    """The headline table, then (unless ``brief``) each breakdown's means and the criteria."""
    lines = _table(heads, groups, keys, headline(summary))
    if brief:
        return lines
    for parent, members in families(summary["columns"]["numeric"]).items():
        lines += ["", f"{parent} broken down (means):", ""]
        lines += _table(heads, groups, keys, members, [m[len(parent) + 1:] for m in members], interval=False)
    return lines + _criteria_table(heads, groups, keys, summary)


def render_markdown(summary: dict[str, Any], brief: bool = False) -> str:
    """The summary as Markdown; ``brief``: only the headline tables (what the command prints)."""
    lines = [
        f"# Sweep summary: {summary['runs']} runs",
        "",
        f"Sweep `{summary['sweep']}` of the {summary['kind']} `{summary['document']}`"
        + (f", responder `{summary['responder']}`" if summary["responder"] else "")
        + f", {summary['seeds']} seed(s) per grid point.",
        "",
        f"Cells: mean [95% confidence interval]; {CI_METHOD}."
        + (" Times come from the drill's milestones; a run that never reached one counts as missing."
           if summary["kind"] == "scenario" else ""),
    ]
    for parameter in summary["parameters"]:
        name = parameter["name"]
        groups = summary["by_parameter"][name]
        keys = [[g["value"]] for g in groups]
        lines += ["", f"## By {_escape(name)}", "", f"`{parameter['path']}`", ""]
        lines += _sections(summary, [name], groups, keys, brief)
    if len(summary["parameters"]) != 1:
        names = [p["name"] for p in summary["parameters"]]
        groups = summary["by_point"]
        keys = [[g["parameters"][n] for n in names] for g in groups]
        lines += ["", "## By grid point" if names else "## All runs", ""]
        lines += _sections(summary, names, groups, keys, brief)
    if not brief and any("closed_form" in g for g in summary["by_point"]):
        lines += ["", "## Closed forms", "", CLOSED_FORMS, ""] + closed_form_table(summary)
    return "\n".join(lines) + "\n"


CLOSED_FORMS = ("What the closed forms of `tabletop.reliability.theory` give for each grid point: Kokolis et al.'s "
                "E[ETTR] ~= (1 - N r (u0 + dt/2)) / (1 + w/dt), the job MTTF 1/(N r) of unexpected interruptions, "
                "and the checkpoint interval of Young, sqrt(2 w M), and Daly, sqrt(2 w (M + R)).")


def closed_form_rows(summary: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Heads and cells of the closed-form table (fleets): each grid point, predicted and simulated."""
    names = [p["name"] for p in summary["parameters"]]
    numeric = summary["columns"]["numeric"]
    pairs = [("ettr", "E[ETTR]", "ETTR simulated"),
             ("job_mttf_unexpected_hours", "job MTTF 1/(N r), h", "simulated (unexpected), h")]
    heads = list(names)
    for column, predicted, simulated in pairs:
        heads += [predicted] + ([simulated] if column in numeric else [])
    heads += ["Young", "Daly"]
    rows = []
    for group in summary["by_point"]:
        closed, measured = group["closed_form"], group["metrics"]
        row = [_show(group["parameters"][n]) for n in names]
        for column, _, _ in pairs:
            row += [fmt("", closed[column])] + ([fmt("", measured[column]["mean"])] if column in numeric else [])
        rows.append(row + [_interval(closed["young_interval_seconds"]), _interval(closed["daly_interval_seconds"])])
    return heads, rows


def _interval(seconds: float | None) -> str:
    return "-" if seconds is None else format_duration(seconds)


def closed_form_table(summary: dict[str, Any]) -> list[str]:
    heads, rows = closed_form_rows(summary)
    lines = ["| " + " | ".join(_escape(h) for h in heads) + " |", "|" + "--:|" * len(heads)]
    return lines + ["| " + " | ".join(_escape(c) for c in row) + " |" for row in rows]


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _escape(text: str) -> str:
    return text.replace("|", "\\|")
