"""The scenario's experiments in a console drill (``tabletop drill``).

The console's timer is the drill's thread: it calls ``step`` at every tick (beside the twin's
``serve``). When the drill ends (its duration, the facilitator's end) the runner interrupts
what still runs and records the rollbacks before ``drill.ended``; when the console closes
before the end (the drill stays resumable), ``leave`` does the same without ending the drill,
so the timeline says how the experiments ended and a resumed drill does not run them again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tabletop.chaos.runner import ChaosRunner

if TYPE_CHECKING:
    from tabletop.drill.session import DrillSession
    from tabletop.twin.twin import Twin


class ConsoleChaos:
    def __init__(self, session: "DrillSession", twin: "Twin | None", *, live: bool = False, allow_process: bool = False,
                 notify: Callable[[str], None] | None = None) -> None:
        timeline = session.drill.timeline.path
        out_dir = Path(timeline).parent if timeline is not None else (session.out_dir or Path("."))
        self.session = session
        self.twin = twin
        self.runner = ChaosRunner(session.loaded, out_dir, live=live, allow_process=allow_process, notify=notify)
        self.runner.attach(session.drill, twin)
        session.before_end.append(lambda reason: self.runner.finish(reason, self.serve))

    def serve(self) -> None:
        """The twin's requests and the experiments' reports, in the console's thread."""
        if self.twin is not None:
            self.twin.serve()
        self.runner.step()

    def step(self) -> None:
        self.runner.step()

    def leave(self) -> None:
        """The console closes: interrupt (with rollbacks) and record what still runs; stop everything."""
        try:
            if not self.session.drill.ended:
                self.runner.finish("the console closed", self.serve)
        finally:
            self.runner.close()
