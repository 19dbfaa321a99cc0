"""In-memory time-series store, filled once per scrape interval.

Every series has its own sample columns (``ts`` and ``vs``); a stale marker is stored as the
value ``STALE`` (``None``), exactly where Prometheus would write its staleness NaN: at the first
scrape after a series stopped being exposed. Series are identified by their full label set
(``__name__`` included) and get a small integer id on first sight; exporters keep those ids so
that a scrape is a few list appends per series.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import lt

STALE = None
"""Value of a stale-marker sample (the series disappeared at that scrape)."""

_consume = deque(maxlen=0).extend
"""Runs an iterator to its end in C (``add_block``'s appends)."""

UNSCRAPED = -1
"""Series id of a series the scrape leaves out (its name is in ``SeriesStore.unscraped``):
``add`` and ``add_many`` skip it."""


def scraped(sids: Sequence[int], values: Sequence[float]) -> tuple[list[int], list[float]]:
    """The ids and values of ``sids`` without the UNSCRAPED ones."""
    kept = [(sid, value) for sid, value in zip(sids, values) if sid != UNSCRAPED]
    return [sid for sid, _ in kept], [value for _, value in kept]


class UnscrapedRead(RuntimeError):
    """An expression selected a metric name the scrape left out: the list of names a drill
    can read (``tabletop.drill.reads``) missed one. A bug, never a user's error."""

LabelKey = tuple[tuple[str, str], ...]


def label_key(labels: Mapping[str, str]) -> LabelKey:
    """Hashable, order-independent identity of a label set."""
    return tuple(sorted(labels.items()))


class Block:
    """Series a target always writes together (a histogram's buckets, a target's counters):
    they share one list of timestamps, which range functions then bisect once for all, and
    one record of where any of them fell (see ``Series.falls_within``)."""

    __slots__ = ("sids", "ts", "vs", "drops", "previous")

    def __init__(self, members: list["Series"]) -> None:
        self.sids = [s.sid for s in members]
        self.ts = members[0].ts
        self.vs = [s.vs for s in members]
        self.drops: list[int] = []
        """Indices of the samples where a member is below its previous sample."""
        self.previous: list[float] | None = None


@dataclass(slots=True)
class Series:
    sid: int
    labels: dict[str, str]
    """All labels including ``__name__``."""
    key: LabelKey = ()
    """``label_key(labels)``: its place in Prometheus's order of series."""
    ts: list[float] = field(default_factory=list)
    vs: list[float | None] = field(default_factory=list)
    last_stale: int = -1
    """Index of the newest stale marker (-1: none), kept by ``end_scrape`` and ``write`` so
    readers can skip scanning windows for stale markers."""
    block: Block | None = None
    """The block whose timestamps ``ts`` are (``SeriesStore.block``)."""
    drops: list[int] = field(default_factory=list)
    """Indices of the samples below the sample before them (counter resets), found by
    ``falls_within`` up to index ``drops_scanned``."""
    drops_scanned: int = 1

    @property
    def name(self) -> str:
        return self.labels["__name__"]

    def falls_within(self, lo: int, hi: int) -> bool:
        """Whether a sample in ``vs[lo + 1:hi]`` is below the one before it, for a window
        without stale markers. Samples are only ever appended, so each is compared once; a
        block's members answer for the whole block (``add_block`` records its falls)."""
        drops = self.block.drops if self.block is not None else self._scan_drops()
        if not drops or drops[-1] <= lo:
            return False
        j = bisect_right(drops, lo)
        return j < len(drops) and drops[j] < hi

    def _scan_drops(self) -> list[int]:
        """``drops``, brought up to the newest sample."""
        vs = self.vs
        end = len(vs)
        i = self.drops_scanned
        if i < end:
            previous = vs[i - 1]
            for i in range(i, end):
                value = vs[i]
                if value is not None and previous is not None and value < previous:
                    self.drops.append(i)
                previous = value
            self.drops_scanned = end
        return self.drops

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

    def __init__(self, epoch: float = 0.0, unscraped: frozenset[str] = frozenset()) -> None:
        self.epoch = epoch
        """Unix time of second 0 (a drill's start): what ``time()`` and ``timestamp()`` report
        is the sample or evaluation time plus this, as in Prometheus. 0 in promtool's tests."""
        self.unscraped = unscraped
        """Series names the exporters do not write because nothing in the drill can read them;
        selecting one raises UnscrapedRead."""
        self._series: list[Series] = []
        self._by_key: dict[LabelKey, int] = {}
        self._by_name: dict[str, list[Series]] = {}
        self._meta: dict[str, MetricMeta] = {}
        self._ts: list[list[float]] = []
        self._vs: list[list[float | None]] = []
        """Sample columns by series id (the same lists as each Series' ``ts`` and ``vs``)."""
        self._scrape_time: float | None = None
        self._live_now: list[int] = []
        self._live_before: set[int] = set()
        self.generation = 0
        """Bumped whenever a series is added or joins a block: selection caches key on it."""
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

    def writes(self, name: str) -> bool:
        """Whether the scrape writes series called ``name``."""
        return name not in self.unscraped

    def series_id(self, name: str, labels: Mapping[str, str]) -> int:
        """Id of the series ``name{labels}``, registering it on first use; UNSCRAPED if the
        scrape leaves ``name`` out."""
        if name in self.unscraped:
            return UNSCRAPED
        full = {"__name__": name, **labels}
        key = label_key(full)
        sid = self._by_key.get(key)
        if sid is None:
            sid = len(self._series)
            series = Series(sid, full, key)
            self._series.append(series)
            self._ts.append(series.ts)
            self._vs.append(series.vs)
            self._by_key[key] = sid
            self._by_name.setdefault(name, []).append(series)
            self.generation += 1
        return sid

    def block(self, sids: list[int]) -> Block | None:
        """Make the series ``sids`` share one list of timestamps, to be written only together by
        ``add_block``; None (write them with ``add_many``) if one already has samples."""
        members = [self._series[sid] for sid in sids if sid != UNSCRAPED]
        if not members or any(s.ts or s.block is not None for s in members):
            return None
        block = Block(members)
        for series in members:
            series.ts = block.ts
            series.block = block
            self._ts[series.sid] = block.ts
        self.generation += 1
        return block

    # writing -------------------------------------------------------------------------------
    def begin_scrape(self, t: float) -> None:
        self._scrape_time = t
        self._live_now = []

    def add(self, sid: int, value: float) -> None:
        """Record ``value`` for series ``sid`` at the current scrape's time."""
        if sid == UNSCRAPED:
            return
        self._ts[sid].append(self._scrape_time)  # type: ignore[arg-type]
        self._vs[sid].append(value)
        self._live_now.append(sid)

    def add_many(self, sids: list[int], values: Sequence[float]) -> None:
        """``add`` for parallel lists of series ids and values."""
        if UNSCRAPED in sids:
            sids, values = scraped(sids, values)
        t, ts, vs = self._scrape_time, self._ts, self._vs
        for sid, value in zip(sids, values):
            ts[sid].append(t)  # type: ignore[arg-type]
            vs[sid].append(value)
        self._live_now.extend(sids)

    def add_block(self, block: Block, values: Sequence[float]) -> None:
        """``add_many`` for the series of a block."""
        previous = block.previous
        if previous is not None and any(map(lt, values, previous)):
            block.drops.append(len(block.ts))
        block.previous = list(values)
        block.ts.append(self._scrape_time)  # type: ignore[arg-type]
        _consume(map(list.append, block.vs, values))
        self._live_now.extend(block.sids)

    def end_scrape(self) -> None:
        """Write stale markers for series exposed at the previous scrape but not at this one."""
        t = self._scrape_time
        live_now = set(self._live_now)
        for sid in sorted(self._live_before - live_now):
            series = self._series[sid]
            series.last_stale = len(series.vs)
            if len(series.ts) == series.last_stale:  # a block's members share their timestamps
                series.ts.append(t)  # type: ignore[arg-type]
            series.vs.append(STALE)
        self._live_before = live_now
        self._scrape_time = None
        self.scrapes += 1

    def write(self, sid: int, t: float, value: float | None) -> None:
        """Append one sample outside a scrape (rule results, imported series); ``t`` must not go back."""
        series = self._series[sid]
        if series.block is not None:
            raise ValueError(f"{series.labels} is written only with the other series of its block")
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

    def with_name(self, name: str, start: int = 0) -> list[Series]:
        """The series called ``name`` in the order they were registered, from the ``start``-th
        on, for a selector (UnscrapedRead if the scrape leaves the name out)."""
        if name in self.unscraped:
            raise UnscrapedRead(f"{name} was left out of the scrape, but an expression selects it")
        return self._by_name.get(name, [])[start:]

    def all_series(self, start: int = 0) -> list[Series]:
        """Every series in the order they were registered, from the ``start``-th on, for a
        selector without a metric name (UnscrapedRead if the scrape leaves names out)."""
        if self.unscraped:
            raise UnscrapedRead("a selector without a metric name reads a scrape that left names out")
        return self._series[start:]

    def latest(self) -> Iterator[tuple[Series, float]]:
        """Every series exposed at the newest scrape, with its value (for /metrics)."""
        for sid in sorted(self._live_before):
            series = self._series[sid]
            value = series.vs[-1]
            if value is not None:
                yield series, value

    def sample_count(self) -> int:
        return sum(len(s.ts) for s in self._series)
