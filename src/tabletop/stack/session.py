"""A live stack beside one paced drill: Prometheus evaluates its rules, Alertmanager pages.

The order matters, and ``LiveStack`` keeps it:

1. ``start`` (before the drill exists): the webhook receiver, Alertmanager configured from
   the scenario's routing (or the team's file) with every receiver pointing at the webhook, and
   Prometheus scraping the drill's metrics server (already serving) with no rules yet; it waits
   until Prometheus scrapes the drill and knows the Alertmanager.
2. ``begin``: fixes the clock (drill seconds ↔ wall time at the drill's speed), loads the
   scenario's rules time-scaled for that clock (``timescale``), one file per group named so that
   Prometheus evaluates it on tabletop's evaluation grid (``alignment``), and starts publishing
   the fleet's samples stamped with their wall times on that grid, so Prometheus stores the very
   samples the drill's own rule engine reads and evaluates them at the same moments. It returns
   the monotonic instant the clock started; pacing from it keeps drill and stack on one clock
   (``pace(..., started=...)``).
3. ``step`` after every pacing step, in the drill thread: publish, record the notifications
   that arrived as ``alertmanager.notification`` events (pages follow, see
   ``tabletop.pager.alertmanager``), and keep silences and acknowledgements in step both ways
   (``silence_sync``).

The speed is adjusted (``effective_speed``) to make the evaluation interval a whole number of
wall milliseconds, the resolution of Prometheus's clock: 60x stays 60x, 7x becomes 6.9995x.

Prometheus lives a little behind the drill. A sample reaches it some wall time after the drill
made it: up to one pacing tick until it is published, and one Prometheus scrape interval until
it is scraped. Were it stamped with the wall time of its drill time, a rule evaluation in that
gap would miss it and fire one evaluation late. So every sample is stamped ``delay`` wall
seconds later (the tick, the scrape interval and a margin for scheduling), and Prometheus's
clock is the drill's minus ``delay``: it evaluates the drill's world as it was ``delay`` ago,
always with every sample in. Its firing times convert back exactly (``starts_at``); its
notifications reach the drill ``delay`` x speed drill seconds after it fired, the price of
scraping a live drill. Prometheus scrapes ``SCRAPES_PER_SAMPLE`` times per drill scrape, to
keep that small; the repeats are the same sample (same time and value), which it drops.

Because the samples carry timestamps, Prometheus writes no staleness markers: a series the
drill stops exposing (a deleted pod) fades after the lookback delta (5 minutes of drill time)
instead of at the next scrape.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tabletop.signals.promtool_rules import rule_file_text
from tabletop.stack.alertmanager import Alertmanager
from tabletop.stack.alertmanager_config import for_drill
from tabletop.stack.alignment import aligned_files
from tabletop.stack.prometheus import Prometheus
from tabletop.stack.silence_sync import SilenceSync
from tabletop.stack.timescale import Clock, prometheus_durations, scale_rule_groups
from tabletop.stack.webhook import WebhookNotification, WebhookReceiver

if TYPE_CHECKING:
    from tabletop.drill.engine import Drill
    from tabletop.drill.live import Publisher
    from tabletop.scenario.loader import LoadedScenario
    from tabletop.signals.metrics_server import MetricsServer

SCRAPES_PER_SAMPLE = 4
MAX_TICK = 0.02
"""Wall seconds between the paced drill's steps under a stack (the publication lag)."""
SCHEDULING_MARGIN = 0.1
"""Wall seconds added to Prometheus's delay for the scheduling of two busy processes."""
RELOAD_ALLOWANCE = 1.0
"""Wall seconds ``begin`` allows Prometheus to reload the rules before the drill's clock runs."""


@dataclass(frozen=True)
class DrillClock:
    """Drill seconds ↔ Unix wall time at ``speed``: drill second ``at`` is wall time ``wall``."""

    speed: float
    at: float
    wall: float

    def wall_time(self, t: float) -> float:
        return self.wall + (t - self.at) / self.speed

    def drill_seconds(self, wall: float) -> float:
        return round(self.at + (wall - self.wall) * self.speed, 3)


