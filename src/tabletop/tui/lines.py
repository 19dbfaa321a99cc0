"""Canonical command lines from what people fill into the console's dialogs.

The console never acts on the drill itself: it writes the command line a script would hold
and gives it to ``session.execute``. ``Command.line()`` quotes like the timeline does.
"""

from __future__ import annotations

from typing import Any

from tabletop.drill.command_line import Command


def _flat(text: str) -> str:
    return " ".join(text.split())


def text_command(name: str, text: str) -> str:
    """``note``, ``status``: the text as one quoted argument."""
    return Command(name, {"text": _flat(text)}).line()


def query(expr: str) -> str:
    """PromQL is taken as typed (its quotes stay)."""
    return f"query {_flat(expr)}"


def handoff(to: str, status: str, actions: str, next_steps: str) -> str:
    args: dict[str, Any] = {"to": to}
    for key, value in (("status", status), ("actions", actions), ("next", next_steps)):
        if value.strip():
            args[key] = _flat(value)
    return Command("handoff", args).line()


def assign(role: str, who: str) -> str:
    return Command("assign", {"role": role, "to": who}).line()


def reassign(who: str) -> str:
    return Command("reassign", {"to": who}).line()


def severity(level: str) -> str:
    return Command("severity", {"level": level}).line()


def hypothesis(cause: str, target: str, reasoning: str) -> str:
    args: dict[str, Any] = {"cause": cause, "target": target.strip()}
    if reasoning.strip():
        args["text"] = _flat(reasoning)
    return Command("hypothesis", args).line()


def reply(inject: str, text: str) -> str:
    return Command("reply", {"inject": inject, "text": _flat(text)}).line()


def resolve(text: str = "") -> str:
    return Command("resolve", {"text": _flat(text)} if text.strip() else {}).line()


def step(number: int, params: dict[str, str], runbook: str | None = None) -> str:
    args: dict[str, Any] = {"number": number}
    if runbook is not None:
        args["runbook"] = runbook
    if params:
        args["params"] = {k: v.strip() for k, v in params.items()}
    return Command("step", args).line()


def mitigate(action: str, target: str, params: dict[str, str]) -> str:
    args: dict[str, Any] = {"action": action, "target": target}
    filled = {k: v.strip() for k, v in params.items() if v.strip()}
    if filled:
        args["params"] = filled
    return Command("mitigate", args).line()


def logs(pattern: str, source: str = "", since: float | None = None) -> str:
    """``since`` in seconds (parse what people type with ``tabletop.durations.parse_duration``)."""
    args: dict[str, Any] = {"pattern": pattern.strip()}
    if source.strip():
        args["source"] = source.strip()
    if since:
        args["since"] = since
    return Command("logs", args).line()


def get(kind: str) -> str:
    return Command("get", {"kind": kind}).line()


def describe(target: str) -> str:
    return Command("describe", {"target": target.strip()}).line()
