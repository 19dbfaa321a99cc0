"""Validate YAML data against the file models and say, in plain words, what was expected.

Pydantic reports errors by ``loc``; a loc runs through union tags (``faults, 0, gpu_xid,
gpu``) that are not in the file. ``validate`` walks the type along the loc to drop those tags,
to find the model whose keys were expected, and then writes each error as a located Problem.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable, Mapping, Sequence, Sized
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from tabletop.scenario.problems import PathPart, Problem
from tabletop.scenario.yaml_source import Source

_UNSET: Any = object()
_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def validate(
    tp: Any, source: Source, path: Sequence[PathPart] = (), data: Any = _UNSET
) -> tuple[Any | None, list[Problem]]:
    """Validate ``data`` (default: the source's value at ``path``) as ``tp``, by alias.

    Returns the validated value, or None and the problems located in ``source``.
    """
    base = tuple(path)
    if data is _UNSET:
        data = source.data
        for part in base:
            data = data[part]
    adapter = _adapter(tp)
    try:
        return adapter.validate_python(data, by_alias=True, by_name=False), []
    except ValidationError as error:
        return None, problems_from(error, tp, source, base)
    except Exception as error:  # a validator choking on odd input must still give a located answer
        huge = list(_huge_numbers(data, base))
        if huge:
            return None, [source.problem(where, "the number is too large") for where in huge]
        return None, [source.problem(base, f"cannot read this value ({type(error).__name__}: {error})")]


def _huge_numbers(data: Any, path: tuple[PathPart, ...]) -> Iterable[tuple[PathPart, ...]]:
    """Paths of whole numbers too large to be a float (validators converting them overflow)."""
    if isinstance(data, int) and not isinstance(data, bool) and abs(data) > 1e308:
        yield path
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        yield from _huge_numbers(value, path + (key,))


def _adapter(tp: Any) -> TypeAdapter[Any]:
    try:
        adapter = _ADAPTERS.get(tp)
    except TypeError:  # an unhashable annotation: build it each time
        return TypeAdapter(tp)
    if adapter is None:
        adapter = _ADAPTERS[tp] = TypeAdapter(tp)
    return adapter


def did_you_mean(word: object, candidates: Iterable[str]) -> str | None:
    """The candidate ``word`` was most likely meant to be, if any is close."""
    if not isinstance(word, str) or not word:
        return None
    options = list(candidates)
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    if close:
        return lowered[close[0]]
    prefixed = [c for c in options if c.lower().startswith(word.lower())]
    return prefixed[0] if len(prefixed) == 1 else None


def hint(word: object, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` or nothing."""
    match = did_you_mean(word, candidates)
    return f" (did you mean {match!r}?)" if match else ""


def describe(value: Any) -> str:
    """A value the way it reads in YAML, for "got ..." messages."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (int, float)):
        return repr(value)
    return f"a {type(value).__name__}"


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else describe(value)


def one_of(values: Iterable[Any]) -> str:
    return ", ".join(_show(v) for v in values)


@dataclass(frozen=True)
class _Located:
    """One pydantic error mapped onto the file."""

    path: tuple[PathPart, ...]
    error: Mapping[str, Any]
    tp: Any
    """Type expected at ``path`` (unwrapped), when the walk could tell."""
    model: type[BaseModel] | None
    """Model whose key the last step of ``path`` is."""
    union: tuple[PathPart, ...] | None
    """Path of the undiscriminated union whose branch failed, if any."""


def problems_from(error: ValidationError, tp: Any, source: Source, base: tuple[PathPart, ...]) -> list[Problem]:
    """Each error of validating ``tp`` at ``base`` of ``source`` as a located problem."""
    located = [_locate(tp, e, base) for e in error.errors()]
    return list(dict.fromkeys(_problem(group, source) for group in _union_groups(located)))


def _locate(tp: Any, error: Mapping[str, Any], base: tuple[PathPart, ...]) -> _Located:
    path: list[PathPart] = list(base)
    model: type[BaseModel] | None = None
    union: tuple[PathPart, ...] | None = None
    for part in error["loc"]:
        tp = _unwrap(tp)
        members = _union_members(tp)
        if members:
            tp, tagged = _member(members, part)
            if not tagged:
                union = tuple(path)
            continue
        path.append(part)
        model, tp = _step(tp, part)
    return _Located(tuple(path), error, _unwrap(tp), model, union)


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``| None``."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType) and type(None) in get_args(tp):
            rest = [a for a in get_args(tp) if a is not type(None)]
            if len(rest) != 1:
                return Union[tuple(rest)]
            tp = rest[0]
        else:
            return tp


def _union_members(tp: Any) -> list[Any]:
    if get_origin(tp) in (Union, types.UnionType):
        return [_unwrap(a) for a in get_args(tp)]
    return []


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _member(members: list[Any], tag: PathPart) -> tuple[Any, bool]:
    """The union member a loc tag names, and whether the tag was a discriminator value."""
    for member in members:
        if _is_model(member) and any(tag in _literals(f.annotation) for f in member.model_fields.values()):
            return member, True
    for member in members:
        label = member.__name__ if _is_model(member) else getattr(get_origin(member), "__name__", None)
        if get_origin(member) is Literal:
            label = "literal"
        if label is None and isinstance(member, type):
            label = member.__name__
        if label and isinstance(tag, str) and (tag == label or tag.lower().startswith(label.lower() + "[")):
            return member, False
    return None, False


def _literals(tp: Any) -> tuple[Any, ...]:
    tp = _unwrap(tp)
    return get_args(tp) if get_origin(tp) is Literal else ()


def _step(tp: Any, part: PathPart) -> tuple[type[BaseModel] | None, Any]:
    """(model owning key ``part``, type of the value at ``part``) one level down from ``tp``."""
    if _is_model(tp):
        for name, field in tp.model_fields.items():
            if part in (field.alias, name):
                return tp, field.annotation
        return tp, None
    origin, args = get_origin(tp), get_args(tp)
    if origin in (list, set, frozenset) and args:
        return None, args[0]
    if origin is tuple and args:
        if len(args) == 2 and args[1] is Ellipsis:
            return None, args[0]
        return None, args[part] if isinstance(part, int) and part < len(args) else None
    if origin is dict and len(args) == 2:
        return None, args[1]
    return None, None


def _union_groups(located: list[_Located]) -> list[list[_Located]]:
    """Errors of an undiscriminated union's branches, grouped into one answer per union.

    When one branch got past the union (its errors are deeper), only that branch's errors count.
    """
    groups: dict[tuple[PathPart, ...], list[_Located]] = {}
    singles: list[list[_Located]] = []
    for item in located:
        if item.union is None:
            singles.append([item])
        else:
            groups.setdefault(item.union, []).append(item)
    for union, items in groups.items():
        deeper = [i for i in items if len(i.path) > len(union)]
        if deeper:
            singles.extend([i] for i in deeper)
        else:
            singles.append(items)
    return singles


def _problem(group: list[_Located], source: Source) -> Problem:
    first = group[0]
    if len(group) > 1:
        expected = " or ".join(dict.fromkeys(_expected(i) or i.error["msg"] for i in group))
        return source.problem(first.path, f"expected {expected}, got {describe(first.error['input'])}")
    kind = first.error["type"]
    if kind == "missing":
        return source.problem(first.path[:-1], f"missing required key {first.path[-1]!r}", key=True)
    if kind == "extra_forbidden":
        return source.problem(first.path, _unknown_key(first), key=True)
    if kind == "union_tag_invalid":
        return _unknown_tag(first, source)
    if kind == "union_tag_not_found":
        name = str(first.error["ctx"]["discriminator"]).strip("'")
        tags = _tags(first.tp, name)
        allowed = f" (one of {one_of(tags)})" if tags else ""
        return source.problem(first.path, f"missing required key {name!r}{allowed}", key=True)
    return source.problem(first.path, _message(first))


def _unknown_key(item: _Located) -> str:
    key = item.path[-1]
    if item.model is None:
        return f"unknown key {key!r}"
    allowed = [f.alias or name for name, f in item.model.model_fields.items()]
    return f"unknown key {key!r}{hint(key, allowed)}; allowed keys: {', '.join(allowed)}"


def _tags(tp: Any, discriminator: str) -> list[Any]:
    tags: list[Any] = []
    for member in _union_members(tp):
        field = member.model_fields.get(discriminator) if _is_model(member) else None
        if field is not None:
            tags.extend(_literals(field.annotation))
    return tags


def _unknown_tag(item: _Located, source: Source) -> Problem:
    ctx = item.error["ctx"]
    name = str(ctx["discriminator"]).strip("'")
    tag = ctx["tag"]
    tags = _tags(item.tp, name) or [t.strip("' ") for t in str(ctx["expected_tags"]).split(",")]
    message = f"unknown {name} {tag!r}{hint(tag, map(str, tags))}; expected one of {one_of(tags)}"
    return source.problem(item.path + (name,), message, key=False)


_EXPECTED = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
    "finite_number": "a finite number",
    "datetime_type": "a date and time",
    "datetime_parsing": "a date and time",
    "none_required": "an empty value",
}


def _expected(item: _Located) -> str | None:
    """What a type or literal error expected, as a phrase (``a whole number``)."""
    error = item.error
    kind = error["type"]
    if kind == "literal_error":
        values = _literals(item.tp) or (error.get("ctx", {}).get("expected"),)
        return _show(values[0]) if len(values) == 1 else f"one of {one_of(values)}"
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    ctx = error.get("ctx", {})
    bounds = {
        "greater_than": ("greater than", "gt"),
        "greater_than_equal": ("at least", "ge"),
        "less_than": ("less than", "lt"),
        "less_than_equal": ("at most", "le"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"a number {words} {_show(ctx.get(key))}"
    if kind == "too_short":
        return f"at least {_items(ctx.get('min_length'))}"
    if kind == "too_long":
        return f"at most {_items(ctx.get('max_length'))}"
    if kind == "string_pattern_mismatch":
        return f"text matching {ctx.get('pattern')}"
    return None


def _items(count: Any) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


def _message(item: _Located) -> str:
    error = item.error
    kind = error["type"]
    value = error["input"]
    if kind in ("value_error", "assertion_error"):
        return str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    expected = _expected(item)
    if expected is None:
        text = str(error["msg"])
        return f"{text[:1].lower()}{text[1:]}, got {describe(value)}"
    if kind in ("too_short", "too_long") and isinstance(value, Sized):
        got = _items(len(value))
    else:
        got = describe(value)
    message = f"expected {expected}, got {got}"
    if kind == "literal_error":
        message += hint(value, [str(v) for v in _literals(item.tp)])
    elif kind == "string_type" and isinstance(value, (int, float, bool)):
        message += " (write it in quotes to keep it as text)"
    return message
