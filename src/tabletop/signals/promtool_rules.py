"""Prometheus rule files written from rule groups, as ``promtool check rules`` accepts them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import yaml

from tabletop.scenario.rules import Rule, RuleGroup

_UNITS = (("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1))


def prom_duration(seconds: float) -> str:
    """Prometheus duration notation: ``1h30m``, ``90s`` → ``1m30s``, ``0.5`` → ``500ms``, ``0s``."""
    ms = round(seconds * 1000)
    if ms < 0:
        raise ValueError(f"a Prometheus duration cannot be negative: {seconds}")
    parts = []
    for unit, size in _UNITS:
        count, ms = divmod(ms, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Block scalars (``|``) for multi-line strings; libyaml's emitter when PyYAML has it."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_yaml(data: Any) -> str:
    """YAML the way tabletop writes Prometheus files: block style, no line folding."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1 << 30)


def rule_data(rule: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {"alert": rule.alert} if rule.alert is not None else {"record": rule.record}
    out["expr"] = rule.expr
    if rule.for_:
        out["for"] = prom_duration(rule.for_)
    if rule.keep_firing_for:
        out["keep_firing_for"] = prom_duration(rule.keep_firing_for)
    if rule.labels:
        out["labels"] = dict(rule.labels)
    if rule.annotations:
        out["annotations"] = dict(rule.annotations)
    return out


def group_data(group: RuleGroup) -> dict[str, Any]:
    out: dict[str, Any] = {"name": group.name}
    if group.interval:
        out["interval"] = prom_duration(group.interval)
    if group.limit:
        out["limit"] = group.limit
    out["rules"] = [rule_data(rule) for rule in group.rules]
    return out


def rule_file_text(groups: Sequence[RuleGroup]) -> str:
    """One Prometheus rule file holding ``groups``; ValueError when two groups share a name
    (Prometheus needs group names unique within a file)."""
    repeated = sorted(name for name, count in Counter(g.name for g in groups).items() if count > 1)
    if repeated:
        names = ", ".join(repr(name) for name in repeated)
        raise ValueError(f"rule group names must be unique in one rule file; used more than once: {names}")
    return dump_yaml({"groups": [group_data(group) for group in groups]})
