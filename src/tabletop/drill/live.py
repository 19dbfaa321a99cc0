"""A live drill: paced against the wall clock, its simulated fleet served at ``/metrics``.

A real Prometheus scraping the drill must set ``honor_labels: true``: the drill stands in for
many exporters, and every simulated series carries the ``job`` and ``instance`` of the exporter
it impersonates (as a federation endpoint does). Without it Prometheus renames them to
``exported_job``/``exported_instance`` and the scenario's rules and dashboards stop matching.
The drill's own series (``tabletop_drill_info``, ``tabletop_drill_elapsed_seconds``) carry
neither label, so Prometheus gives them the scrape target's: the target is the drill. Samples
carry no timestamps; Prometheus stamps them with its own scrape time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from pathlib import Path

from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from tabletop.drill.engine import Drill
from tabletop.drill.pacing import pace
from tabletop.drill.responders.base import Responder
from tabletop.scenario.loader import LoadedScenario
from tabletop.signals.exposition import Stamp, render
from tabletop.signals.metrics_server import MetricsServer


class DrillCollector(Collector):
    """The drill's own series: which drill this target is, and its virtual clock."""

    def __init__(self, drill: Drill) -> None:
        self.drill = drill

    def collect(self) -> Iterator[Metric]:
        header = self.drill.timeline.header
        info = GaugeMetricFamily("tabletop_drill_info", "The drill served by this target.",
                                 labels=["scenario", "seed", "responder"])
        info.add_metric([header.scenario_id, str(header.seed), header.responder], 1)
        yield info
        yield GaugeMetricFamily("tabletop_drill_elapsed_seconds", "Virtual seconds since the drill started.",
                                value=self.drill.now)


class Publisher:
    """Hands ``server`` the drill's exposition after each pacing step, in the drill thread.

    The fleet's series change only at scrapes, so they are rendered again only after one. With
    ``stamp`` the fleet's samples carry their scrape's time (see ``exposition.render``)."""

    def __init__(self, server: MetricsServer, drill: Drill, stamp: Stamp | None = None) -> None:
        self.server = server
        self.drill = drill
        self.stamp = stamp
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(DrillCollector(drill))
        self._scrapes = -1
        self._fleet = b""

    def __call__(self) -> None:
        scrapes = self.drill.store.scrapes
        if scrapes != self._scrapes:
            self._scrapes, self._fleet = scrapes, render(self.drill.store, self.stamp)
        self.server.publish(self._fleet + generate_latest(self.registry))


def start_publishing(server: MetricsServer, drill: Drill, on_ready: Callable[[int], None] | None,
                     stamp: Stamp | None = None) -> Publisher:
    """Publish the drill's first exposition, start ``server`` and tell ``on_ready`` its port."""
    publish = Publisher(server, drill, stamp)
    publish()
    server.start()
    if on_ready is not None:
        on_ready(server.port)
    return publish


def run_live(loaded: LoadedScenario, responder: Responder, *, seed: int = 0, speed: float = 1.0,
             metrics_host: str = "127.0.0.1", metrics_port: int | None = None, timeline_path: Path | None = None,
             scenario_label: str | None = None, responder_name: str | None = None, until: float | None = None,
             on_ready: Callable[[int], None] | None = None, stop: threading.Event | None = None) -> Drill:
    """A paced drill, serving metrics when ``metrics_port`` is given (0: any free port).

    The server binds before the drill starts (a busy port raises OSError before any timeline is
    written); ``on_ready`` gets the bound port. Returns the ended drill: reason ``duration``, or
    ``aborted`` on Ctrl-C, SIGTERM or ``stop``."""
    with ExitStack() as stack:
        server = None
        if metrics_port is not None:
            server = stack.enter_context(closing(MetricsServer(metrics_host, metrics_port)))
        drill = Drill(loaded, seed=seed, responder=responder_name or responder.name, timeline_path=timeline_path,
                      scenario_label=scenario_label)
        stack.callback(lambda: drill.ended or drill.end("aborted"))
        responder.attach(drill)
        publish = start_publishing(server, drill, on_ready) if server is not None else None
        pace(drill, speed, until=until, on_step=publish, stop=stop)
    return drill
