"""Label selectors (``app=x,tier in (a,b),!canary``) and field selectors (``spec.nodeName=n``).

Parsed once per request, matched against each object's labels or selectable fields. A malformed
selector, or a field the resource does not index, raises ``SelectorError`` (a 400 for the API).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass


class SelectorError(ValueError):
    pass


def _split(text: str) -> list[str]:
    """Split at commas outside parentheses."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET = re.compile(rf"^(?P<key>{_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")
_BINARY = re.compile(rf"^(?P<key>{_KEY})\s*(?P<op>==|!=|=|>|<)\s*(?P<value>\S*)$")
_EXISTS = re.compile(rf"^(?P<not>!)?\s*(?P<key>{_KEY})$")
_VALUE_RE = re.compile(rf"^{_VALUE}$")

Test = Callable[[Mapping[str, str]], bool]


def _number(value: str, requirement: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise SelectorError(f"unable to parse requirement: {requirement!r}: for 'gt', 'lt' operators, "
                            f"the value must be an integer") from None


def _requirement(text: str) -> Test:
    if match := _SET.match(text):
        key, values = match["key"], {v.strip() for v in match["values"].split(",") if v.strip()}
        if not values or any(not _VALUE_RE.match(v) for v in values):
            raise SelectorError(f"unable to parse requirement: {text!r}: values must be a non-empty list of valid label values")
        if match["op"] == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if match := _BINARY.match(text):
        key, op, value = match["key"], match["op"], match["value"]
        if op in (">", "<"):
            bound = _number(value, text)

            def compare(labels: Mapping[str, str]) -> bool:
                try:
                    have = int(labels[key])
                except (KeyError, ValueError):
                    return False
                return have > bound if op == ">" else have < bound

            return compare
        if not _VALUE_RE.match(value):
            raise SelectorError(f"unable to parse requirement: {text!r}: invalid label value {value!r}")
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if match := _EXISTS.match(text):
        key = match["key"]
        if match["not"]:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise SelectorError(f"unable to parse requirement: {text!r}")


@dataclass(frozen=True)
class LabelSelector:
    text: str
    tests: tuple[Test, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(test(labels) for test in self.tests)


def label_selector(text: str | None) -> LabelSelector | None:
    if not text or not text.strip():
        return None
    return LabelSelector(text, tuple(_requirement(part) for part in _split(text)))


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


@dataclass(frozen=True)
class FieldSelector:
    terms: tuple[tuple[str, bool, str], ...]
    """(field, equal, value)."""

    def matches(self, fields: Mapping[str, str]) -> bool:
        return all((fields.get(field, "") == value) == equal for field, equal, value in self.terms)


def field_selector(text: str | None, allowed: frozenset[str], kind: str) -> FieldSelector | None:
    if not text or not text.strip():
        return None
    terms = []
    for part in re.split(r"(?<!\\),", text):
        part = part.strip()
        if not part:
            continue
        match = re.match(r"^([^=!]+?)\s*(==|!=|=)\s*(.*)$", part)
        if match is None:
            raise SelectorError(f"invalid selector: {text!r}; can't understand {part!r}")
        field, op, value = match.groups()
        field = field.strip()
        if field not in allowed:
            raise SelectorError(f'field label not supported: {field}' + (f" (for {kind})" if kind else ""))
        terms.append((field, op != "!=", _unescape(value.strip())))
    return FieldSelector(tuple(terms))
