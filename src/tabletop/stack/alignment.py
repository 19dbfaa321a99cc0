"""Prometheus's rule evaluations on the drill's evaluation grid.

tabletop evaluates every rule group at multiples of its interval of drill time. Prometheus
evaluates a group at multiples of its interval plus an offset of its own, ``hash % interval``
nanoseconds of Unix time, where the hash is of the group's name and rule file (``Group.hash``
and ``EvalTimestamp`` in Prometheus's rules/manager.go: xxhash64 of the label set
``{file=..., name=...}`` as ``labels.Hash`` writes it). Off the grid, Prometheus would see the
fleet between two of tabletop's evaluations, and an expression near its threshold (an error
ratio hovering at 2%) would go pending an evaluation earlier or later than in the drill.

So each group gets a rule file of its own, named so that its offset falls in the very
millisecond of the grid: the name is the group's (made safe for a file name), then ``.N`` for
the first N that hits the millisecond (about ``interval`` in ms tries; xxhash takes a
microsecond each). Evaluation timestamps are then on the grid to the millisecond Prometheus
queries at, and the samples, stamped on the grid too, are the same for both engines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import count

import xxhash

from tabletop.scenario.rules import RuleGroup

_SEPARATOR = b"\xff"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def evaluation_offset_ns(file: str, group: str, interval_ns: int) -> int:
    """Nanoseconds past each multiple of ``interval_ns`` at which Prometheus evaluates
    ``group`` of rule ``file`` (the path as Prometheus names it: its config's directory joined
    with the rule_files entry)."""
    data = b"file" + _SEPARATOR + file.encode() + _SEPARATOR + b"name" + _SEPARATOR + group.encode() + _SEPARATOR
    return xxhash.xxh64_intdigest(data) % interval_ns


def aligned_file_name(folder: str, group: str, interval_ms: int, phase_ms: int) -> str:
    """A file name in ``folder`` for ``group`` whose evaluations fall in millisecond
    ``phase_ms`` of every ``interval_ms``."""
    stem = _UNSAFE.sub("-", group).strip("-.") or "group"
    interval_ns = interval_ms * 1_000_000
    for n in count(1):
        name = f"{stem}.{n}.yml"
        if evaluation_offset_ns(f"{folder}/{name}", group, interval_ns) // 1_000_000 == phase_ms % interval_ms:
            return name
    raise AssertionError("unreachable")


def aligned_files(groups: Sequence[RuleGroup], folder: str, interval_ms: dict[str, int],
                  origin_ms: int) -> dict[str, RuleGroup]:
    """File name → group, each group's evaluations on its grid from ``origin_ms`` (the wall
    millisecond of drill second 0); ``interval_ms``: each group's interval in wall ms."""
    files: dict[str, RuleGroup] = {}
    for group in groups:
        files[aligned_file_name(folder, group.name, interval_ms[group.name], origin_ms)] = group
    return files
