"""One run of a fleet: the job trains, checkpoints, is interrupted, recovers, in virtual time.

Cost grows with the number of interruptions, not with GPUs or checkpoints:

- The failure classes of all nodes are superposed: one Poisson stream at the summed rate
  (nodes x rate of each class), each event's cause drawn in proportion to its class's rate
  (the merge of independent Poisson processes). Nodes are interchangeable, so the victim's
  identity never matters: a lost node is a count in the repair queue.
- Between two interruptions the job runs a known cycle (``interval`` of training, then
  ``write``), so the checkpoints completed and the work lost are computed, not simulated.

Failures happen in wall time, also while the job is down: one then restarts the recovery
(detection, capacity, restart overhead) from that moment, as it would on a real cluster. Each
second of the job's wall time lands in one category: productive (training that was kept, and
the last segment before the end of the window, which is still to be checkpointed), lost work
(training since the last completed checkpoint when a failure hit), checkpoint writes,
detection, planned downtime, waiting for a node (no spare free), restart overhead. A second
of down time is counted once, by the first of these reasons that holds then.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import random
from dataclasses import dataclass, field

from tabletop.reliability.fleet import ReliabilityFleet

CATEGORIES = ("lost_work", "checkpoint", "detection", "planned", "waiting", "restart")
"""Where the job's wall time goes besides productive training."""


@dataclass
class Outcome:
    """What one run measured, in seconds of the job's wall time and counts."""

    wall: float
    interruptions: dict[str, int]
    """By cause, every cause of the fleet (0 where none happened)."""
    productive: float = 0.0
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0.0))
    capacity_waits: int = 0
    """Node losses that found no spare free (the job then waited for a repair)."""
    most_in_repair: int = 0
    """Most nodes in repair at once."""


@dataclass(frozen=True)
class _Class:
    cause: str
    node: bool
    detection: float
    repair: float


def simulate(fleet: ReliabilityFleet, horizon: float, seed: int) -> Outcome:
    """One run of ``fleet`` for ``horizon`` seconds; deterministic for ``seed``."""
    return _Run(fleet, horizon, seed).play()


