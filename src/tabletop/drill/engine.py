"""A drill: the scenario's fleet, signals, pager and responders on one virtual clock.

The drill owns the SimPy environment and the timeline. ``advance_to(t)`` runs the simulation
up to (not including) time ``t``, executing queued responder commands at their times; a command
due at the same instant as a simulation event runs first, so a replay that queues the recorded
commands reproduces the same order. ``execute`` runs one command now (the console's way in).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import simpy

from tabletop import __version__
from tabletop.drill.command_line import Command
from tabletop.drill.commands import CommandResult, run_command
from tabletop.drill.experiments import ChaosPort, ExperimentSchedule, NotRun
from tabletop.drill.incident import Incident
from tabletop.drill.injects import InjectScheduler
from tabletop.drill.timeline import Event, Header, Timeline
from tabletop.faults.background import BackgroundFailureProcess
from tabletop.faults.injector import FaultInjector
from tabletop.pager.alertmanager import AlertmanagerPaging, acknowledged_in_alertmanager
from tabletop.pager.pager import Pager
from tabletop.pager.silences import Silences
from tabletop.scenario.loader import LoadedScenario
from tabletop.scenario.chaos import ChaosExperiment
from tabletop.scenario.model import Inject
from tabletop.signals.promql import PromQLError, Query, parse_query
from tabletop.signals.rule_engine import AlertTransition, RuleEngine
from tabletop.signals.scraper import Scraper
from tabletop.signals.slo import SloTracker
from tabletop.signals.store import SeriesStore
from tabletop.sim.fleet import Fleet
from tabletop.sim.rng import Streams


@dataclass(frozen=True)
class _External:
    """A queued event from outside the simulation (see ``Drill.submit_event``)."""

    kind: str
    data: dict[str, Any]
    actor: str | None


class Drill:
    def __init__(self, loaded: LoadedScenario, *, seed: int = 0, responder: str = "manual",
                 timeline_path: Any = None, scenario_label: str | None = None,
                 unscraped: frozenset[str] = frozenset(), without_faults: bool = False,
                 paging: str = "tabletop") -> None:
        """``unscraped``: series names the scrape leaves out, because nothing in the drill reads
        them (``tabletop.drill.reads``). ``without_faults``: the scenario's faults are not
        injected (a Chaos Toolkit experiment exported from it injects them, under their ids).
        ``paging="alertmanager"``: pages come from a real Alertmanager's notifications
        (``alertmanager.notification`` events) instead of the drill's own alerts; the drill's
        rules still record ``alert.*`` as tabletop evaluates them."""
        scenario = loaded.scenario
        self.loaded = loaded
        self.scenario = scenario
        self.seed = seed
        self.env = simpy.Environment()
        start = scenario.metadata.start
        header = Header(
            scenario_id=scenario.metadata.id, scenario_path=scenario_label or str(loaded.path),
            scenario_sha256=loaded.sha256, seed=seed, responder=responder,
            start=start.strftime("%Y-%m-%dT%H:%M:%SZ"), tabletop_version=__version__, without_faults=without_faults,
            paging=paging,
        )
        self.timeline = Timeline(header, timeline_path)
        self.held: list[tuple[str, dict[str, Any], str | None]] | None = None
        """Events held back while a command runs (see ``holding_events``)."""
        self.streams = Streams(seed)
        self.fleet = Fleet(self.env, scenario.fleet, start=start, streams=self.streams, emit=self.record)
        self.store = SeriesStore(epoch=start.timestamp(), unscraped=unscraped)
        self.scraper = Scraper(self.store, self.fleet)
        self.rules = RuleEngine(loaded.rule_groups, self.store, scenario.signals.evaluation_interval, self._on_alert)
        self.silences = Silences()
        """Alertmanager-style silences: made with ``silence``, or reported by a real Alertmanager."""
        self.pager = Pager(self.env, scenario, self.record, self.silences)
        self.paging = paging
        self._on_external: dict[str, Callable[[dict[str, Any]], None]] = {}
        """What the drill does with a recorded event from outside, by kind."""
        if paging == "alertmanager":
            self._on_external["alertmanager.notification"] = AlertmanagerPaging(self.pager).notified
            self._on_external["alertmanager.silence"] = self._alertmanager_silence
        elif paging != "tabletop":
            raise ValueError(f"paging must be tabletop or alertmanager, not {paging!r}")
        self.injector = FaultInjector(self.fleet, [] if without_faults else list(scenario.faults), self.record)
        if scenario.fleet.background_failures is not None:
            BackgroundFailureProcess(self.fleet, scenario.fleet.background_failures, self.injector)
        self.slo = SloTracker(scenario.slos, self.fleet.deployments, self.record, scenario.signals.scrape_interval)
        self.injects = InjectScheduler(self.env, scenario.injects, self._deliver_inject)
        self.chaos: ChaosPort = NotRun()
        """Runs the scenario's Chaos Toolkit experiments (see tabletop.drill.experiments)."""
        self.experiments = ExperimentSchedule(self.env, list(scenario.experiments), self._start_experiment)
        self.incident = Incident()
        self.runbooks = {runbook.id: runbook for runbook in loaded.runbooks}
        self.failed_requests = {name: 0.0 for name in self.fleet.deployments}
        self._queries: dict[str, Query] = {}
        self._queue: list[tuple[float, int, str, Command | str | _External]] = []
        self._order = itertools.count()
        self.ended = False
        self.record("drill.started", {
            "duration": scenario.metadata.duration, "scrape_interval": scenario.signals.scrape_interval,
            "evaluation_interval": scenario.signals.evaluation_interval,
            "participants": [p.id for p in scenario.participants],
        })
        self.env.process(self._signals())

    def _alertmanager_silence(self, data: dict[str, Any]) -> None:
        self.silences.reported(data, self.now)
        acknowledged_in_alertmanager(self.pager, data, self.now)

    @property
    def now(self) -> float:
        return self.env.now

    # recording ---------------------------------------------------------------------------------
    def record(self, kind: str, data: dict[str, Any], actor: str | None = None) -> Event | None:
        """Append an event now (held back while a command runs, so the command comes first)."""
        if self.held is not None:
            self.held.append((kind, data, actor))
            return None
        return self.timeline.append(self.env.now, kind, data, actor)

    @contextmanager
    def holding_events(self) -> Iterator[list[tuple[str, dict[str, Any], str | None]]]:
        """Collect the events recorded inside the block instead of appending them."""
        self.held = []
        try:
            yield self.held
        finally:
            self.held = None

    # signals -------------------------------------------------------------------------------------
    def _signals(self) -> Iterator[simpy.Event]:
        """Scrape every scrape interval, then evaluate each rule group whose interval is due."""
        scrape = self.scenario.signals.scrape_interval
        intervals = [group.interval for group in self.rules.groups]
        scrapes, evaluations = 0, [0] * len(intervals)
        while True:
            t = min([scrapes * scrape] + [n * i for n, i in zip(evaluations, intervals)])
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            if math.isclose(scrapes * scrape, t):
                self._scrape(scrape)
                scrapes += 1
            due = [g for g, (n, i) in enumerate(zip(evaluations, intervals)) if math.isclose(n * i, t)]
            for group in due:
                self.rules.evaluate_group(group, t)
                evaluations[group] += 1
            if due:
                self.injector.check_conditions(self.holds)
                self.injects.check_conditions(self.holds)
                self.experiments.check_conditions(self.holds)

    def _scrape(self, dt: float) -> None:
        for name, deployment in self.fleet.deployments.items():
            step = deployment.step(dt)
            self.failed_requests[name] += step.errors * dt
        self.slo.observe(dt)
        self.scraper.scrape()

    def _on_alert(self, transition: AlertTransition) -> None:
        data = {
            "alertname": transition.alertname, "labels": transition.labels, "annotations": transition.annotations,
            "value": transition.value, "group": transition.group,
        }
        if transition.state == "resolved":
            data["was_firing"] = transition.was_firing
        self.record(f"alert.{transition.state}", data)
        if self.paging != "tabletop":
            return
        if transition.state == "firing":
            self.pager.alert_firing(transition.alertname, transition.labels, transition.annotations)
        elif transition.state == "resolved" and transition.was_firing:
            self.pager.alert_resolved(transition.alertname, transition.labels)

    def query(self, expr: str) -> Query:
        """Compiled PromQL, cached; raises PromQLError."""
        query = self._queries.get(expr)
        if query is None:
            query = self._queries[expr] = parse_query(expr)
        return query

    def holds(self, expr: str) -> bool:
        """A condition holds when its expression returns at least one sample (or a non-zero scalar)."""
        try:
            result = self.query(expr).instant(self.store, self.env.now)
        except PromQLError:
            return False
        if isinstance(result, list):
            return bool(result)
        return bool(getattr(result, "value", result))

    def _deliver_inject(self, inject: Inject) -> None:
        self.incident.delivered_injects.add(inject.id)
        self.record("inject.delivered", {
            "inject": inject.id, "from": inject.from_, "channel": inject.channel, "message": inject.message.strip(),
            "expects_reply": inject.expects_reply,
        })

    def _start_experiment(self, spec: ChaosExperiment) -> None:
        loaded = next((e for e in self.loaded.experiments if e.id == spec.id), None)
        document = loaded.document if loaded is not None else {}
        self.record("chaos.experiment.started", {
            "experiment": spec.id, "title": str(document.get("title", "")),
            "description": " ".join((spec.description or str(document.get("description", ""))).split()),
            "source": loaded.origin if loaded is not None else None,
        })
        if loaded is not None:
            self.chaos.start(self, loaded)

    # commands and time -----------------------------------------------------------------------------
    def submit(self, at: float, actor: str, command: Command | str) -> None:
        """Queue a command to run at drill time ``at`` (rounded to the millisecond the timeline keeps).

        A command runs before simulation events of the same instant. Responders reacting to an
        event must therefore queue strictly after it, which ``at > now`` ensures."""
        heapq.heappush(self._queue, (round(max(at, self.env.now), 3), next(self._order), actor, command))

    def submit_event(self, at: float, kind: str, data: dict[str, Any], actor: str | None = None) -> None:
        """Queue an event from outside the simulation (what a replay knows happened then) to be
        recorded at drill time ``at``, in order with the queued commands."""
        heapq.heappush(self._queue, (round(max(at, self.env.now), 3), next(self._order), actor or "",
                                     _External(kind, data, actor)))

    def execute(self, actor: str, command: Command | str) -> CommandResult:
        """Run a command now; it and everything it causes go on the timeline."""
        return run_command(self, actor, command)

    def advance_to(self, t: float) -> None:
        """Simulate up to ``t`` (events at exactly ``t`` stay pending), running queued commands."""
        env = self.env
        while True:
            next_command = self._queue[0][0] if self._queue else math.inf
            next_event = env.peek()
            if next_command < t and next_command <= next_event:
                self._clock_to(next_command)
                self._run_next()
            elif next_event < t:
                env.step()
            else:
                break
        self._clock_to(t)

    def run_queued(self) -> None:
        """Run what is queued for now (not later), without moving the clock: a replay's last step,
        where the recording took commands (e.g. a Chaos Toolkit rollback's, through the twin)
        after its clock stopped and before ``drill.ended``."""
        while self._queue and self._queue[0][0] <= self.env.now:
            self._run_next()

    def _run_next(self) -> None:
        _, _, actor, item = heapq.heappop(self._queue)
        if isinstance(item, _External):
            self.record(item.kind, item.data, item.actor)
            handle = self._on_external.get(item.kind)
            if handle is not None:
                handle(item.data)
        else:
            self.execute(actor, item)

    def _clock_to(self, t: float) -> None:
        if t > self.env.now:
            self.env.run(until=t)

    def run(self, until: float | None = None) -> None:
        """Headless: simulate to ``until`` (the scenario's duration by default) and end the drill."""
        self.advance_to(self.scenario.metadata.duration if until is None else until)
        self.end("duration")

    def end(self, reason: str) -> Event | None:
        if self.ended:
            return None
        self.ended = True
        event = self.record("drill.ended", {
            "reason": reason, "slos": self.slo.summary(),
            "failed_requests": {name: round(n) for name, n in self.failed_requests.items()},
            "gpu_hours_lost": round(self.fleet.gpu_hours_lost(), 3),
        })
        self.timeline.close()
        return event