def effective_speed(evaluation_interval: float, speed: float) -> float:
    """The speed nearest below ``speed`` at which ``evaluation_interval`` lasts whole wall ms."""
    return evaluation_interval * 1000 / math.ceil(evaluation_interval * 1000 / speed - 1e-9)


class LiveStack:
    def __init__(self, loaded: "LoadedScenario", metrics: "MetricsServer", *, speed: float, folder: Path,
                 alertmanager_config: Path | None = None, tick: float | None = None) -> None:
        """``tick``: the wall seconds between two ``step`` calls, if not the pacing's own (a
        console steps the drill at its refresh rate); the delay must cover it."""
        self.loaded = loaded
        self.drill: Drill | None = None
        self.metrics = metrics
        self.speed = effective_speed(loaded.scenario.signals.evaluation_interval, speed)
        """The drill's speed: pace it at this one."""
        self.folder = Path(folder)
        self.alertmanager_config = alertmanager_config
        self.clock: DrillClock | None = None
        """Prometheus's clock (the drill's, ``delay`` behind), from ``begin``."""
        scrape = loaded.scenario.signals.scrape_interval / self.speed
        self.tick = min(MAX_TICK, scrape / SCRAPES_PER_SAMPLE) if tick is None else tick
        """Wall seconds between pacing steps: pace the drill with it."""
        self.delay = self.tick + scrape / SCRAPES_PER_SAMPLE + SCHEDULING_MARGIN
        self.webhook = WebhookReceiver()
        self._storage = tempfile.TemporaryDirectory(prefix="tabletop-stack-")
        self._data = Path(self._storage.name)
        """The servers' storage (TSDB, silences): temporary; configs, rules and logs stay in ``folder``."""
        self.alertmanager: Alertmanager | None = None
        self.prometheus: Prometheus | None = None
        self._publish: Publisher | None = None
        self._silences: SilenceSync | None = None

    # 1. before the clock runs -----------------------------------------------------------------
    def start(self) -> "LiveStack":
        """Start the webhook, Alertmanager and Prometheus (ServerError, MissingBinary, InputError,
        TimescaleError), before any drill exists: a stack that cannot start leaves no timeline."""
        self.folder.mkdir(parents=True, exist_ok=True)
        scenario = self.loaded.scenario
        scale_rule_groups(self.loaded.rule_groups, self._provisional_clock())  # refuse what cannot scale, now
        self.webhook.start()
        config = for_drill(scenario.routing, self.alertmanager_config, webhook_url=self.webhook.url, speed=self.speed)
        self.alertmanager = Alertmanager(self.folder, config=config, data=self._data / "alertmanager")
        self.alertmanager.start()
        signals = scenario.signals
        durations = prometheus_durations(signals.scrape_interval / SCRAPES_PER_SAMPLE, signals.evaluation_interval,
                                         clock=self._provisional_clock())
        self.prometheus = Prometheus(
            self.folder, target=f"{self.metrics.host}:{self.metrics.port}", rules={},
            scrape_interval=durations["scrape_interval"], evaluation_interval=durations["evaluation_interval"],
            lookback_delta=durations["query.lookback-delta"], alertmanager_url=self.alertmanager.url,
            data=self._data / "prometheus")
        self.prometheus.start()
        self.prometheus.wait_connected()
        return self

    def _provisional_clock(self) -> Clock:
        """A clock for what does not depend on when the drill starts (durations)."""
        return Clock(speed=self.speed, wall_origin=0.0, virtual_origin=0.0)

    # 2. the clock starts ------------------------------------------------------------------------
    def begin(self, drill: "Drill") -> float:
        """Fix the clock, load the time-scaled rules, wait for the drill's present moment and
        start publishing ``drill``'s samples; the monotonic instant the drill's clock started."""
        from tabletop.drill.live import Publisher

        assert self.prometheus is not None, "start the stack first"
        self.drill = drill
        speed = self.speed
        # Prometheus's wall millisecond of drill second 0: the drill's present far enough ahead
        # to reload the rules first, then ``delay`` more.
        origin_ms = math.ceil((time.time() + RELOAD_ALLOWANCE + self.delay - drill.now / speed) * 1000)
        self.clock = DrillClock(speed, 0.0, origin_ms / 1000)
        clock = Clock(speed=speed, wall_origin=origin_ms / 1000, virtual_origin=drill.scenario.metadata.start.timestamp())
        self.prometheus.reload(self._rule_files(clock, origin_ms))
        present = self.clock.wall_time(drill.now) - self.delay
        time.sleep(max(0.0, present - time.time()))
        started = time.monotonic()
        self._publish = Publisher(self.metrics, drill, stamp=self._stamp)
        self._publish()
        delay = self.delay
        self._silences = SilenceSync(drill, self.alertmanager, wall_time=lambda t: self.clock.wall_time(t) - delay,
                                     drill_seconds=lambda wall: self.clock.drill_seconds(wall + delay))
        return started

    def _rule_files(self, clock: Clock, origin_ms: int) -> dict[str, str]:
        """The scaled rule groups, one file each, evaluated on the drill's grid."""
        evaluation = self.loaded.scenario.signals.evaluation_interval
        groups = scale_rule_groups(self.loaded.rule_groups, clock)
        intervals = {original.name: round((original.interval or evaluation) * 1000 / self.speed)
                     for original in self.loaded.rule_groups}
        assert self.prometheus is not None
        files = aligned_files(groups, str(self.prometheus.rules_folder), intervals, origin_ms)
        return {name: rule_file_text([group]) for name, group in files.items()}

    def _stamp(self, t: float) -> float:
        """The wall time a sample of drill second ``t`` is exposed with: its millisecond on the
        clock, plus half a millisecond so that the exposition's truncation to ms keeps it."""
        assert self.clock is not None
        return (round(self.clock.wall * 1000 + t * 1000 / self.speed) + 0.5) / 1000

    # 3. in the drill thread, after each step -----------------------------------------------------
    def step(self) -> None:
        if self._publish is not None:
            self._publish()
        if self.clock is None or self.drill is None:
            return
        for notification in self.webhook.take():
            self.drill.submit_event(self.drill.now, "alertmanager.notification", self.notification_data(notification))
        if self._silences is not None:
            self._silences.step()

    def notification_data(self, notification: WebhookNotification) -> dict[str, Any]:
        """What the timeline keeps of a notification: its times in drill seconds."""
        assert self.clock is not None
        return {
            "receiver": notification.receiver, "status": notification.status, "group_key": notification.group_key,
            "group_labels": dict(notification.group_labels), "truncated_alerts": notification.truncated_alerts,
            "alerts": [{
                "alertname": alert.labels.get("alertname", ""), "status": alert.status, "labels": dict(alert.labels),
                "annotations": dict(alert.annotations), "fingerprint": alert.fingerprint,
                "starts_at": self._drill_time(alert.starts_at),
                "ends_at": None if alert.status == "firing" else self._drill_time(alert.ends_at),
            } for alert in notification.alerts],
        }

    def _drill_time(self, moment: datetime | None) -> float | None:
        if moment is None or moment.year < 2:  # Go's zero time: not set
            return None
        assert self.clock is not None
        return self.clock.drill_seconds(moment.timestamp())

    # the end ---------------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop Prometheus, Alertmanager and the webhook (their files stay in ``folder``)."""
        for server in (self.prometheus, self.alertmanager):
            if server is not None:
                server.stop()
        self.webhook.close()
        self._storage.cleanup()

    def urls(self) -> dict[str, str]:
        found = {}
        if self.prometheus is not None:
            found["prometheus"] = self.prometheus.url
        if self.alertmanager is not None:
            found["alertmanager"] = self.alertmanager.url
        return found
