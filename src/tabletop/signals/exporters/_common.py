"""What every simulated exporter shares: metric families, scrape targets, histograms.

An exporter describes its families once, keeps the series ids of each entity it publishes (so
that a scrape is a few dict lookups and ``store.add`` calls per series), and writes
``up{job, instance}`` for every target it stands for, as Prometheus does. A target that cannot
be scraped gets ``up`` = 0 and none of its other series, which therefore go stale.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, ClassVar

from tabletop.signals.store import UNSCRAPED, SeriesStore

if TYPE_CHECKING:
    from tabletop.sim.fleet import Fleet

Family = tuple[str, str, str]
"""(name, type, help): ``name`` as in the text format's ``# TYPE`` line (counters with ``_total``,
histograms without ``_bucket``)."""

UP: Family = ("up", "gauge", "1 if Prometheus could scrape the target, 0 if the scrape failed (written by Prometheus).")

DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
"""prometheus_client's ``Histogram.DEFAULT_BUCKETS`` (without +Inf)."""

_SQRT2 = math.sqrt(2.0)
_Z_ONE = 4.6
"""|erf argument| beyond which a bucket holds all (or none) of the observations to 1e-10."""


def format_le(bound: float) -> str:
    """A bucket bound as Prometheus writes ``le`` (Go float formatting: 0.3, 1.0, 1e+06, +Inf)."""
    if math.isinf(bound):
        return "+Inf" if bound > 0 else "-Inf"
    text = repr(float(bound))
    dot = text.find(".")
    if bound > 0 and dot > 6:
        mantissa = f"{text[0]}.{text[1:dot]}{text[dot + 1:]}".rstrip("0.")
        return f"{mantissa}e+{dot - 1:02d}"
    return text


def wall(fleet: "Fleet", t: float) -> float:
    """Unix seconds of virtual time ``t`` (seconds since the drill started)."""
    return fleet.start.timestamp() + t


_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("", "_sum", "_count")}


class Exporter:
    """Base of the simulated exporters: ``collect(fleet)`` runs inside a scrape."""

    families: ClassVar[tuple[Family, ...]] = ()

    @classmethod
    def series_names(cls) -> frozenset[str]:
        """Names of the series it writes: ``up``, and a histogram's ``_bucket``, ``_sum`` and
        ``_count`` (a summary's quantiles, ``_sum`` and ``_count``)."""
        return frozenset([UP[0]] + [name + suffix for name, kind, _ in cls.families
                                    for suffix in _SUFFIXES.get(kind, ("",))])

    def __init__(self, store: SeriesStore) -> None:
        self.store = store
        store.describe(*UP)
        for family in self.families:
            store.describe(*family)

    def collect(self, fleet: "Fleet") -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def sid(self, name: str, labels: Mapping[str, str]) -> int:
        return self.store.series_id(name, labels)

    def up_sid(self, target: Mapping[str, str]) -> int:
        return self.store.series_id("up", target)


def picker(indices: Sequence[int]) -> Callable[[Sequence[float]], Sequence[float]]:
    """The values at ``indices`` of a sequence, in order, picked in C (``itemgetter`` alone
    gives a bare value for one index)."""
    if len(indices) <= 1:
        return lambda values: tuple(values[i] for i in indices)
    return itemgetter(*indices)


class Row:
    """Series ids an exporter writes together, in a fixed order, without those the scrape
    leaves out (``SeriesStore.unscraped``): ``add(values)`` takes values for every id."""

    __slots__ = ("store", "sids", "_kept")

    def __init__(self, store: SeriesStore, sids: Sequence[int]) -> None:
        self.store = store
        self.sids = [sid for sid in sids if sid != UNSCRAPED]
        self._kept = None if len(self.sids) == len(sids) else picker(
            [i for i, sid in enumerate(sids) if sid != UNSCRAPED])

    def add(self, values: Sequence[float]) -> None:
        kept = self._kept
        self.store.add_many(self.sids, values if kept is None else kept(values))


class Histogram:
    """Classic histogram buckets of one metric, and log-normal observations into them.

    Series ids of one labelled histogram are kept as a list ``[bucket..., +Inf, _sum, _count]``;
    the cumulative values live in a list of the same layout, so that ``+Inf`` and ``_count``
    always get the very same increments (they stay equal) and buckets stay monotone.
    """

    def __init__(self, name: str, bounds: Sequence[float]) -> None:
        self.name = name
        self.bounds = tuple(float(b) for b in bounds)
        self.log_bounds = tuple(math.log(b) for b in self.bounds)
        self.les = tuple(format_le(b) for b in self.bounds) + ("+Inf",)
        self.size = len(self.bounds) + 3
        self._shapes: dict[tuple[float, float, float | None], tuple[list[float], float] | None] = {}

    def sids(self, store: SeriesStore, labels: Mapping[str, str]) -> list[int]:
        ids = [store.series_id(f"{self.name}_bucket", {**labels, "le": le}) for le in self.les]
        ids.append(store.series_id(f"{self.name}_sum", labels))
        ids.append(store.series_id(f"{self.name}_count", labels))
        return ids

    def shape(self, median: float, sigma: float, truncate_at: float | None = None) -> tuple[list[float], float] | None:
        """Share of observations in each bucket (+Inf included) and their mean, for a
        log-normal latency; None if no observation can be at most ``truncate_at`` long.

        With ``truncate_at``, the observations are those at most ``truncate_at`` seconds long
        (requests that finished before the gateway gave up). Replicas of one deployment
        usually share a shape, so shapes are cached.
        """
        key = (median, sigma, truncate_at)
        cached = self._shapes.get(key, False)
        if cached is not False:
            return cached  # type: ignore[return-value]
        mu = math.log(median)
        scale = 1.0 / (sigma * _SQRT2)
        erf = math.erf
        norm = 1.0
        mean = median * math.exp(sigma * sigma / 2.0)
        result: tuple[list[float], float] | None = None
        if truncate_at is not None and not math.isinf(truncate_at):
            log_t = math.log(truncate_at)
            cut = 0.5 * (1.0 + erf((log_t - mu) * scale))
            if cut > 0.0:
                mean *= 0.5 * (1.0 + erf((log_t - mu - sigma * sigma) * scale)) / cut
                norm = 1.0 / cut
            else:
                norm = 0.0
        if norm > 0.0:
            shares = []
            for log_b in self.log_bounds:
                z = (log_b - mu) * scale
                if z > _Z_ONE:
                    shares.append(1.0)
                elif z > -_Z_ONE:
                    share = (0.5 + 0.5 * erf(z)) * norm
                    shares.append(share if share < 1.0 else 1.0)
                else:
                    shares.append(0.0)
            shares.append(1.0)  # +Inf
            result = (shares, mean)
        if len(self._shapes) >= 512:
            self._shapes.clear()
        self._shapes[key] = result
        return result

    def observe(self, acc: list[float], offset: int, count: float, median: float, sigma: float,
                truncate_at: float | None = None) -> None:
        """Add ``count`` observations of a log-normal latency (see ``shape``) to
        ``acc[offset:offset + size]``. A share of exactly 1.0 adds exactly ``count``, so the
        +Inf bucket and ``_count`` stay equal, and monotone shares keep the buckets monotone."""
        if count <= 0.0:
            return
        shape = self.shape(median, sigma, truncate_at)
        if shape is None:
            return
        shares, mean = shape
        end = offset + len(shares)
        acc[offset:end] = [value + count * share for value, share in zip(acc[offset:end], shares)]
        acc[end] += count * mean  # _sum
        acc[end + 1] += count  # _count
