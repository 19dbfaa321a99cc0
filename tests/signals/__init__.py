"""Tests of the signals package; ``load`` fills a store from promtool's series notation."""

from __future__ import annotations

import re

from tabletop.signals.store import STALE, SeriesStore

_SERIES = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(?:\{(.*)\})?\s*$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')
_NUMBER = r"-?(?:[0-9]*\.)?[0-9]+(?:e[+-]?[0-9]+)?"
_EXPANDING = re.compile(rf"^({_NUMBER}|_)(?:([+-])({_NUMBER}))?x([0-9]+)$")


def expand(values: str) -> list[float | None | str]:
    """promtool's notation: ``1 2 _ stale 0+10x3 5x2`` → 1, 2, gap, stale, 0, 10, 20, 30, 5, 5, 5."""
    out: list[float | None | str] = []
    for word in values.split():
        if word == "_":
            out.append("_")
        elif word == "stale":
            out.append(STALE)
        elif (m := _EXPANDING.match(word)) is not None:
            start, sign, step, count = m.groups()
            if start == "_":
                out.extend(["_"] * int(count))
                continue
            delta = float(step or 0) * (-1 if sign == "-" else 1)
            out.extend(float(start) + i * delta for i in range(int(count) + 1))
        else:
            out.append(float(word))
    return out


def load(store: SeriesStore, series: str, values: str, interval: float = 60.0, start: float = 0.0) -> int:
    """Write ``values`` (promtool notation) for ``series`` every ``interval`` seconds from ``start``."""
    m = _SERIES.match(series)
    assert m is not None, series
    labels = dict(_LABEL.findall(m.group(2) or ""))
    name = m.group(1) or labels.pop("__name__")
    sid = store.series_id(name, labels)
    for i, value in enumerate(expand(values)):
        if value != "_":
            store.write(sid, start + i * interval, value)  # type: ignore[arg-type]
    return sid


def series_text(labels: dict[str, str]) -> str:
    """``name{a="1", b="2"}`` (name only if present), as promtool prints series."""
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return labels.get("__name__", "") + "{" + rest + "}"


def query(store: SeriesStore, expr: str, t: float) -> dict[str, float]:
    """An instant query's result as ``{series text: value}`` (a scalar as ``{"scalar": v}``)."""
    from tabletop.signals.promql import InstantVector, parse_query

    result = parse_query(expr).instant(store, t)
    if isinstance(result, InstantVector):
        out = {series_text(s.labels): s.value for s in result}
        assert len(out) == len(result), "duplicate label sets in a result"
        return out
    return {"scalar": result.value}  # type: ignore[union-attr]
