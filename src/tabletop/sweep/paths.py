"""Parameter paths into a scenario or fleet document, and setting a value there.

A path is keys joined by dots, each optionally followed by list steps: an index (``[0]``), a
selector picking the one item whose field has a value (``[name=chat-llm]``, ``[id=gpu-falls-off-bus]``)
or a quoted key (``["nvidia.com/gpu.product"]``)::

    escalation_policies[0].levels[0].ack_timeout
    fleet.deployments[name=chat-llm].replicas
    faults[id=gpu-falls-off-bus].when.at

The last key may be missing from its mapping (it is then added, and the document's own checks
judge it); everything before it must be in the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tabletop.scenario.problems import PathPart, format_path
from tabletop.scenario.validation import describe, hint

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_INDEX = re.compile(r"\[(\d+)\]")
_SELECTOR = re.compile(r"\[([A-Za-z_][A-Za-z0-9_-]*)=([^\]]+)\]")
_QUOTED = re.compile(r'\["((?:[^"\\]|\\.)*)"\]')


@dataclass(frozen=True)
class Select:
    """``[field=value]``: the one list item whose ``field`` reads as ``value``."""

    field: str
    value: str


Step = str | int | Select


class PathError(ValueError):
    """A path that cannot be read, or does not lead anywhere in the document."""


def parse_path(text: str) -> tuple[Step, ...]:
    """The steps of ``text``; raises PathError saying where it stops making sense."""
    steps: list[Step] = []
    at = 0
    while True:
        key = _KEY.match(text, at)
        if key is None:
            raise PathError(_bad(text, at, "expected a key (letters, digits, '_' or '-')"))
        steps.append(key.group())
        at = key.end()
        while text.startswith("[", at):
            found = _INDEX.match(text, at) or _SELECTOR.match(text, at) or _QUOTED.match(text, at)
            if found is None:
                raise PathError(_bad(text, at, 'expected [INDEX], [FIELD=VALUE] or ["KEY"]'))
            if found.re is _INDEX:
                steps.append(int(found.group(1)))
            elif found.re is _SELECTOR:
                steps.append(Select(found.group(1), found.group(2).strip()))
            else:
                steps.append(re.sub(r"\\(.)", r"\1", found.group(1)))
            at = found.end()
        if at == len(text):
            return tuple(steps)
        if text[at] != ".":
            raise PathError(_bad(text, at, "expected '.' or '[' after a key"))
        at += 1


def _bad(text: str, at: int, expected: str) -> str:
    return f"cannot read path {text!r} at character {at + 1}: {expected}"


def resolve(data: Any, steps: tuple[Step, ...], document: str) -> tuple[PathPart, ...]:
    """The concrete key path ``steps`` reach in ``data`` (selectors turned into indices).

    Raises PathError naming the first step that leads nowhere; ``document`` names the file.
    """
    here: list[PathPart] = []
    value = data
    for number, step in enumerate(steps):
        last = number == len(steps) - 1
        where = format_path(here) or "the top level"
        if isinstance(step, str):
            if not isinstance(value, dict):
                raise PathError(f"{where} is {describe(value)}, not a mapping with key {step!r}")
            if step not in value and not last:
                raise PathError(f"{document} has no key {format_path(here + [step])!r}{hint(step, value)}; "
                                f"keys at {where}: {', '.join(value) or 'none'}")
            here.append(step)
            value = value.get(step)
            continue
        if not isinstance(value, list):
            raise PathError(f"{where} is {describe(value)}, not a list")
        if isinstance(step, int):
            if step >= len(value):
                raise PathError(f"{where} has {len(value)} item(s); [{step}] is past the end")
            index = step
        else:
            index = _select(value, step, where)
        here.append(index)
        value = value[index]
    return tuple(here)


def _select(items: list[Any], step: Select, where: str) -> int:
    found = [i for i, item in enumerate(items) if isinstance(item, dict) and _reads_as(item.get(step.field), step.value)]
    if len(found) == 1:
        return found[0]
    if found:
        raise PathError(f"{len(found)} items of {where} have {step.field} {step.value!r}; pick one by index")
    present = [str(item[step.field]) for item in items if isinstance(item, dict) and step.field in item]
    if not present:
        raise PathError(f"no item of {where} has a key {step.field!r}")
    raise PathError(f"no item of {where} has {step.field} {step.value!r}{hint(step.value, present)}; "
                    f"{step.field}s: {', '.join(present)}")


def _reads_as(value: Any, text: str) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value) == text


def assign(data: Any, path: tuple[PathPart, ...], value: Any) -> None:
    """Set ``value`` at ``path`` (a resolved path) in ``data``, in place."""
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
