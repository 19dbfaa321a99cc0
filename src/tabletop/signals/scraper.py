"""One Prometheus scrape of the whole simulated fleet, every scrape interval.

``scrape()`` opens a scrape at the fleet's current time, lets every exporter add the samples
of its targets, and closes it, which writes stale markers for every series exposed at the
previous scrape but not at this one (a target went down, a pod went away, a label changed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabletop.signals.exporters import EXPORTERS
from tabletop.signals.exporters._common import UP, Exporter, Family
from tabletop.signals.store import SeriesStore

if TYPE_CHECKING:
    from tabletop.sim.fleet import Fleet


class Scraper:
    def __init__(self, store: SeriesStore, fleet: "Fleet") -> None:
        """Exporters all of whose series are in ``store.unscraped`` are not run; the others
        skip the series left out."""
        self.store = store
        self.fleet = fleet
        self.exporters: list[Exporter] = [exporter(store) for exporter in EXPORTERS]
        self._collecting = [exporter for exporter in self.exporters
                            if not exporter.series_names() <= store.unscraped]

    def scrape(self) -> None:
        store = self.store
        fleet = self.fleet
        store.begin_scrape(fleet.now)
        for exporter in self._collecting:
            exporter.collect(fleet)
        store.end_scrape()

    def families(self) -> list[Family]:
        """(name, type, help) of every metric family the exporters publish, ``up`` first."""
        return families()


def families() -> list[Family]:
    """(name, type, help) of every metric family the simulated exporters publish, ``up`` first."""
    seen = {UP[0]}
    result = [UP]
    for exporter in EXPORTERS:
        for family in exporter.families:
            if family[0] not in seen:
                seen.add(family[0])
                result.append(family)
    return result


def series_names() -> frozenset[str]:
    """Every series name the simulated exporters can write."""
    return frozenset().union(*(exporter.series_names() for exporter in EXPORTERS))