class _Run:
    def __init__(self, fleet: ReliabilityFleet, horizon: float, seed: int) -> None:
        self.horizon = horizon
        self.interval = fleet.checkpoint.interval
        self.write = fleet.checkpoint.write
        self.restart = fleet.restart
        self.classes = [
            _Class(f.cause, f.takes_out == "node",
                   fleet.detection if f.detection is None else f.detection,
                   fleet.repair if f.repair is None else f.repair)
            for f in fleet.failures
        ]
        self.cumulative = list(itertools.accumulate(fleet.nodes * fleet.node_rate(f) for f in fleet.failures))
        self.rate = self.cumulative[-1] if self.cumulative else 0.0
        self.planned = [(p.cause, fleet.period(p), p.downtime) for p in fleet.planned]
        # two streams, so that the failure times of a seed do not depend on the planned schedule
        self.rng = random.Random(seed)
        self.phases = random.Random(f"planned:{seed}")
        self.out = Outcome(horizon, {c.cause: 0 for c in self.classes} | {p[0]: 0 for p in self.planned})
        # the job's state: running since ``started``, or down since ``cursor`` (time not yet counted)
        self.running = True
        self.started = 0.0
        self.cursor = 0.0
        self.written_until = self.detected_at = self.planned_until = 0.0
        self.spares = fleet.spare_nodes
        """Free spare nodes; None: unlimited."""
        self.missing = 0
        """Nodes the job lacks (lost, no spare was free)."""
        self.repairs: list[float] = []
        """Return times of the nodes in repair (a heap)."""

    def play(self) -> Outcome:
        failure_at = self._next_failure(0.0)
        schedule = [(self.phases.random() * period, index) for index, (_, period, _) in enumerate(self.planned)]
        heapq.heapify(schedule)
        while True:
            planned_at = schedule[0][0] if schedule else math.inf
            at = min(failure_at, planned_at)
            if at >= self.horizon:
                break
            self._catch_up(at)
            if failure_at <= planned_at:
                self._fail(at, self._draw_class())
                failure_at = self._next_failure(at)
            else:
                _, index = heapq.heappop(schedule)
                self._plan(at, index)
                heapq.heappush(schedule, (at + self.planned[index][1], index))
        self._catch_up(self.horizon)  # counts the down time up to the end, if the job is down then
        if self.running:
            self._train(self.horizon - self.started, lose=False)
        return self.out

    # -- events ------------------------------------------------------------------------------------

    def _next_failure(self, now: float) -> float:
        return now + self.rng.expovariate(self.rate) if self.rate > 0 else math.inf

    def _draw_class(self) -> _Class:
        index = bisect.bisect_right(self.cumulative, self.rng.random() * self.rate)
        return self.classes[min(index, len(self.classes) - 1)]

    def _fail(self, at: float, cls: _Class) -> None:
        self.out.interruptions[cls.cause] += 1
        if self.running:
            self._train(at - self.started, lose=True)
            self._go_down(at, written_until=at)
        self.detected_at = max(self.detected_at, at + cls.detection)
        if not cls.node:
            return
        heapq.heappush(self.repairs, at + cls.repair)
        self.out.most_in_repair = max(self.out.most_in_repair, len(self.repairs))
        if self.spares is None:
            return
        if self.spares > 0:
            self.spares -= 1
        else:
            self.missing += 1
            self.out.capacity_waits += 1

    def _plan(self, at: float, index: int) -> None:
        cause, _, downtime = self.planned[index]
        self.out.interruptions[cause] += 1
        if self.running:
            final_write = self._train(at - self.started, lose=False)
            self._go_down(at, written_until=at + final_write)
        self.planned_until = max(self.planned_until, max(at, self.written_until) + downtime)

    def _go_down(self, at: float, written_until: float) -> None:
        self.running = False
        self.cursor = at
        self.written_until = written_until
        self.detected_at = self.planned_until = at

    # -- time accounting ---------------------------------------------------------------------------

    def _catch_up(self, now: float) -> None:
        """Bring the job to ``now``: count the down time so far, resume it if its restart ended."""
        if not self.running:
            resume = self._resume_at()
            if resume <= now:
                self._count_down(resume)
                self.running, self.started = True, resume
            else:
                self._count_down(now)
        while self.repairs and self.repairs[0] <= now:
            heapq.heappop(self.repairs)
            if self.missing:
                self.missing -= 1
            elif self.spares is not None:
                self.spares += 1

    def _capacity_at(self) -> float:
        """When the nodes the job lacks are back from repair."""
        if not self.missing:
            return 0.0
        return heapq.nsmallest(self.missing, self.repairs)[-1]

    def _resume_at(self) -> float:
        ready = max(self.written_until, self.detected_at, self.planned_until, self._capacity_at())
        return ready + self.restart

    def _count_down(self, until: float) -> None:
        """Count the down time from the cursor to ``until``, each second by its first reason."""
        t = self.cursor
        seconds = self.out.seconds
        for ends, category in ((self.written_until, "checkpoint"), (self.detected_at, "detection"),
                               (self.planned_until, "planned"), (self._capacity_at(), "waiting")):
            if ends > t and t < until:
                step = min(ends, until)
                seconds[category] += step - t
                t = step
        if t < until:
            seconds["restart"] += until - t
        self.cursor = max(self.cursor, until)

    def _train(self, length: float, lose: bool) -> float:
        """Count ``length`` seconds of the train-then-write cycle since the job (re)started; the
        training since the last completed checkpoint is lost when ``lose``, kept otherwise.
        Returns how long the checkpoint that keeps it still takes to write."""
        cycle = self.interval + self.write
        whole, rest = divmod(length, cycle)
        self.out.productive += whole * self.interval
        self.out.seconds["checkpoint"] += whole * self.write
        trained = min(rest, self.interval)
        self.out.seconds["checkpoint"] += rest - trained
        if lose:
            self.out.seconds["lost_work"] += trained
            return 0.0
        self.out.productive += trained
        return self.write if rest < self.interval else cycle - rest
