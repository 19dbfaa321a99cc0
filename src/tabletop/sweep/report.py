"""``report.html``: one self-contained page (no file or network it needs) with the summary
tables, every plot as a base64 data URI and the sweep file."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from typing import Any

from tabletop.sweep.plots import Picture
from tabletop.sweep.summary import CI_METHOD, CLOSED_FORMS, cell, closed_form_rows, families, headline

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
figure { display: inline-block; margin: 0.5em; } figcaption { font-size: 0.9em; color: #555; }
img { max-width: 100%; border: 1px solid #eee; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; }
code { background: #f3f3f3; padding: 0 0.2em; }
"""


def _e(value: Any) -> str:
    return html.escape(value if isinstance(value, str) else json.dumps(value))


def _table(heads: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in heads)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _groups(keys: list[list[Any]], groups: list[dict[str, Any]], columns: list[str]) -> list[list[str]]:
    rows = []
    for key, group in zip(keys, groups):
        rows.append([_e(k) for k in key] + [str(group["runs"])] + [_e(cell(c, group["metrics"][c])) for c in columns])
    return rows


def _ratings(keys: list[list[Any]], groups: list[dict[str, Any]], summary: dict[str, Any]) -> list[list[str]]:
    rows = []
    for key, group in zip(keys, groups):
        shares = []
        for column in summary["columns"]["ratings"]:
            counts = group["ratings"][column]
            shares.append(_e(", ".join(f"{r} {n}" for r, n in counts.items()) or "-"))
        rows.append([_e(k) for k in key] + shares)
    return rows


def render_html(summary: dict[str, Any], pictures: Sequence[Picture], spec_text: str) -> str:
    columns = headline(summary)
    criteria = [c for c in summary["columns"]["numeric"] if c.startswith("criteria.")]
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>Sweep: {_e(summary['document'])}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Sweep: {summary['runs']} runs of <code>{_e(summary['document'])}</code></h1>",
        f"<p>Sweep file <code>{_e(summary['sweep'])}</code>; {summary['seeds']} seed(s) per grid point, "
        f"{_e(summary['combine'])}" + (f"; responder <code>{_e(summary['responder'])}</code>" if summary["responder"] else "")
        + f". Cells: mean [95% CI]. {_e(CI_METHOD)}.</p>",
    ]
    sections: list[tuple[str, list[str], list[list[Any]], list[dict[str, Any]]]] = []
    for parameter in summary["parameters"]:
        groups = summary["by_parameter"][parameter["name"]]
        sections.append((f"By {parameter['name']} ({parameter['path']})", [parameter["name"]],
                         [[g["value"]] for g in groups], groups))
    if len(summary["parameters"]) != 1:
        names = [p["name"] for p in summary["parameters"]]
        groups = summary["by_point"]
        sections.append(("By grid point" if names else "All runs", names,
                         [[g["parameters"][n] for n in names] for g in groups], groups))
    for title, heads, keys, groups in sections:
        parts.append(f"<h2>{_e(title)}</h2>")
        parts.append(_table(heads + ["runs"] + columns, _groups(keys, groups, columns)))
        for parent, members in families(summary["columns"]["numeric"]).items():
            parts.append(f"<p>{_e(parent)} broken down: mean [95% CI].</p>")
            parts.append(_table(heads + ["runs"] + [m[len(parent) + 1:] for m in members], _groups(keys, groups, members)))
        if criteria:
            parts.append("<p>Criteria: mean points [95% CI].</p>")
            parts.append(_table(heads + ["runs"] + criteria, _groups(keys, groups, criteria)))
        if summary["columns"]["ratings"]:
            parts.append("<p>Ratings: how many runs got each.</p>")
            parts.append(_table(heads + summary["columns"]["ratings"], _ratings(keys, groups, summary)))
    if any("closed_form" in g for g in summary["by_point"]):
        heads, rows = closed_form_rows(summary)
        parts.append(f"<h2>Closed forms</h2><p>{_e(CLOSED_FORMS)}</p>")
        parts.append(_table(heads, [[_e(c) for c in row] for row in rows]))
    if pictures:
        parts.append("<h2>Plots</h2>")
    for picture in pictures:
        data = base64.b64encode(picture.path.read_bytes()).decode("ascii")
        parts.append(f"<figure><img alt=\"{_e(picture.title)}\" src=\"data:image/png;base64,{data}\">"
                     f"<figcaption>{_e(picture.title)}</figcaption></figure>")
    parts.append(f"<h2>Sweep file</h2><pre>{html.escape(spec_text)}</pre></body></html>")
    return "\n".join(parts) + "\n"

