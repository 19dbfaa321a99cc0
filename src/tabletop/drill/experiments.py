"""Chaos Toolkit experiments on the drill's clock: when each one's ``when`` comes, the drill
records ``chaos.experiment.started`` and hands the experiment to its chaos port.

The port runs experiments outside the simulation (``tabletop.chaos.runner`` starts chaoslib
in a subprocess; a replay re-records what the recording saw). Without one (a headless drill)
an experiment does not run, and the timeline says so. Everything the port learns later
arrives on the drill's thread through ``Drill.record`` (or ``Drill.submit_event`` in a replay).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import simpy

from tabletop.timers import later

if TYPE_CHECKING:
    from tabletop.chaos.experiments import LoadedExperiment
    from tabletop.drill.engine import Drill
    from tabletop.scenario.chaos import ChaosExperiment

NOT_RUN_REASON = "a headless drill does not run Chaos Toolkit experiments; run it paced against the twin (tabletop run --twin)"


class ChaosPort(Protocol):
    def start(self, drill: "Drill", experiment: "LoadedExperiment") -> None:
        """In the drill's thread, at the experiment's time: run it (without blocking the drill)."""


class NotRun:
    """The port of a drill that runs no experiments: each is recorded as not run."""

    def start(self, drill: "Drill", experiment: "LoadedExperiment") -> None:
        drill.record("chaos.experiment.ended", not_run(experiment.id))


def not_run(experiment: str) -> dict[str, Any]:
    return {"experiment": experiment, "status": "not_run", "deviated": False, "mode": None, "journal": None,
            "reason": NOT_RUN_REASON}


class ExperimentSchedule:
    """Starts each experiment at its ``when.at``, or at the first rule evaluation (not before
    ``when.after``) where its ``when.condition`` holds."""

    def __init__(self, env: simpy.Environment, experiments: list["ChaosExperiment"],
                 start: Callable[["ChaosExperiment"], Any]) -> None:
        self.env = env
        self.start = start
        self.waiting = [e for e in experiments if e.when.condition is not None]
        self.started: list[str] = []
        for experiment in experiments:
            if experiment.when.at is not None:
                later(env, experiment.when.at, lambda experiment=experiment: self._start(experiment))

    def check_conditions(self, holds: Callable[[str], bool]) -> None:
        for experiment in list(self.waiting):
            if self.env.now >= experiment.when.after and holds(experiment.when.condition or ""):
                self.waiting.remove(experiment)
                self._start(experiment)

    def _start(self, experiment: "ChaosExperiment") -> None:
        if experiment.id not in self.started:
            self.started.append(experiment.id)
            self.start(experiment)
