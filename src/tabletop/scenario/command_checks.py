"""Command lines of runbooks and responder scripts: they parse, and the names they use exist."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tabletop.drill.command_line import CommandSyntaxError, parse_command
from tabletop.scenario.expressions import promql_issue
from tabletop.scenario.faults import TARGET_KIND
from tabletop.scenario.raw import strings
from tabletop.scenario.references import Inventory, no_such
from tabletop.scenario.validation import hint
from tabletop.sim.action_specs import TARGET_KINDS


@dataclass(frozen=True)
class World:
    """What commands may name; None where unknown (that check is skipped)."""

    inventory: Inventory | None = None
    participants: Sequence[str] | None = None
    injects: Sequence[str] | None = None

    @classmethod
    def of(cls, data: Any) -> World:
        """From a scenario's raw data (or ``Scenario.model_dump(by_alias=True)``)."""
        return cls(Inventory(data.get("fleet")), strings(data, "participants", "*", "id"), strings(data, "injects", "*", "id"))


_FILLERS = (("x", "xx"), ("0", "00"))
"""Pairs of dummy values for ``<placeholders>``: names, then numbers. Arguments that differ
between the two fillings of a pair come from a placeholder."""
_PLACEHOLDER = re.compile(r"<[a-zA-Z_][a-zA-Z0-9_-]*>")


def check_command(line: str, world: World, *, templated: bool = False) -> list[tuple[str, int | None]]:
    """Problems of one command line as (message, 0-based offset in ``line`` or None).

    With ``templated`` (runbook commands) ``<placeholders>`` are filled with dummy values
    first, and names that come from a placeholder are not looked up.
    """
    pairs: Sequence[tuple[str | None, str | None]] = _FILLERS if templated else ((None, None),)
    stripped = line.strip()
    if stripped.split(" ", 1)[0] == "query":
        # the expression is taken as written: shell-style splitting would drop its quotes
        expr = stripped[len("query"):].strip()
        if not expr:
            return [("query: missing EXPR", None)]
        issue = promql_issue(_fill(expr, pairs[0][0]))
        if issue is None:
            return []
        message, offset = issue
        return [(message, None if offset is None else line.index(expr) + offset)]
    first_error: str | None = None
    for pair in pairs:
        try:
            commands = [parse_command(_fill(line, filler)) for filler in pair]
        except CommandSyntaxError as error:
            first_error = first_error or str(error)
            continue
        words = line.split()
        label = " ".join(words[:2]) if words[0] == "kubectl" else commands[0].name
        return [(message, None) for message in _names(commands, label, world)]
    return [(first_error or "cannot parse the command", None)]


def _fill(text: str, filler: str | None) -> str:
    return text if filler is None else _PLACEHOLDER.sub(filler, text)


def _names(commands: list[Any], label: str, world: World) -> list[str]:
    """Problems with the names a command uses (those every filling gives alike)."""
    command = commands[0]
    same = {key: value for key, value in command.args.items() if all(c.args.get(key) == value for c in commands)}
    problems: list[str] = []
    target = same.get("target") if command.name in ("mitigate", "describe", "hypothesis") else same.get("source")
    if isinstance(target, str) and world.inventory is not None:
        kind, _, name = target.partition("/")
        if kind not in TARGET_KINDS:
            problems.append(f"{label}: unknown kind {kind!r}{hint(kind, TARGET_KINDS)}; kinds: {', '.join(TARGET_KINDS)}")
        elif not world.inventory.matches(kind, name):
            problems.append(f"{label}: {world.inventory.missing(kind, name)}")
    person = same.get("to")
    if isinstance(person, str) and world.participants is not None and person not in world.participants:
        problems.append(f"{label}: {no_such('participant', person, world.participants)}")
    inject = same.get("inject")
    if isinstance(inject, str) and world.injects is not None and inject not in world.injects:
        problems.append(f"{label}: {no_such('inject', inject, world.injects)}")
    cause = same.get("cause")
    if command.name == "hypothesis" and isinstance(cause, str) and cause not in TARGET_KIND:
        problems.append(f"hypothesis: unknown fault kind {cause!r}{hint(cause, TARGET_KIND)}; kinds: {', '.join(TARGET_KIND)}")
    return problems
