"""The live stack beside a drill that is already running: ``tabletop stack TARGET``.

``run --stack`` starts its own drill and stamps every sample on the drill's clock, so its
Prometheus fires exactly when the drill does. Here the drill runs elsewhere (``tabletop run
--speed N --metrics-port P`` or ``tabletop twin --metrics-port P``) and its samples carry no
timestamps: Prometheus stamps them with its scrape times and evaluates on its own grid, so
alerts fire within a scrape or an evaluation (a fraction of a wall second) of the drill's own
engine, not at the same drill second. The stack is for showing the real UIs (Prometheus's
graphs and alerts, Alertmanager's groups) on a projector while the team works in the console.

1. ``read_target``: the target serves ``tabletop_drill_info`` (which drill: scenario, seed,
   responder) and ``tabletop_drill_elapsed_seconds`` (its virtual clock), or ``TargetError``.
2. ``observe``: the drill's clock, from reads of the elapsed seconds ``POLL`` apart for
   ``WINDOW``. The drill publishes after each pacing step (every 0.1 s of wall time), so the
   value changes in steps; each first sighting of a new value is a point (wall time, drill
   seconds) a little after the step that made it. The speed is the slope between the least
   late point of the first half and that of the second half (above a least-squares line
   through all of them: within about 0.2% on an idle machine), rounded to the fewest
   significant digits within ``SPEED_TOLERANCE`` (59.93 → 60). The wall time of drill
   second 0 is the earliest any read allows (``min(wall - elapsed / speed)``: a value is never
   seen before it is made). A drill whose clock does not move (paused, ended) is refused.
   With a given speed only the origin is measured (up to the first step seen).
3. ``BesideStack.start``: Alertmanager configured from the scenario's routing (or the team's
   file), every receiver pointing at a local webhook that only collects the notifications for
   printing (the drill pages through its own engine; nothing here reaches it), and Prometheus
   scraping the target with ``honor_labels`` every scrape interval / speed, with the rules
   time-scaled for that clock (``timescale``), the evaluation interval and lookback scaled.
4. ``watch``: prints each notification, checks the target and the servers every
   ``CHECK_EVERY`` and returns when stopped (``stop`` set) or when the target has not answered
   for ``GONE_AFTER``. The command stops on Ctrl-C and SIGTERM (``terminating_as_interrupt``).
"""

from __future__ import annotations

import math
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tabletop.signals.promtool_rules import rule_file_text
from tabletop.stack.alertmanager import Alertmanager
from tabletop.stack.alertmanager_config import for_drill
from tabletop.stack.prometheus import Prometheus
from tabletop.stack.server import ServerError
from tabletop.stack.timescale import Clock, prometheus_durations, scale_rule_groups
from tabletop.stack.webhook import WebhookNotification, WebhookReceiver

if TYPE_CHECKING:
    from tabletop.scenario.loader import LoadedScenario

INFO = "tabletop_drill_info"
ELAPSED = "tabletop_drill_elapsed_seconds"
READ_TIMEOUT = 3.0
"""Wall seconds a read of the target may take."""
MAX_BODY = 256 << 20
WINDOW = 2.0
"""Wall seconds ``observe`` watches the drill's clock for."""
POLL = 0.003
"""Wall seconds between two reads while observing (the earliest sighting of a step is at most
this late, plus a read)."""
MIN_STEPS = 4
"""Steps of the drill's clock ``observe`` needs to see to measure its speed."""
SPEED_TOLERANCE = 0.02
"""How far (relative) the speed reported may be from the one measured."""
CHECK_EVERY = 1.0
"""Wall seconds between two checks that the target still answers."""
GONE_AFTER = 5.0
"""Wall seconds without an answer after which the target counts as gone."""
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class TargetError(ValueError):
    """The target is not a running tabletop drill's /metrics; the message says why."""


# -- the target -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """A drill's metrics endpoint: ``address`` (``host:port``) and ``path``."""

    address: str
    path: str = "/metrics"

    @property
    def url(self) -> str:
        return f"http://{self.address}{self.path}"


