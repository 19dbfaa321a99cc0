"""A drill worked by people: a clock driven from wall time, commands, and the end of the drill.

The console is a thin client of this class: it calls ``advance`` from a timer with the wall
time that passed, ``execute`` with what people type, and reads the ``board`` to draw. Virtual
time only moves in ``advance`` (``elapsed wall × speed`` while not paused), rounded to the
millisecond the timeline keeps, so a console run replays exactly from its timeline.

A session can follow a live stack instead (``follow``, for ``drill --stack``): Prometheus
evaluates the time-scaled rules on wall time, so once the stack's clock runs (the first
``resume`` calls ``LiveStack.begin``) drill time is what ``pace`` would make it, the present
moment at ``begin``'s instant plus the monotonic time since × the stack's speed, whatever the
console's timer says. People can then neither pause, change the speed nor skip ahead:
``ClockRefused`` says so, and the facilitator ends the drill instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tabletop.drill.board import Board
from tabletop.drill.command_line import FACILITATOR
from tabletop.drill.commands import CommandResult
from tabletop.drill.engine import Drill
from tabletop.drill.outputs import Outputs, build_outputs, write_outputs
from tabletop.scenario.loader import LoadedScenario

if TYPE_CHECKING:
    from tabletop.stack.session import DrillClock, LiveStack

SPEEDS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
"""Speeds offered by the console (virtual seconds per wall second)."""
ON_THE_WALL_CLOCK = ("the live stack runs on the wall clock: the drill cannot pause, change speed or skip; "
                     "end it with the facilitator screen")


class ClockRefused(Exception):
    """The drill's clock cannot do what was asked; the message says why."""


class DrillSession:
    def __init__(self, loaded: LoadedScenario, drill: Drill, *, out_dir: Path | None = None) -> None:
        self.loaded = loaded
        self.drill = drill
        self.out_dir = out_dir
        self.speed = 1.0
        self.paused = True
        """A drill starts paused: the facilitator starts the clock."""
        self.board = Board(drill)
        self.outputs: Outputs | None = None
        self.before_end: list[Callable[[str], None]] = []
        """Called with the reason just before the drill ends (in the drill's thread): e.g. the Chaos
        Toolkit runner interrupting its experiments and recording their rollbacks."""
        self.live: LiveStack | None = None
        """The live stack whose clock the drill follows (``follow``)."""
        self.wall_clock: DrillClock | None = None
        """Once the live stack's clock runs: drill seconds on the monotonic clock, as ``pace`` keeps them."""

    @classmethod
    def start(cls, loaded: LoadedScenario, *, seed: int = 0, out_dir: Path | None = None,
              scenario_label: str | None = None, paging: str = "tabletop") -> "DrillSession":
        """``paging="alertmanager"``: pages come from a live stack's notifications (``follow`` it)."""
        timeline = out_dir / "timeline.jsonl" if out_dir is not None else None
        drill = Drill(loaded, seed=seed, responder="console", timeline_path=timeline, scenario_label=scenario_label,
                      paging=paging)
        return cls(loaded, drill, out_dir=out_dir)

    def follow(self, live: "LiveStack") -> None:
        """Run the drill on ``live``'s clock (started, not begun): at its speed, from the first
        ``resume``, with no pause, speed change or skip."""
        self.live = live
        self.speed = live.speed

    # the clock ---------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.drill.now

    @property
    def ended(self) -> bool:
        return self.drill.ended

    @property
    def live_clock_pending(self) -> bool:
        """Whether the next ``resume`` starts the live stack's clock (which takes a second or two)."""
        return self.live is not None and self.wall_clock is None

    def advance(self, wall_seconds: float) -> None:
        """Move virtual time on by ``wall_seconds × speed`` unless paused (on the live stack's
        clock: to its present moment); ends the drill at its duration."""
        if self.paused or self.drill.ended:
            return
        if self.wall_clock is not None:
            self._move_to(self.wall_clock.drill_seconds(time.monotonic()))
        elif wall_seconds > 0:
            self._move_to(self.drill.now + wall_seconds * self.speed)

    def advance_to(self, t: float) -> None:
        """Move the virtual clock to ``t`` (the facilitator's skip ahead, and tests); the drill
        ends when it reaches its duration. ``ClockRefused`` on a live stack's clock."""
        self._refuse_on_the_wall_clock()
        self._move_to(t)

    def _move_to(self, t: float) -> None:
        duration = self.drill.scenario.metadata.duration
        target = min(round(t, 3), duration)
        if target > self.drill.now and not self.drill.ended:
            self.drill.advance_to(target)
            self.board.sample()
        if target >= duration and not self.drill.ended:
            self.end("duration")

    def pause(self) -> None:
        if not self.paused and not self.drill.ended:
            self._refuse_on_the_wall_clock()
        self.paused = True

    def resume(self) -> None:
        """Run the clock; the first time on a live stack, start the stack's clock (blocks until
        Prometheus has the rules and the drill's present moment has come)."""
        if self.live_clock_pending and not self.drill.ended:
            from tabletop.stack.session import DrillClock

            assert self.live is not None
            try:
                started = self.live.begin(self.drill)
            except (RuntimeError, ValueError, OSError) as error:  # ServerError: Prometheus refused or died
                raise ClockRefused(f"the live stack's clock did not start: {error}") from error
            self.wall_clock = DrillClock(self.live.speed, at=self.drill.now, wall=started)
        self.paused = False

    def set_speed(self, speed: float) -> None:
        self._refuse_on_the_wall_clock()
        if not 0 < speed <= SPEEDS[-1]:
            raise ValueError(f"speed must be between 0 and {SPEEDS[-1]:.0f}")
        self.speed = speed

    def check_skip(self) -> None:
        """``ClockRefused`` when skipping ahead is not possible (before asking how far)."""
        self._refuse_on_the_wall_clock()

    def _refuse_on_the_wall_clock(self) -> None:
        if self.live is not None:
            raise ClockRefused(ON_THE_WALL_CLOCK)

    # commands ----------------------------------------------------------------------------------
    def execute(self, actor: str, line: str) -> CommandResult:
        return self.drill.execute(actor, line)

    def facilitate(self, action: str) -> CommandResult:
        return self.drill.execute(FACILITATOR, f"facilitate {action}")

    # the end -------------------------------------------------------------------------------------
    def end(self, reason: str = "facilitator") -> Outputs:
        """End the drill, score it and draft the postmortem (written to the output folder, if any,
        exactly as a headless run writes them). The clock stops for good."""
        self.paused = True
        if not self.drill.ended:
            try:
                for hook in self.before_end:
                    hook(reason)
            finally:
                self.drill.end(reason)
        if self.outputs is None:
            timeline = self.drill.timeline
            if self.out_dir is None:
                self.outputs = build_outputs(self.loaded, timeline.header, timeline.events)
            else:
                self.outputs = write_outputs(self.loaded, timeline.header, timeline.events, self.out_dir)
        return self.outputs
