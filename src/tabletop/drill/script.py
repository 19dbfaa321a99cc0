"""Responder scripts: YAML files of timed commands for headless drills."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from tabletop.drill.command_line import Command, parse_command
from tabletop.scenario.types import Duration, Model, Name


class ScriptedCommand(Model):
    at: Duration
    """Drill time at which the command is issued."""
    as_: Annotated[Name, Field(alias="as")]
    """Participant issuing it."""
    run: str
    """A command line, e.g. ``ack`` or ``mitigate drain node/gpu-serve-2``."""

    @field_validator("run")
    @classmethod
    def _parses(cls, line: str) -> str:
        parse_command(line)
        return line

    def command(self) -> Command:
        return parse_command(self.run)


class ResponderScript(Model):
    api_version: Annotated[Literal["tabletop/v1"], Field(alias="apiVersion")]
    kind: Literal["ResponderScript"]
    name: str
    description: str = ""
    commands: list[ScriptedCommand]
