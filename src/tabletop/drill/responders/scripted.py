"""Responders that replay commands: from a YAML script, or from a recorded timeline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabletop.drill.experiments import NotRun
from tabletop.drill.responders.base import Responder
from tabletop.drill.script import ResponderScript
from tabletop.drill.timeline import Event


class ScriptResponder(Responder):
    def __init__(self, script: ResponderScript) -> None:
        self.script = script
        self.name = script.name

    def start(self) -> None:
        for command in self.script.commands:
            self.drill.submit(command.at, command.as_, command.run)

    def command_lines(self) -> list[str]:
        return [command.run for command in self.script.commands]


if TYPE_CHECKING:
    from tabletop.chaos.experiments import LoadedExperiment
    from tabletop.drill.engine import Drill


def _not_run(event: Event) -> bool:
    return event.kind == "chaos.experiment.ended" and event.data.get("status") == "not_run"


def from_outside(event: Event) -> bool:
    """Whether a recorded event came from outside the simulation and its commands: what a Chaos
    Toolkit experiment reported (the drill itself records ``chaos.experiment.started`` and,
    without a runner, ``not_run``), and what a real Alertmanager notified or answered."""
    if event.kind.startswith("alertmanager."):
        return True
    return event.kind.startswith("chaos.") and event.kind != "chaos.experiment.started" and not _not_run(event)


class RecordedChaos:
    """A replay's chaos port: an experiment the recording started is not run again (what it
    reported is re-recorded from the recording); one it did not reach is not run (a resumed
    drill may attach a real runner instead)."""

    def __init__(self, events: list[Event]) -> None:
        self.started = {e.data.get("experiment") for e in events if e.kind == "chaos.experiment.started"}
        self.not_run = {e.data.get("experiment") for e in events if _not_run(e)}

    def start(self, drill: "Drill", experiment: "LoadedExperiment") -> None:
        if experiment.id in self.not_run or experiment.id not in self.started:
            NotRun().start(drill, experiment)


class RecordedResponder(Responder):
    """The commands of an earlier run, at the same times, by the same people; and what its
    Chaos Toolkit experiments reported, recorded again at the same times (not run again)."""

    def __init__(self, events: list[Event], name: str) -> None:
        self.commands = [e for e in events if e.kind == "command"]
        self.replayed = [e for e in events if e.kind == "command" or from_outside(e)]
        self.chaos = RecordedChaos(events)
        self.name = name

    def attach(self, drill: "Drill") -> None:
        drill.chaos = self.chaos
        super().attach(drill)

    def start(self) -> None:
        for event in self.replayed:
            if event.kind == "command":
                self.drill.submit(event.t, event.actor or "", event.data["line"])
            else:
                self.drill.submit_event(event.t, event.kind, event.data, event.actor)

    def command_lines(self) -> list[str]:
        return [event.data["line"] for event in self.commands]
