"""In-memory time-series store, filled once per scrape interval.

Every series has its own sample columns (``ts`` and ``vs``); a stale marker is stored as the
value ``STALE`` (``None``), exactly where Prometheus would write its staleness NaN: at the first
scrape after a series stopped being exposed. Series are identified by their full label set
(``__name__`` included) and get a small integer id on first sight; exporters keep those ids so
that a scrape is a few list appends per series.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

STALE = None
"""Value of a stale-marker sample (the series disappeared at that scrape)."""

LabelKey = tuple[tuple[str, str], ...]


def label_key(labels: Mapping[str, str]) -> LabelKey:
    """Hashable, order-independent identity of a label set."""
    return tuple(sorted(labels.items()))


@dataclass(slots=True)
class Series:
    sid: int
    labels: dict[str, str]
    """All labels including ``__name__``."""
    ts: list[float] = field(default_factory=list)
    vs: list[float | None] = field(default_factory=list)
    last_stale: int = -1
    """Index of the newest stale marker (-1: none), kept by ``end_scrape`` and ``write`` so
    readers can skip scanning windows for stale markers."""

    @property
    def name(self) -> str:
        return self.labels["__name__"]

    def window(self, start: float, end: float) -> tuple[int, int]:
        """Index range of samples with ``start <= t <= end`` (Prometheus 2.x range selection)."""
        lo = bisect_left(self.ts, start)
        return lo, bisect_right(self.ts, end, lo)

    def last_at(self, t: float, lookback: float) -> float | None:
        """Value of the newest sample in ``[t - lookback, t]``; None if none or if it is stale."""
        hi = bisect_right(self.ts, t)
        if hi == 0 or self.ts[hi - 1] < t - lookback:
            return None
        return self.vs[hi - 1]


@dataclass(frozen=True, slots=True)
class MetricMeta:
    type: str
    """Prometheus metric type: counter, gauge, histogram, summary, untyped."""
    help: str


class SeriesStore:
    """All series of a drill, their samples and the metadata of each metric family."""

    def __init__(self, epoch: float = 0.0) -> None:
        self.epoch = epoch
        """Unix time of second 0 (a drill's start): what ``time()`` and ``timestamp()`` report
        is the sample or evaluation time plus this, as in Prometheus. 0 in promtool's tests."""
        self._series: list[Series] = []
        self._by_key: dict[LabelKey, int] = {}
        self._by_name: dict[str, list[int]] = {}
        self._meta: dict[str, MetricMeta] = {}
        self._ts: list[list[float]] = []
        self._vs: list[list[float | None]] = []
        """Sample columns by series id (the same lists as each Series' ``ts`` and ``vs``)."""
        self._scrape_time: float | None = None
        self._live_now: list[int] = []
        self._live_before: set[int] = set()
        self.generation = 0
        """Bumped whenever a series is added: selection caches key on it."""
        self.scrapes = 0
        """Scrapes completed so far."""

    # registration -------------------------------------------------------------------------
    def describe(self, family: str, type: str, help: str) -> None:
        """Record type and help text of a metric family (``family`` without _bucket etc.)."""
        self._meta[family] = MetricMeta(type, help)

    def meta(self, family: str) -> MetricMeta | None:
        return self._meta.get(family)

    def families(self) -> dict[str, MetricMeta]:
        return dict(self._meta)

    def series_id(self, name: str, labels: Mapping[str, str]) -> int:
        """Id of the series ``name{labels}``, registering it on first use."""
        full = {"__name__": name, **labels}
        key = label_key(full)
        sid = self._by_key.get(key)
        if sid is None:
            sid = len(self._series)
            series = Series(sid, full)
            self._series.append(series)
            self._ts.append(series.ts)
            self._vs.append(series.vs)
            self._by_key[key] = sid
            self._by_name.setdefault(name, []).append(sid)
            self.generation += 1
        return sid

    # writing -------------------------------------------------------------------------------
    def begin_scrape(self, t: float) -> None:
        self._scrape_time = t
        self._live_now = []

    def add(self, sid: int, value: float) -> None:
        """Record ``value`` for series ``sid`` at the current scrape's time."""
        self._ts[sid].append(self._scrape_time)  # type: ignore[arg-type]
        self._vs[sid].append(value)
        self._live_now.append(sid)

    def add_many(self, sids: list[int], values: Sequence[float]) -> None:
        """``add`` for parallel lists of series ids and values."""
        t, ts, vs = self._scrape_time, self._ts, self._vs
        for sid, value in zip(sids, values):
            ts[sid].append(t)  # type: ignore[arg-type]
            vs[sid].append(value)
        self._live_now.extend(sids)

    def end_scrape(self) -> None:
        """Write stale markers for series exposed at the previous scrape but not at this one."""
        t = self._scrape_time
        live_now = set(self._live_now)
        for sid in sorted(self._live_before - live_now):
            series = self._series[sid]
            series.last_stale = len(series.ts)
            series.ts.append(t)  # type: ignore[arg-type]
            series.vs.append(STALE)
        self._live_before = live_now
        self._scrape_time = None
        self.scrapes += 1

    def write(self, sid: int, t: float, value: float | None) -> None:
        """Append one sample outside a scrape (rule results, imported series); ``t`` must not go back."""
        series = self._series[sid]
        if series.ts and t < series.ts[-1]:
            raise ValueError(f"sample at {t} is older than the newest sample of {series.labels}")
        if value is STALE:
            series.last_stale = len(series.ts)
        series.ts.append(t)
        series.vs.append(value)

    # reading -------------------------------------------------------------------------------
    def series(self, sid: int) -> Series:
        return self._series[sid]

    def __len__(self) -> int:
        return len(self._series)

    def __iter__(self) -> Iterator[Series]:
        return iter(self._series)

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def with_name(self, name: str) -> list[Series]:
        return [self._series[sid] for sid in self._by_name.get(name, ())]

    def all_series(self) -> Iterable[Series]:
        return self._series

    def latest(self) -> Iterator[tuple[Series, float]]:
        """Every series exposed at the newest scrape, with its value (for /metrics)."""
        for sid in sorted(self._live_before):
            series = self._series[sid]
            value = series.vs[-1]
            if value is not None:
                yield series, value

    def sample_count(self) -> int:
        return sum(len(s.ts) for s in self._series)
