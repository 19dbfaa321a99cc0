"""Responders that replay commands: from a YAML script, or from a recorded timeline."""

from __future__ import annotations

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


class RecordedResponder(Responder):
    """The commands of an earlier run, at the same times, by the same people."""

    def __init__(self, events: list[Event], name: str) -> None:
        self.commands = [e for e in events if e.kind == "command"]
        self.name = name

    def start(self) -> None:
        for event in self.commands:
            self.drill.submit(event.t, event.actor or "", event.data["line"])
