"""A drill worked by people: a clock driven from wall time, commands, and the end of the drill.

The console is a thin client of this class: it calls ``advance`` from a timer with the wall
time that passed, ``execute`` with what people type, and reads the ``board`` to draw. Virtual
time only moves in ``advance`` (``elapsed wall × speed`` while not paused), rounded to the
millisecond the timeline keeps, so a console run replays exactly from its timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tabletop.drill.board import Board
from tabletop.drill.command_line import FACILITATOR
from tabletop.drill.commands import CommandResult
from tabletop.drill.engine import Drill
from tabletop.drill.outputs import Outputs, build_outputs, write_outputs
from tabletop.scenario.loader import LoadedScenario

SPEEDS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
"""Speeds offered by the console (virtual seconds per wall second)."""


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

    @classmethod
    def start(cls, loaded: LoadedScenario, *, seed: int = 0, out_dir: Path | None = None,
              scenario_label: str | None = None) -> "DrillSession":
        timeline = out_dir / "timeline.jsonl" if out_dir is not None else None
        drill = Drill(loaded, seed=seed, responder="console", timeline_path=timeline, scenario_label=scenario_label)
        return cls(loaded, drill, out_dir=out_dir)

    # the clock ---------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.drill.now

    @property
    def ended(self) -> bool:
        return self.drill.ended

    def advance(self, wall_seconds: float) -> None:
        """Move virtual time on by ``wall_seconds × speed`` unless paused; ends the drill at its duration."""
        if self.paused or self.drill.ended or wall_seconds <= 0:
            return
        self.advance_to(self.drill.now + wall_seconds * self.speed)

    def advance_to(self, t: float) -> None:
        """Move the virtual clock to ``t`` (the facilitator's skip ahead, and tests); the drill
        ends when it reaches its duration."""
        duration = self.drill.scenario.metadata.duration
        target = min(round(t, 3), duration)
        if target > self.drill.now and not self.drill.ended:
            self.drill.advance_to(target)
            self.board.sample()
        if target >= duration and not self.drill.ended:
            self.end("duration")

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def set_speed(self, speed: float) -> None:
        if not 0 < speed <= SPEEDS[-1]:
            raise ValueError(f"speed must be between 0 and {SPEEDS[-1]:.0f}")
        self.speed = speed

    # commands ----------------------------------------------------------------------------------
    def execute(self, actor: str, line: str) -> CommandResult:
        return self.drill.execute(actor, line)

    def facilitate(self, action: str) -> CommandResult:
        return self.drill.execute(FACILITATOR, f"facilitate {action}")

    # the end -------------------------------------------------------------------------------------
    def end(self, reason: str = "facilitator") -> Outputs:
        """End the drill, score it and draft the postmortem (written to the output folder, if any,
        exactly as a headless run writes them)."""
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
