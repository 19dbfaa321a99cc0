"""Series in promtool's notation, the ``input_series`` of Prometheus rule unit tests.

promtool reads ``values`` as one sample every ``interval`` from time 0: a number, ``_`` for no
sample, ``stale`` for a stale marker, ``axN`` for ``a`` and N more copies, ``a+bxN`` /
``a-bxN`` for ``a`` and N more values each ``b`` more (or less) than the one before, added one
step at a time (so floating-point steps accumulate), and ``_xN`` for N missing samples.
``encode`` writes values so that promtool reads back exactly the same floats; ``decode`` reads
the notation the way promtool does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import reduce

from tabletop.signals.store import STALE, Series

GAP = "_"
"""A grid step without a sample."""

Value = float | None | str
"""A sample value, ``STALE`` (None) or ``GAP``."""

_UNSIGNED = r"(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[iI][nN][fF]|[nN][aA][nN])"
_NUMBER = re.compile(rf"[-+]?{_UNSIGNED}")
_ITEM = re.compile(rf"(?P<start>[-+]?{_UNSIGNED}|_)(?:(?P<sign>[-+])(?P<step>{_UNSIGNED}))?x(?P<count>\d+)")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n",
            "\r": "\\r", "\t": "\\t", "\v": "\\v"}  # fmt: skip


def format_number(v: float) -> str:
    """``v`` as promtool reads it back exactly: shortest round-trip digits, ``Inf``, ``NaN``."""
    if v != v:
        return "NaN"
    if math.isinf(v):
        return "Inf" if v > 0 else "-Inf"
    if v == 0:
        return "0" if math.copysign(1.0, v) > 0 else "-0.0"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def _same(a: float, b: float) -> bool:
    """Bit-for-bit the same value (``-0.0`` is not ``0.0``; NaN never repeats)."""
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def _finite(v: Value) -> bool:
    return isinstance(v, float) and math.isfinite(v)


def _run(values: Sequence[Value], i: int) -> tuple[float, int]:
    """The step and length (values after the first) of the run starting at ``values[i]``:
    copies of it (step 0, ``axN``) or values promtool's ``a+bxN`` reproduces by repeated
    addition."""
    if i + 1 >= len(values) or not _finite(values[i + 1]):
        return 0.0, 0
    start: float = values[i]  # type: ignore[assignment]
    step = values[i + 1] - start  # type: ignore[operator]
    if not math.isfinite(step):
        return 0.0, 0
    current = start
    n = 0
    while i + n + 1 < len(values) and _finite(following := values[i + n + 1]):
        current = start if step == 0 else current + step
        if not _same(current, following):  # type: ignore[arg-type]
            break
        n += 1
    return step, n


def encode(values: Sequence[Value]) -> str:
    """promtool notation of ``values`` (floats, ``STALE``, ``GAP``), runs compressed."""
    words: list[str] = []
    i = 0
    while i < len(values):
        v = values[i]
        if v == GAP:
            n = 1
            while i + n < len(values) and values[i + n] == GAP:
                n += 1
            words.append(GAP if n == 1 else f"_x{n}")
            i += n
            continue
        if v is STALE:
            words.append("stale")
            i += 1
            continue
        assert isinstance(v, float)
        step, n = _run(values, i) if math.isfinite(v) else (0.0, 0)
        if n and step == 0:
            words.append(f"{format_number(v)}x{n}")
        elif n >= 2:
            sign = "+" if step > 0 else "-"
            words.append(f"{format_number(v)}{sign}{format_number(abs(step))}x{n}")
        else:
            words.append(format_number(v))
            n = 0
        i += n + 1
    return " ".join(words)


def decode(text: str) -> list[Value]:
    """Values of promtool notation, as promtool computes them."""
    out: list[Value] = []
    for word in text.split():
        if word == GAP:
            out.append(GAP)
        elif word == "stale":
            out.append(STALE)
        elif (m := _ITEM.fullmatch(word)) is not None:
            count = int(m["count"])
            if m["start"] == GAP:
                out.extend([GAP] * count)
                continue
            current = float(m["start"])
            if m["step"] is None:  # axN: N more copies, bit for bit
                out.extend([current] * (count + 1))
                continue
            step = float(m["step"]) * (-1 if m["sign"] == "-" else 1)
            out.append(current)
            for _ in range(count):
                current += step
                out.append(current)
        elif _NUMBER.fullmatch(word):
            out.append(float(word))
        else:
            raise ValueError(f"{word!r} is not a number, '_', 'stale' or an expanding 'a+bxN' item")
    return out


def quote(value: str) -> str:
    """A label value as a PromQL string literal (Go's escapes)."""
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def series_text(labels: Mapping[str, str]) -> str:
    """``name{a="1", b="2"}`` (``{...}`` alone without ``__name__``), as promtool parses series."""
    rest = ", ".join(f"{k}={quote(v)}" for k, v in sorted(labels.items()) if k != "__name__")
    return labels.get("__name__", "") + "{" + rest + "}"


def _millis(t: float) -> int:
    ms = round(t * 1000)
    if abs(ms - t * 1000) > 1e-6:
        raise ValueError(f"sample time {t}s is not a whole number of milliseconds")
    return ms


def grid_step(series: Iterable[Series], end: float) -> float:
    """The longest interval (seconds) whose multiples hold every sample time up to ``end``."""
    times = {_millis(t) for s in series for t in s.ts if t <= end}
    step = reduce(math.gcd, times, 0)
    return step / 1000 if step else 1.0


def on_grid(series: Series, step: float, end: float) -> list[Value]:
    """``series``' samples up to ``end`` on the grid ``0, step, 2·step...`` (``GAP`` where none)."""
    step_ms = _millis(step)
    values: list[Value] = []
    for t, v in zip(series.ts, series.vs):
        if t > end:
            break
        index, rest = divmod(_millis(t), step_ms)
        if rest:
            raise ValueError(f"sample time {t}s of {series_text(series.labels)} is not on the {step}s grid")
        values.extend([GAP] * (index - len(values)))
        values.append(v if v is STALE else float(v))
    return values


def input_series(series: Iterable[Series], step: float, end: float) -> list[dict[str, str]]:
    """promtool ``input_series`` entries of ``series`` up to ``end``, sorted by label set;
    series without samples in the window are left out."""
    entries = []
    for s in sorted(series, key=lambda s: sorted(s.labels.items())):
        values = on_grid(s, step, end)
        if values:
            entries.append({"series": series_text(s.labels), "values": encode(values)})
    return entries