def parse_target(text: str) -> Target:
    """``http://HOST:PORT/metrics``, ``http://HOST:PORT`` or ``HOST:PORT``; TargetError otherwise."""
    given = text.strip()
    parts = urlsplit(given if "//" in given else f"http://{given}")
    if parts.scheme != "http":
        raise TargetError(f"{text}: a drill serves its metrics over http (http://HOST:PORT/metrics), not {parts.scheme}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None or parts.username is not None:
        raise TargetError(f"{text}: expected http://HOST:PORT/metrics or HOST:PORT (the URL the drill printed)")
    if parts.query or parts.fragment:
        raise TargetError(f"{text}: expected a metrics URL without a query or fragment")
    return Target(parts.netloc, parts.path if parts.path not in ("", "/") else "/metrics")


@dataclass(frozen=True)
class Reading:
    """One read of the target: which drill it serves and its clock then (``wall``: Unix time
    just after the answer)."""

    scenario: str
    seed: str
    responder: str
    elapsed: float
    wall: float


def read_target(target: Target, timeout: float = READ_TIMEOUT) -> Reading:
    """Which drill ``target`` serves and its elapsed drill seconds; TargetError when it does not answer
    or is not a tabletop drill's /metrics."""
    request = urllib.request.Request(target.url, headers={"Accept": "text/plain"})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            body = response.read(MAX_BODY + 1)
    except urllib.error.HTTPError as error:
        raise TargetError(f"{target.url} is not a tabletop drill's /metrics (HTTP {error.code}, no {INFO})") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise TargetError(f"{target.url} does not answer ({reason}): is the drill running? "
                          "(tabletop run SCENARIO --speed N --metrics-port P prints its metrics URL)") from None
    wall = time.time()
    values = _drill_series(body)
    info = values.get(INFO)
    if info is None:
        raise TargetError(f"{target.url} is not a tabletop drill's /metrics (no {INFO})")
    elapsed = values.get(ELAPSED)
    if elapsed is None or not math.isfinite(elapsed[1]):
        raise TargetError(f"{target.url} serves {INFO} but no {ELAPSED}: the drill's clock is not there")
    labels = info[0]
    return Reading(labels.get("scenario", ""), labels.get("seed", ""), labels.get("responder", ""), elapsed[1], wall)


def _drill_series(body: bytes) -> dict[str, tuple[dict[str, str], float]]:
    """The samples of the drill's own series (name → labels, value), read from their lines only:
    the fleet's hundreds of kilobytes around them are not parsed."""
    from prometheus_client.parser import text_string_to_metric_families

    lines = [line.decode("utf-8", "replace") for line in body.splitlines() if line.startswith(b"tabletop_drill_")]
    found: dict[str, tuple[dict[str, str], float]] = {}
    try:
        for family in text_string_to_metric_families("\n".join(lines) + "\n"):
            for sample in family.samples:
                found.setdefault(sample.name, (dict(sample.labels), float(sample.value)))
    except (ValueError, IndexError):
        return {}
    return found


# -- the drill's clock --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Observed:
    """The drill's clock: ``speed`` drill seconds per wall second, drill second 0 at Unix time
    ``wall_origin``; ``measured``: the speed measured (None when given); ``last``: the last read."""

    speed: float
    wall_origin: float
    measured: float | None
    last: Reading

    def drill_seconds(self, wall: float) -> float:
        return (wall - self.wall_origin) * self.speed


def observe(target: Target, speed: float | None = None, *, window: float = WINDOW, poll: float = POLL) -> Observed:
    """The clock of the drill at ``target`` (module docstring, 2.); TargetError when it does not move."""
    first = read_target(target)
    points: list[tuple[float, float]] = []  # (wall, elapsed) at the first sighting of each new value
    reads = [first]
    deadline = first.wall + window
    while time.time() < deadline and not (speed is not None and points):
        time.sleep(poll)
        reading = read_target(target)
        if reading.scenario != first.scenario or reading.seed != first.seed:
            raise TargetError(f"{target.url} changed drills while being read ({first.scenario} seed {first.seed}, "
                              f"then {reading.scenario} seed {reading.seed})")
        if reading.elapsed != reads[-1].elapsed:
            points.append((reading.wall, reading.elapsed))
        reads.append(reading)
    if reads[-1].elapsed < first.elapsed:
        raise TargetError(f"{target.url}: the drill's clock went back from {first.elapsed:g} s to "
                          f"{reads[-1].elapsed:g} s while being read (a new drill on the same port?)")
    if not points:
        raise TargetError(f"the drill at {target.url} is not running: {ELAPSED} stayed at {first.elapsed:g} s for "
                          f"{window:g} s of wall time (paused or ended?)")
    measured = None
    if speed is None:
        if len(points) < MIN_STEPS:
            raise TargetError(f"the drill at {target.url} moved only {len(points)} time(s) in {window:g} s of wall "
                              "time, too few to measure its speed: give it with --speed")
        measured = measure_speed(points)
        speed = round_speed(measured)
    origin = min(r.wall - r.elapsed / speed for r in reads)
    return Observed(speed, origin, measured, reads[-1])


def measure_speed(points: Sequence[tuple[float, float]]) -> float:
    """Drill seconds per wall second through ``points`` (wall, elapsed), each a little late by a
    varying lag: the slope between the least late point of each half."""
    n = len(points)
    mean_w = sum(w for w, _ in points) / n
    mean_e = sum(e for _, e in points) / n
    spread = sum((e - mean_e) ** 2 for _, e in points)
    if spread == 0:
        raise TargetError("the drill's clock did not move")
    wall_per_second = sum((e - mean_e) * (w - mean_w) for w, e in points) / spread

    def lateness(point: tuple[float, float]) -> float:
        return point[0] - mean_w - (point[1] - mean_e) * wall_per_second

    early = min(points[: n // 2], key=lateness)
    late = min(points[n // 2:], key=lateness)
    if late[0] <= early[0] or late[1] <= early[1]:
        raise TargetError("the drill's clock did not move forward while being read")
    return (late[1] - early[1]) / (late[0] - early[0])


def round_speed(measured: float, tolerance: float = SPEED_TOLERANCE) -> float:
    """``measured`` with the fewest significant digits (up to 3) within ``tolerance``: 59.93 → 60."""
    for digits in (1, 2):
        candidate = float(f"{measured:.{digits}g}")
        if abs(candidate - measured) <= tolerance * measured:
            return candidate
    return float(f"{measured:.3g}")


# -- the scenario -------------------------------------------------------------------------------------

def find_scenario(scenario_id: str, places: Iterable[Path]) -> Path | None:
    """The first scenario file among ``places`` (files, or folders of the drill bank) whose
    ``metadata.id`` is ``scenario_id``; only that one is loaded later."""
    from tabletop.scenario.library import scenario_files

    seen: set[Path] = set()
    for path in scenario_files(place for place in places if place.exists()):
        resolved = path.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        if _scenario_id(path) == scenario_id:
            return path
    return None


def _scenario_id(path: Path) -> str | None:
    import yaml

    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    metadata = data.get("metadata") if isinstance(data, dict) else None
    return metadata.get("id") if isinstance(metadata, dict) else None


# -- the stack -------------------------------------------------------------------------------------------

class BesideStack:
    """Alertmanager and Prometheus in ``folder`` watching the drill at ``target`` on ``clock``."""

    def __init__(self, loaded: "LoadedScenario", target: Target, clock: Observed, *, folder: Path,
                 alertmanager_config: Path | None = None) -> None:
        self.loaded = loaded
        self.target = target
        self.clock = clock
        self.folder = Path(folder)
        self.alertmanager_config = alertmanager_config
        self.webhook: WebhookReceiver | None = None
        self.alertmanager: Alertmanager | None = None
        self.prometheus: Prometheus | None = None

    def start(self) -> "BesideStack":
        """Start the webhook, Alertmanager and Prometheus and wait until Prometheus scrapes the
        target (ServerError, MissingBinary, InputError, TimescaleError, ScaleError). What
        started is stopped by ``close``, also after a failure."""
        scenario = self.loaded.scenario
        speed = self.clock.speed
        clock = Clock(speed=speed, wall_origin=self.clock.wall_origin,
                      virtual_origin=scenario.metadata.start.timestamp())
        rules = rule_file_text(scale_rule_groups(self.loaded.rule_groups, clock))
        signals = scenario.signals
        durations = prometheus_durations(signals.scrape_interval, signals.evaluation_interval, clock=clock)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.webhook = WebhookReceiver().start()
        config = for_drill(scenario.routing, self.alertmanager_config, webhook_url=self.webhook.url, speed=speed)
        self.alertmanager = Alertmanager(self.folder, config=config)
        self.alertmanager.start()
        self.prometheus = Prometheus(
            self.folder, metrics_path=self.target.path, target=self.target.address, rules={"rules.yml": rules},
            scrape_interval=durations["scrape_interval"], evaluation_interval=durations["evaluation_interval"],
            lookback_delta=durations["query.lookback-delta"], alertmanager_url=self.alertmanager.url)
        self.prometheus.start()
        self.prometheus.wait_connected()
        return self

    def urls(self) -> dict[str, str]:
        """The UIs: Prometheus's graph and alerts pages, Alertmanager's alerts."""
        assert self.prometheus is not None and self.alertmanager is not None, "start the stack first"
        return {"prometheus": f"{self.prometheus.url}/graph", "prometheus_alerts": f"{self.prometheus.url}/alerts",
                "alertmanager": f"{self.alertmanager.url}/#/alerts"}

    def check(self) -> None:
        """ServerError when Prometheus or Alertmanager stopped by itself."""
        for server in (self.prometheus, self.alertmanager):
            if server is not None and not server.server.running:
                raise ServerError(f"{server.server.name} stopped by itself; the last lines of {server.server.log}:\n"
                                  f"{server.server.log_tail(10)}")

    def close(self) -> None:
        """Stop Prometheus, Alertmanager and the webhook (their files stay in ``folder``)."""
        try:
            for server in (self.prometheus, self.alertmanager):
                if server is not None:
                    server.stop()
        finally:
            if self.webhook is not None:
                self.webhook.close()

    def describe(self, notification: WebhookNotification) -> str:
        """One line for a notification: when (drill time), which receiver and group, what."""
        from tabletop.durations import format_clock

        counts: dict[tuple[str, str], int] = {}
        for alert in notification.alerts:
            key = (alert.status, alert.labels.get("alertname", "?"))
            counts[key] = counts.get(key, 0) + 1
        what = ", ".join(f"{count} {status} {name}" for (status, name), count in counts.items())
        group = " ".join(f"{key}={value}" for key, value in sorted(notification.group_labels.items()))
        at = format_clock(max(0.0, self.clock.drill_seconds(time.time())))
        return f"{at} Alertmanager notified {notification.receiver} ({group or 'one group'}): {what or 'no alerts'}"


def watch(stack: BesideStack, say: Callable[[str], None], stop: threading.Event | None = None, *,
          check_every: float = CHECK_EVERY, gone_after: float = GONE_AFTER) -> str:
    """Print each notification until ``stop`` is set (``"stopped"``) or the target has not answered
    for ``gone_after`` wall seconds (``"gone"``); ServerError when a server stops by itself."""
    assert stack.webhook is not None, "start the stack first"
    stop = stop or threading.Event()
    answered = checked = time.monotonic()
    while not stop.is_set():
        stack.webhook.arrived.wait(min(0.25, check_every))
        for notification in stack.webhook.take():
            say(stack.describe(notification))
        now = time.monotonic()
        if now - checked < check_every:
            continue
        checked = now
        stack.check()
        try:
            read_target(stack.target, timeout=min(READ_TIMEOUT, gone_after))
        except TargetError:
            if time.monotonic() - answered >= gone_after:
                return "gone"
        else:
            answered = time.monotonic()
    return "stopped"


@contextmanager
def terminating_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt, as Ctrl-C does, on the main thread: whatever is starting
    or running is stopped on the way out (``Server`` stops a half-started binary too)."""
    def interrupt(_sig: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
