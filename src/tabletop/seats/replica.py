"""A joined seat's drill: a replica of the facilitator's, driven by the seat server's feed.

``ReplicaSession`` is a ``DrillSession`` whose drill is built like the server's (same
scenario, seed, responder name, paging: the same timeline header) and changes only by the
feed: each op at its drill time, in feed order (a command runs where the server ran it, after
the simulation's events before that time and before those at it, as a replay runs it), then
the clock, up to which every op has come. So the replica's timeline is the server's, line for
line, and ``timeline_path`` can keep a copy of it.

The seat's own commands go to the server (``execute``: only as the seat's participant); the
answer holds the feed up to and including that command, so the replica runs it at once and the
console shows the replica's result of it (with its full output: query tables, log lines). The
clock belongs to the facilitator: pausing, speed and skipping are refused (``ClockRefused``).

Threads: a poller thread long-polls the feed and queues what it gets, then calls ``on_news``
(the console posts itself a message: it applies the news at once, not at its next tick);
``apply_feed`` (from that message, and the console's tick through ``advance``) and ``execute``
apply it in the console's thread, the only one that touches the replica. When the server
cannot be reached the poller keeps trying (the drill goes on without the seat; the seat
catches up when it is back); a refusal (the seat was removed) stops it, and the seat can no
longer act (``removed``: ``tabletop join`` then closes the console and says why).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tabletop.drill.commands import CommandResult
from tabletop.drill.engine import Drill
from tabletop.drill.session import ClockRefused, DrillSession
from tabletop.drill.timeline import Header
from tabletop.durations import format_clock
from tabletop.scenario.loader import LoadedScenario
from tabletop.seats.client import SeatClient, SeatError

THE_FACILITATORS_CLOCK = "the facilitator runs the clock: only their console can pause, change speed or skip"


def header_of(document: dict[str, Any]) -> Header:
    """A timeline header from its JSON (as the seat server sends it); ValueError when it is not one."""
    try:
        scenario = document["scenario"]
        return Header(scenario_id=str(scenario["id"]), scenario_path=str(scenario["path"]),
                      scenario_sha256=str(scenario["sha256"]), seed=int(document["seed"]),
                      responder=str(document["responder"]), start=str(document["start"]),
                      tabletop_version=str(document["tabletop_version"]), format=str(document["format"]),
                      without_faults=scenario.get("without_faults", False) is True,
                      paging=str(document.get("paging", "tabletop")))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"not a timeline header: {error}") from None


class Diverged(Exception):
    """The replica did not record what the server recorded (another scenario or tabletop version)."""


class ReplicaSession(DrillSession):
    def __init__(self, loaded: LoadedScenario, header: Header, participant: str, client: SeatClient, *,
                 out_dir: Path | None = None) -> None:
        self.header = header
        super().__init__(loaded, self._new_drill(loaded, out_dir), out_dir=out_dir)
        self.participant = participant
        self.client = client
        self.applied = 0
        """Feed ops applied so far."""
        self._ops: list[dict[str, Any]] = []
        """The ops applied, in feed order (to rebuild the replica when the drill goes back)."""
        self.problem: str | None = None
        """Why the server cannot be reached now (None while it can)."""
        self.removed = False
        self.on_status: Callable[[str, str], None] | None = None
        """Called in the console's thread with (message, severity) when the connection changes."""
        self.on_news: Callable[[], None] | None = None
        """Called in the poller's thread when it queued news (ops, a clock, a lost server): the
        console then calls ``apply_feed`` in its own thread, without waiting for its tick."""
        self._results: dict[int, CommandResult] = {}
        self._updates: queue.SimpleQueue[dict[str, Any] | SeatError] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cursor, self._version = 0, -1

    def _new_drill(self, loaded: LoadedScenario, out_dir: Path | None) -> Drill:
        """The replica's drill at its start, built as the server's was (the same timeline header)."""
        header = self.header
        timeline = out_dir / "timeline.jsonl" if out_dir is not None else None
        return Drill(loaded, seed=header.seed, responder=header.responder, timeline_path=timeline,
                     scenario_label=header.scenario_path, without_faults=header.without_faults, paging=header.paging)

    # the feed ----------------------------------------------------------------------------------------
    def catch_up(self) -> None:
        """Fetch the feed so far and run the replica to the server's present (raises SeatError)."""
        self.take(self.client.feed(self.applied, -1))

    def take(self, update: dict[str, Any], *, reconnected: bool = False) -> None:
        """Apply one feed update: the ops not yet applied, then the clock (raises ``Diverged``).

        The drill may have gone back in time: a drill served again after ``--resume`` is rebuilt
        from its timeline and goes on from just after its last event, while this replica had
        followed its clock further. Then an op comes earlier than the replica's present (never
        otherwise: an op is never before a clock the server published), or, in the first update
        after the server was lost (``reconnected``; a stale update cannot come then), the clock
        is behind the replica's; the replica is rebuilt from the ops so far and goes on from the
        drill's present, so that it runs the new ops where the drill ran them."""
        after, ops = int(update["after"]), update["ops"]
        if after > self.applied:
            return  # a gap (cannot happen with one server): the poller asks again from ``applied``
        new, clock = ops[self.applied - after:], update["clock"]
        if not self.drill.ended and (any(round(op["t"], 3) < self.drill.now for op in new)
                                     or (reconnected and round(clock["t"], 3) < self.drill.now)):
            self._rebuild(round(min([clock["t"], *(op["t"] for op in new)]), 3))
        for op in new:
            self._apply(op)
            self._ops.append(op)
            self.applied += 1
        self.paused, self.speed = bool(clock["paused"]), float(clock["speed"])
        if not self.drill.ended and clock["t"] > self.drill.now:
            self.drill.advance_to(round(clock["t"], 3))
            self.board.sample()

    def _apply(self, op: dict[str, Any]) -> None:
        drill, kind, t = self.drill, op["op"], round(op["t"], 3)
        if drill.ended:
            return
        drill.advance_to(t)
        if kind == "command":
            result = drill.execute(op["actor"], op["line"])
            seq = result.event.seq if result.event is not None else None
            if seq != op["seq"]:
                raise Diverged(f"the server recorded command {op['line']!r} as event {op['seq']}, this seat as {seq}")
            if op["actor"] == self.participant:
                self._results[seq] = result  # what ``execute`` shows of the seat's own command
        elif kind == "event":
            drill.submit_event(t, op["kind"], op["data"], op.get("actor"))
            drill.run_queued()
        elif kind == "end":
            DrillSession.end(self, op["reason"])
            if drill.timeline.events[-1].seq != op["seq"]:
                raise Diverged(f"the server ended the drill at event {op['seq']}, "
                               f"this seat at {drill.timeline.events[-1].seq}")
        self.board.sample()

    def _rebuild(self, t: float) -> None:
        """The drill went back to ``t``: run a new replica through the ops applied so far (its
        timeline copy is written again), then say so."""
        went_from = self.drill.now
        self.drill.timeline.close()
        self.drill = self._new_drill(self.loaded, self.out_dir)
        self.board.rebind(self.drill)
        ops, self._ops, self.applied = self._ops, [], 0
        self._results.clear()
        for op in ops:
            self._apply(op)
            self._ops.append(op)
            self.applied += 1
        self._say(f"the drill went back from {format_clock(went_from)} to {format_clock(t)} (the facilitator "
                  "resumed it from its timeline): this seat went back with it", "warning")

    def start_polling(self) -> None:
        if self._thread is None:
            self._cursor = self.applied
            self._thread = threading.Thread(target=self._poll, name="tabletop-seat-feed", daemon=True)
            self._thread.start()

    def stop_polling(self) -> None:
        self._stop.set()

    def _poll(self) -> None:
        backoff = 0.25
        while not self._stop.is_set():
            try:
                update = self.client.feed(max(self._cursor, self.applied), self._version)
            except SeatError as error:
                self._updates.put(error)
                self._news()
                if error.refused:
                    return
                self._stop.wait(backoff)
                backoff = min(2.0, backoff * 2)
                continue
            backoff = 0.25
            self._cursor, self._version = int(update["after"]) + len(update["ops"]), int(update["clock"]["version"])
            self._updates.put(update)
            self._news()
            if update["clock"]["ended"] and any(op["op"] == "end" for op in update["ops"]):
                return

    def _news(self) -> None:
        if self.on_news is not None:
            try:
                self.on_news()
            except Exception:  # the console is going away: its tick (if any) applies the news
                pass

    def apply_feed(self) -> None:
        """In the console's thread: apply what the poller queued."""
        self._drain()

    def _drain(self) -> None:
        while True:
            try:
                item = self._updates.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, SeatError):
                self._lost(item)
            else:
                if self.removed:
                    continue
                reconnected = self.problem is not None
                if reconnected:
                    self.problem = None
                    self._say("back in touch with the drill server: this seat caught up", "information")
                try:
                    self.take(item, reconnected=reconnected)
                except Diverged as error:
                    self.removed, self.problem = True, f"this seat lost the drill: {error}"
                    self._stop.set()
                    self._say(self.problem, "error")

    def _lost(self, error: SeatError) -> None:
        if error.refused:
            if self.removed:
                return  # said once (a refused command, then the poller's request)
            self.removed = True
            self.problem = str(error)
            self._stop.set()
            self._say(f"{error}: this seat can no longer act or follow the drill", "error")
        elif self.problem is None:
            self.problem = str(error)
            self._say(f"{error}; trying again (the drill goes on; this seat catches up when it is back)", "warning")

    def _say(self, message: str, severity: str) -> None:
        if self.on_status is not None:
            self.on_status(message, severity)

    # the clock: the facilitator's ----------------------------------------------------------------------
    def advance(self, wall_seconds: float) -> None:
        """The console's tick: apply what the feed brought (the server's clock, not the wall's)."""
        self._drain()

    def advance_to(self, t: float) -> None:
        raise ClockRefused(THE_FACILITATORS_CLOCK)

    def pause(self) -> None:
        raise ClockRefused(THE_FACILITATORS_CLOCK)

    def resume(self) -> None:
        raise ClockRefused(THE_FACILITATORS_CLOCK)

    def set_speed(self, speed: float) -> None:
        raise ClockRefused(THE_FACILITATORS_CLOCK)

    def check_skip(self) -> None:
        raise ClockRefused(THE_FACILITATORS_CLOCK)

    # commands: the server's ------------------------------------------------------------------------------
    def execute(self, actor: str, line: str) -> CommandResult:
        if actor != self.participant:
            return CommandResult(False, f"this seat acts as {self.participant} only")
        if self.removed:
            return CommandResult(False, self.problem or "this seat was removed")
        try:
            answer = self.client.command(line, self.applied)
        except SeatError as error:
            if error.status in (401, 403):  # the seat was removed: it can no longer act nor follow
                self._lost(error)
                return CommandResult(False, f"{error}: this seat can no longer act")
            return CommandResult(False, f"{error} (the command may not have run; the timeline will show it)")
        self._drain()
        self.take(answer["update"])
        seq = answer.get("seq")
        result = self._results.pop(seq, None) if seq is not None else None
        return result or CommandResult(bool(answer.get("ok")), str(answer.get("message", "")))

    def facilitate(self, action: str) -> CommandResult:
        return CommandResult(False, "only the facilitator's console facilitates")
