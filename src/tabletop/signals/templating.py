"""The Go-template subset Prometheus rule labels and annotations use.

Supported: text, ``{{ ... }}`` actions with ``{{-``/``-}}`` trimming and ``{{/* comments */}}``;
``$labels.x``, ``.Labels.x``, ``$value``, ``.Value``, ``$externalLabels.x``,
``.ExternalLabels.x``, ``$externalURL``, ``.ExternalURL``; string and number literals;
pipelines and parenthesised pipelines; the functions humanize, humanize1024,
humanizePercentage, humanizeDuration, printf, toUpper, toLower and title. Anything else
(``if``, ``range``, ``query``, variables of one's own...) is reported by ``check_template``.
``render`` never raises: like Prometheus it renders ``<error expanding template: ...>``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from tabletop.signals.promql.gofloat import format_v, format_verb, parse_float


class TemplateError(ValueError):
    """A template that cannot be parsed, or a construct outside the supported subset."""


class _ExecError(Exception):
    """A failure while rendering (e.g. humanize of a label that is not a number), at the node
    Go's text/template reports: its text and character offset in the template."""

    def __init__(self, message: str, node: str = "", pos: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.node = node
        self.pos = pos


# ---------------------------------------------------------------------------------- parsing
@dataclass(frozen=True, slots=True)
class _Literal:
    value: object
    text: str
    """As written (what Go's error messages show); ``pos`` is its offset in the template."""
    pos: int


@dataclass(frozen=True, slots=True)
class _Ref:
    """``$labels.x``, ``.Value``...: a root value and the map keys to look up in it."""

    root: str
    keys: tuple[str, ...]
    text: str
    pos: int


@dataclass(frozen=True, slots=True)
class _Function:
    name: str
    pos: int

    @property
    def text(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class _Pipeline:
    commands: tuple[tuple[object, ...], ...]
    """Each command is a tuple of operands: literals, refs, a function, nested pipelines."""
    pos: int

    @property
    def text(self) -> str:
        return " | ".join(_command_text(command) for command in self.commands)


def _command_text(command: tuple[object, ...]) -> str:
    """A command as Go prints it in errors: operands joined by spaces, inner pipelines in parentheses."""
    return " ".join(f"({op.text})" if isinstance(op, _Pipeline) else op.text for op in command)  # type: ignore[attr-defined]


_VARIABLES = {
    "$": "",
    "$labels": "Labels",
    "$value": "Value",
    "$externalLabels": "ExternalLabels",
    "$externalURL": "ExternalURL",
}
_FIELDS = frozenset({"Labels", "Value", "ExternalLabels", "ExternalURL"})
_MAPS = frozenset({"Labels", "ExternalLabels"})
_KEYWORDS = frozenset(
    "if else end range with define template block break continue nil true false".split()
)
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"\\\n]|\\.)*")
    | (?P<raw>`[^`]*`)
    | (?P<number>[-+]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![\w.]))
    | (?P<var>\$\w*(?:\.\w+)*)
    | (?P<field>(?:\.\w+)+|\.)
    | (?P<ident>[A-Za-z_]\w*)
    | (?P<punct>:=|=|\||\(|\)|,)
    | (?P<bad>\S)
    )""",
    re.VERBOSE,
)
_ESCAPES = dict(zip('ntr"\\abfv', '\n\t\r"\\\a\b\f\v'))


def _unquote(literal: str) -> str:
    def escape(m: re.Match[str]) -> str:
        char = m.group(1)
        if char in _ESCAPES:
            return _ESCAPES[char]
        if char[0] in "xuU" and int(char[1:], 16) <= 0x10FFFF:
            return chr(int(char[1:], 16))
        raise TemplateError(f"invalid escape \\{char} in string {literal}")

    return re.sub(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", escape, literal[1:-1])


class _Parser:
    """Parses the inside of one action into a pipeline."""

    def __init__(self, source: str, offset: int = 0) -> None:
        """``source`` is the inside of an action starting at ``offset`` in the template."""
        self.tokens = [
            (m.lastgroup, m.group(m.lastgroup), offset + m.start(m.lastgroup))
            for m in _TOKEN.finditer(source)
            if m.lastgroup is not None
        ]
        self.pos = 0
        if any(kind == "punct" and text in (":=", "=") for kind, text, _ in self.tokens):
            raise TemplateError("declaring or assigning variables is not supported")

    def pipeline(self, closing: str | None = None, start: int = 0) -> _Pipeline:
        commands = []
        while True:
            command = []
            while self.pos < len(self.tokens):
                kind, text, at = self.tokens[self.pos]
                if kind == "punct" and text in ("|", ")"):
                    break
                self.pos += 1
                command.append(self._operand(kind, text, at))
            if not command:
                raise TemplateError("missing value for command")
            commands.append(tuple(command))
            if self.pos >= len(self.tokens):
                break
            kind, text, _ = self.tokens[self.pos]
            if text == ")":
                break
            self.pos += 1  # "|"
        if closing is not None:
            if self.pos >= len(self.tokens) or self.tokens[self.pos][1] != closing:
                raise TemplateError("unclosed left paren")
            self.pos += 1
        elif self.pos < len(self.tokens):
            raise TemplateError(f"unexpected {self.tokens[self.pos][1]!r}")
        return _Pipeline(tuple(commands), start)

    def _operand(self, kind: str | None, text: str, at: int) -> object:
        if kind == "string":
            return _Literal(_unquote(text), text, at)
        if kind == "raw":
            return _Literal(text[1:-1], text, at)
        if kind == "number":
            number = float.fromhex(text) if "x" in text.lower() else float(text)
            is_int = re.fullmatch(r"[-+]?(?:0[xX][0-9a-fA-F]+|\d+)", text) is not None
            return _Literal(int(number) if is_int else number, text, at)
        if kind == "var":
            name, _, rest = text.partition(".")
            if name not in _VARIABLES:
                raise TemplateError(f'undefined variable "{name}"')
            return self._ref(_VARIABLES[name], rest.split(".") if rest else [], text, at)
        if kind == "field":
            return self._ref("", [k for k in text.split(".") if k], text, at)
        if kind == "ident":
            if text in _KEYWORDS:
                raise TemplateError(f"{{{{{text}}}}} is not supported")
            if text not in FUNCTIONS:
                raise TemplateError(f'function "{text}" is not supported')
            return _Function(text, at)
        if text == "(":
            return self.pipeline(closing=")", start=at)
        raise TemplateError(f"unexpected {text!r} in command")

    def _ref(self, root: str, keys: list[str], text: str, at: int) -> _Ref:
        if not root:
            if not keys:
                return _Ref("", (), text, at)
            root, keys = keys[0], keys[1:]
            if root not in _FIELDS:
                raise TemplateError(f"can't evaluate field {root}")
        if keys and root not in _MAPS or len(keys) > 1:
            raise TemplateError(f"can't evaluate field {keys[-1]} of {root}")
        return _Ref(root, tuple(keys), text, at)


_ACTION = re.compile(r"\{\{(-[ \t\r\n])?(.*?)([ \t\r\n]-)?\}\}", re.DOTALL)


@lru_cache(maxsize=4096)
def _compile(text: str) -> tuple[object, ...]:
    """The checked template as a sequence of text strings and pipelines."""
    parts: list[object] = []
    pos = 0
    trim_next = False
    for m in _ACTION.finditer(text):
        chunk = text[pos : m.start()]
        if trim_next:
            chunk = chunk.lstrip(" \t\r\n")
        if m.group(1):
            chunk = chunk.rstrip(" \t\r\n")
        parts.append(chunk)
        body = m.group(2).strip()
        if not (body.startswith("/*") and body.endswith("*/")):
            pipeline = _Parser(m.group(2), m.start(2)).pipeline()
            _check(pipeline)
            parts.append(pipeline)
        trim_next = bool(m.group(3))
        pos = m.end()
    rest = text[pos:]
    if "{{" in rest:
        raise TemplateError("unclosed action")
    parts.append(rest.lstrip(" \t\r\n") if trim_next else rest)
    return tuple(p for p in parts if p != "")


def check_template(text: str) -> str | None:
    """Why ``text`` cannot be rendered, or None when it is within the supported subset."""
    try:
        _compile(text)
    except TemplateError as exc:
        return str(exc)
    return None


def _check(pipeline: _Pipeline) -> None:
    for i, command in enumerate(pipeline.commands):
        head = command[0]
        piped = 1 if i > 0 else 0
        if isinstance(head, _Function):
            low, high = _ARITY[head.name]
            count = len(command) - 1 + piped
            if count < low or (high is not None and count > high):
                raise TemplateError(f"wrong number of args for {head.name}: want {low} got {count}")
            if head.name == "printf" and len(command) > 1 and isinstance(command[1], _Literal):
                for verb in _VERB.findall(str(command[1].value)):
                    if verb[3] not in _PRINTF_VERBS:
                        raise TemplateError(f"printf verb %{verb[3]} is not supported")
        elif len(command) > 1 or piped:
            raise TemplateError("can't give argument to non-function")
        for operand in command:
            if isinstance(operand, _Pipeline):
                _check(operand)


# -------------------------------------------------------------------------------- rendering
_DEFS = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
"""What Prometheus puts before every alert template; positions in its errors count it."""
_STRING_PARAMS = {"toUpper": 1, "toLower": 1, "title": 1, "printf": 1}
"""How many leading parameters of a function are strings (Go checks their type before the call)."""


def render(
    text: str,
    labels: Mapping[str, str],
    value: float,
    external_labels: Mapping[str, str] | None = None,
    name: str | None = None,
) -> str:
    """``text`` expanded for one alert; ``<error expanding template: ...>`` when that fails.
    ``name`` is the template's name (Prometheus's is ``__alert_<alertname>``): with it, a
    failure reads as Prometheus's does, with its line, column and the failing command."""
    if "{{" not in text:
        return text
    data = {
        "Labels": dict(labels),
        "Value": value,
        "ExternalLabels": dict(external_labels or {}),
        "ExternalURL": "",
    }
    try:
        out = []
        for part in _compile(text):
            out.append(_print(_run(part, data)) if isinstance(part, _Pipeline) else str(part))
        return "".join(out)
    except TemplateError as exc:
        return f"<error expanding template: {exc}>"
    except _ExecError as exc:
        return f"<error expanding template: {_exec_message(exc, text, name)}>"


def _exec_message(exc: _ExecError, text: str, name: str | None) -> str:
    """Go's ExecError text: the position is a byte offset (0-based) in its line."""
    if name is None:
        return exc.message
    before = (_DEFS + text[: exc.pos]).encode()
    line = before.count(b"\n") + 1
    column = len(before) - (before.rfind(b"\n") + 1)
    return (f"error executing template {name}: template: {name}:{line}:{column}: "
            f'executing "{name}" at <{exc.node}>: {exc.message}')


def _run(pipeline: _Pipeline, data: dict[str, object]) -> object:
    result: object = None
    for i, command in enumerate(pipeline.commands):
        head = command[0]
        if not isinstance(head, _Function):
            result = _value(head, data)
            continue
        strings = _STRING_PARAMS.get(head.name, 0)
        args = [_argument(operand, data, j < strings) for j, operand in enumerate(command[1:])]
        if i > 0:
            if len(args) < strings and not isinstance(result, str):
                raise _ExecError(f"wrong type for value; expected string; got {_type(result)}", head.text, head.pos)
            args.append(result)
        try:
            result = FUNCTIONS[head.name](*args)
        except _ExecError as exc:
            raise _ExecError(f"error calling {head.name}: {exc.message}", _command_text(command), head.pos) from None
    return result


def _argument(operand: object, data: dict[str, object], string: bool) -> object:
    """An argument's value; a string parameter given something else fails as Go's does."""
    value = _value(operand, data)
    if string and not isinstance(value, str):
        if isinstance(operand, _Literal):
            raise _ExecError(f"expected string; found {operand.text}", operand.text, operand.pos)
        node: _Ref | _Pipeline = operand  # type: ignore[assignment]
        raise _ExecError(f"wrong type for value; expected string; got {_type(value)}", node.text, node.pos)
    return value


def _value(operand: object, data: dict[str, object]) -> object:
    if isinstance(operand, _Literal):
        return operand.value
    if isinstance(operand, _Pipeline):
        return _run(operand, data)
    assert isinstance(operand, _Ref)
    if not operand.root:
        return data
    value = data[operand.root]
    if operand.keys:
        return value.get(operand.keys[0], "")
    return value


def _type(value: object) -> str:
    return {str: "string", float: "float64", int: "int", dict: "map[string]string"}.get(
        type(value), type(value).__name__
    )


def _print(value: object) -> str:
    """Go's ``fmt.Print`` of a template value."""
    if isinstance(value, float):
        return format_v(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_print(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)


# -------------------------------------------------------------------------------- functions
def _to_float(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _ExecError(f"can't convert {_type(value)} to float")
    if isinstance(value, str):
        number = parse_float(value)
        if number is None:
            raise _ExecError(f'strconv.ParseFloat: parsing "{value}": invalid syntax')
        return number
    return float(value)


def _g4(v: float) -> str:
    return format_verb(v, ".4g")


def _scaled(v: float, prefixes: str, base: float) -> str:
    prefix = ""
    for p in prefixes.split():
        if abs(v) < base:
            break
        prefix = p
        v /= base
    return _g4(v) + prefix


def _small(v: float, suffix: str = "") -> str:
    prefix = ""
    for p in "m u n p f a z y".split():
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return _g4(v) + prefix + suffix


def humanize(value: object) -> str:
    v = _to_float(value)
    if v == 0 or not math.isfinite(v):
        return _g4(v)
    if abs(v) >= 1:
        return _scaled(v, "k M G T P E Z Y", 1000.0)
    return _small(v)


def humanize1024(value: object) -> str:
    v = _to_float(value)
    if abs(v) <= 1 or not math.isfinite(v):
        return _g4(v)
    return _scaled(v, "ki Mi Gi Ti Pi Ei Zi Yi", 1024.0)


def _go_quo(a: int, b: int) -> int:
    """Go's integer division: truncates toward zero."""
    return -(-a // b) if a < 0 else a // b


def _go_rem(a: int, b: int) -> int:
    return a - b * _go_quo(a, b)


def humanize_duration(value: object) -> str:
    v = _to_float(value)
    if not math.isfinite(v):
        return _g4(v)
    if v == 0:
        return _g4(v) + "s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        total = int(v) if v < 2.0**63 else -(2**63)  # Go's int64(v) on amd64 when v overflows
        seconds, minutes = _go_rem(total, 60), _go_rem(_go_quo(total, 60), 60)
        hours, days = _go_rem(_go_quo(total, 3600), 24), _go_quo(total, 86400)
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(v)}s"
    return _small(v, "s")


def humanize_percentage(value: object) -> str:
    return _g4(_to_float(value) * 100) + "%"


def _separator(char: str) -> bool:
    if char.isascii():
        return not (char.isalnum() or char == "_")
    return not char.isalnum() and char.isspace()


def _map_runes(value: str, case: Callable[[str], str]) -> str:
    """Go's ``strings.ToUpper``/``ToLower``: one character for one (``ß`` stays ``ß``)."""
    return "".join(c if len(mapped := case(c)) != 1 else mapped for c in value)


def _title(value: str) -> str:
    """Go's ``strings.Title``: upper-case each letter that follows a separator."""
    out = []
    previous = " "
    for char in value:
        out.append(char.upper() if _separator(previous) and len(char.upper()) == 1 else char)
        previous = char
    return "".join(out)


_VERB = re.compile(r"%([-+# 0]*)(\d*)(?:\.(\d*))?([a-zA-Z%])")
_PRINTF_VERBS = frozenset("svdxXofFeEgGq%")


def printf(text: str, *args: object) -> str:
    """Go's ``fmt.Sprintf`` for the verbs alert templates use: %s %v %d %x %o %f %e %g %q %%."""
    remaining = list(args)

    def verb(m: re.Match[str]) -> str:
        flags, width, precision, letter = m.groups()
        if letter == "%":
            return "%"
        if not remaining:
            return f"%!{letter}(MISSING)"
        arg = remaining.pop(0)
        spec = flags + width + ("." + precision if precision is not None else "")
        return _format(arg, letter, spec, flags, width)

    out = _VERB.sub(verb, text)
    if remaining:
        out += "%!(EXTRA " + ", ".join(f"{_type(a)}={_print(a)}" for a in remaining) + ")"
    return out


def _pad(text: str, flags: str, width: str) -> str:
    if not width:
        return text
    return text.ljust(int(width)) if "-" in flags else text.rjust(int(width))


def _format(arg: object, letter: str, spec: str, flags: str, width: str) -> str:
    if isinstance(arg, float) and (letter == "v" or letter in "gG" and "." not in spec):
        text = format_v(arg)  # Go's %g without a precision: the shortest exact digits
        if "+" in flags and text[0] not in "+-":
            text = "+" + text
        return _pad(text.replace("e", "E") if letter == "G" else text, flags, width)
    if isinstance(arg, float) and letter in "eEfFgG":
        return _pad(format_verb(arg, spec + letter), flags, width)
    if isinstance(arg, int) and letter in "dvxXo":
        return ("%" + spec + ("d" if letter == "v" else letter)) % arg
    if isinstance(arg, str) and letter in "sv":
        precision = spec.partition(".")[2]
        return _pad(arg[: int(precision)] if precision else arg, flags, width)
    if isinstance(arg, str) and letter == "q":
        return _pad('"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"', flags, width)
    return f"%!{letter}({_type(arg)}={_print(arg)})"


FUNCTIONS: dict[str, Callable[..., str]] = {
    "humanize": humanize,
    "humanize1024": humanize1024,
    "humanizeDuration": humanize_duration,
    "humanizePercentage": humanize_percentage,
    "printf": printf,
    "toUpper": lambda v: _map_runes(v, str.upper),
    "toLower": lambda v: _map_runes(v, str.lower),
    "title": _title,
}
_ARITY: dict[str, tuple[int, int | None]] = {name: (1, 1) for name in FUNCTIONS}
_ARITY["printf"] = (1, None)
