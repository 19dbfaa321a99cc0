"""The store's newest samples in the Prometheus text format, through prometheus_client.

``StoreCollector`` turns the series exposed at the latest scrape into one
``prometheus_client`` ``Metric`` per family, with the type and help the exporters described;
samples keep their stored names (``_bucket``/``_sum``/``_count``, ``_total``) and labels
(``job`` and ``instance`` included, as a federation endpoint shows them). ``render(store)``
is what a ``/metrics`` endpoint over the drill serves.

Counter families whose name does not end in ``_total`` (DCGM's ``..._VOL_TOTAL``) cannot be
written as counters by prometheus_client without renaming their samples, so they are exposed
untyped under their real name.

This is the only module of the signals package that imports prometheus_client.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.utils import floatToGoString

from tabletop.signals.store import MetricMeta, SeriesStore

_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
_SUFFIX_ORDER = {"_bucket": 0, "_sum": 1, "_count": 2}


def _le(value: str) -> str:
    """A bucket bound as Prometheus formats ``le`` (``1`` and ``1.0`` both become ``1.0``)."""
    try:
        return floatToGoString(float(value))
    except ValueError:
        return value


Stamp = Callable[[float], float]
"""Drill seconds → the Unix time a sample is exposed with (a drill against a Prometheus that
must see the drill's sample times, ``tabletop.stack``)."""


class StoreCollector(Collector):
    """A prometheus_client collector over the newest scrape of a ``SeriesStore``; with ``stamp``,
    each sample carries the timestamp of its scrape."""

    def __init__(self, store: SeriesStore, stamp: Stamp | None = None) -> None:
        self.store = store
        self.stamp = stamp
        self._families: dict[str, tuple[str, MetricMeta | None]] = {}

    def _family(self, name: str) -> tuple[str, MetricMeta | None]:
        """Family name and metadata of a sample name (``x_bucket`` belongs to histogram ``x``)."""
        cached = self._families.get(name)
        if cached is not None:
            return cached
        meta = self.store.meta(name)
        result: tuple[str, MetricMeta | None] = (name, meta)
        if meta is None:
            for suffix in _HISTOGRAM_SUFFIXES:
                if name.endswith(suffix):
                    base = name[: -len(suffix)]
                    base_meta = self.store.meta(base)
                    if base_meta is not None and base_meta.type in ("histogram", "summary"):
                        result = (base, base_meta)
                        break
        self._families[name] = result
        return result

    def collect(self) -> Iterator[Metric]:
        grouped: dict[str, list[Sample]] = {}
        stamp = self.stamp
        for series, value in self.store.latest():
            name = series.name
            family, _ = self._family(name)
            labels = {k: v for k, v in series.labels.items() if k != "__name__"}
            grouped.setdefault(family, []).append((name, labels, value, None if stamp is None else stamp(series.ts[-1])))
        for family in sorted(grouped):
            yield self._metric(family, grouped[family])

    def _metric(self, family: str, samples: list[Sample]) -> Metric:
        meta = self.store.meta(family)
        kind = meta.type if meta is not None else "unknown"
        help_text = meta.help if meta is not None else ""
        if kind == "counter":
            if family.endswith("_total"):
                metric = Metric(family[:-6], help_text, "counter")
            else:
                metric = Metric(family, help_text, "unknown")
        elif kind in ("gauge", "histogram", "summary"):
            metric = Metric(family, help_text, kind)
        else:
            metric = Metric(family, help_text, "unknown")
        if kind == "histogram":
            samples = sorted(samples, key=lambda s: _histogram_order(family, s))
            for name, labels, value, timestamp in samples:
                if "le" in labels:
                    labels["le"] = _le(labels["le"])
                metric.add_sample(name, labels, value, timestamp)
        else:
            for name, labels, value, timestamp in samples:
                metric.add_sample(name, labels, value, timestamp)
        return metric


Sample = tuple[str, dict[str, str], float, float | None]
"""Sample name, labels without the name, value, timestamp (Unix seconds, or None)."""


def _histogram_order(family: str, sample: Sample) -> tuple:
    name, labels = sample[0], sample[1]
    group = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
    le = labels.get("le")
    try:
        bound = float(le) if le is not None else math.inf
    except ValueError:
        bound = math.inf
    return group, _SUFFIX_ORDER.get(name[len(family):], 3), bound


def registry(store: SeriesStore, stamp: Stamp | None = None) -> CollectorRegistry:
    """A private registry holding only the store's collector."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(StoreCollector(store, stamp))
    return reg


def render(store: SeriesStore, stamp: Stamp | None = None) -> bytes:
    """The newest scrape of ``store`` in the Prometheus text exposition format (0.0.4); with
    ``stamp``, every sample carries its scrape's time (``stamp(drill seconds)``)."""
    return generate_latest(registry(store, stamp))

