"""YAML loading that remembers where every key and value was written.

``parse_yaml`` composes the document into PyYAML nodes (safe-loader resolution, with libyaml's
parser when PyYAML has it: it is some twenty times faster and refuses nesting deeper than 1000)
and builds the plain data from them itself, so that it can record the line and column of each
key and value by key path, refuse what PyYAML would silently accept (duplicate keys, non-string
keys) and stop documents that expand beyond reason (alias bombs, huge or deeply nested files).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tabletop.scenario.problems import PathPart, Problem, Severity, format_path

MAX_BYTES = 1 << 20
"""Largest input file read (1 MiB); scenarios are a few kilobytes."""
MAX_VALUES = 100_000
"""Most values built from one document once aliases are expanded (stops alias bombs)."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and lists."""

Path_ = tuple[PathPart, ...]
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Span:
    """Where one value sits in the file: its key (the item itself for list items) and value."""

    key_line: int
    key_column: int
    line: int
    column: int
    start: int
    """Character offset of the value in the text, and of its end."""
    end: int
    collection: bool
    """A mapping or a list."""


class Source:
    """A parsed YAML file: its data and the position of every value by key path."""

    def __init__(self, file: str, text: str, data: Any, spans: dict[Path_, Span]) -> None:
        self.file = file
        self.text = text
        self.data = data
        self.spans = spans

    def span(self, path: Sequence[PathPart]) -> tuple[Path_, Span]:
        """The span of ``path``, or of its longest prefix that exists in the file."""
        path = tuple(path)
        while path not in self.spans:
            path = path[:-1]
        return path, self.spans[path]

    def position(self, path: Sequence[PathPart], key: bool | None = None) -> tuple[int, int]:
        """Line and column for a problem at ``path``.

        ``key`` True: the key; False: the value; None: the key for mappings, lists (whose
        value starts on a later line) and empty values, the value for other scalars. A path
        that is not in the file (a missing key) is located at the key of its nearest parent.
        """
        found, span = self.span(path)
        at_key = span.collection or span.start == span.end  # an empty value has no place of its own
        if found != tuple(path) or key or (key is None and at_key):
            return span.key_line, span.key_column
        return span.line, span.column

    def offset_position(self, path: Sequence[PathPart], offset: int) -> tuple[int, int]:
        """Line and column of character ``offset`` (0-based) of the string value at ``path``.

        Exact for plain, quoted and literal (``|``) one-line or multi-line scalars without
        escapes; folded text is followed by matching its characters against the source.
        """
        found, span = self.span(path)
        value = _value_at(self.data, found)
        if found != tuple(path) or not isinstance(value, str) or span.collection:
            return self.position(path)
        index = _align(self.text, span.start, span.end, value, max(0, offset))
        return line_column(self.text, index)

    def problem(
        self,
        path: Sequence[PathPart],
        message: str,
        *,
        key: bool | None = None,
        severity: Severity = "error",
    ) -> Problem:
        line, column = self.position(path, key)
        return Problem(self.file, line, column, format_path(path), message, severity)



def _value_at(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


def _align(text: str, start: int, end: int, value: str, offset: int) -> int:
    """Index in ``text[start:end]`` of the source character that became ``value[offset]``."""
    i, j = start, 0
    offset = min(offset, len(value))
    header = re.match(r"[|>][-+0-9]*[ \t]*(#[^\n]*)?\n", text[start:end])
    if header:
        i += header.end()
    while j < offset and i < end:
        if value[j].isspace() and text[i].isspace():
            while j < offset and value[j].isspace():
                j += 1
            while i < end and text[i].isspace():
                i += 1
        elif value[j] == text[i]:
            i, j = i + 1, j + 1
        else:
            i += 1  # a quote, an escape or indentation the value does not keep
    # step over what comes before the character itself: a quote, a line break, indentation
    while i < end and j < len(value) and text[i] in " \t\n'\"" and text[i] != value[j]:
        i += 1
    return min(i, max(start, end - 1)) if end > start else start


def line_column(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of character ``index`` of ``text``."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def read_file(path: Path) -> tuple[bytes | None, str | None]:
    """The bytes of a file (at most MAX_BYTES + 1 of them), or why it cannot be read."""
    try:
        if path.is_dir():
            return None, "a directory, not a file"
        with path.open("rb") as handle:
            return handle.read(MAX_BYTES + 1), None
    except FileNotFoundError:
        return None, "file not found"
    except PermissionError:
        return None, "permission denied"
    except (OSError, ValueError) as error:
        return None, f"cannot read the file ({getattr(error, 'strerror', None) or error})"


def decode(data: bytes, file: str) -> tuple[str | None, list[Problem]]:
    """UTF-8 text of a file, or a located problem naming the first bad byte or the size."""
    if len(data) > MAX_BYTES:
        return None, [Problem(file, 1, 1, "", f"the file is larger than {MAX_BYTES >> 20} MiB; input files are small text files")]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        message = f"the file is not UTF-8 text (byte 0x{data[error.start]:02x} cannot be decoded)"
        return None, [Problem(file, line, column, "", message)]


def parse_yaml(data: bytes | str, file: str) -> tuple[Source | None, list[Problem]]:
    """Parse one YAML document whose top level must be a mapping.

    Returns the source (None when nothing usable was read) and every problem found.
    """
    if isinstance(data, bytes):
        text, problems = decode(data, file)
        if text is None:
            return None, problems
    else:
        text = data
        if len(text) > MAX_BYTES:
            return None, [Problem(file, 1, 1, "", f"the file is larger than {MAX_BYTES >> 20} MiB; input files are small text files")]
    try:
        loader = _LOADER(text)
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        return None, [_syntax_problem(file, text, error)]
    except yaml.reader.ReaderError as error:
        line, column = line_column(text, error.position)
        code = ord(error.character) if isinstance(error.character, str) else error.character
        return None, [Problem(file, line, column, "", f"character U+{code:04X} is not allowed in YAML text")]
    except RecursionError:  # PyYAML's own composer recurses once per level
        return None, [Problem(file, 1, 1, "", f"the document is nested more than {MAX_DEPTH} levels deep")]
    if root is None:
        return None, [Problem(file, 1, 1, "", "the file is empty; expected a YAML mapping (key: value lines)")]
    builder = _Builder(file, loader)
    data_ = builder.build(root, (), None)
    if builder.stopped:
        return None, builder.problems
    if not isinstance(root, MappingNode):
        line, column = root.start_mark.line + 1, root.start_mark.column + 1
        return None, [Problem(file, line, column, "", f"expected a mapping (key: value lines) at the top level, got {_node_kind(root)}")]
    return Source(file, text, data_, builder.spans), builder.problems


_PLAIN = {
    "did not find expected key": "expected a key here (check the indentation)",
    "did not find expected '-' indicator": "expected a list item '-' here (check the indentation)",
    "did not find expected ',' or ']'": "expected ',' or ']' (is the list closed?)",
    "did not find expected ',' or '}'": "expected ',' or '}' (is the mapping closed?)",
}
"""libyaml's terse messages in plainer words."""
_TOKENS = {  # PyYAML's names of tokens
    "<block end>": "the end of the indented block",
    "<block mapping start>": "a new indented mapping",
    "<block sequence start>": "a new indented list",
    "<stream end>": "the end of the file",
    "<document start>": "'---'",
    "<document end>": "'...'",
    "<scalar>": "a value",
    "<block entry>": "a list item '-'",
}


def _syntax_problem(file: str, text: str, error: yaml.MarkedYAMLError) -> Problem:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return Problem(file, line, column, "", f"YAML syntax: {_syntax_message(text, error)}")


def _syntax_message(text: str, error: yaml.MarkedYAMLError) -> str:
    """PyYAML's or libyaml's message, in plain words where they are obscure."""
    problem = error.problem or error.context or "invalid YAML"
    mark = error.problem_mark
    at = text[mark.index:] if mark is not None and 0 <= mark.index < len(text) else ""
    if "tab" in problem or at.startswith("\t"):
        return "a tab character; YAML must be indented with spaces, not tabs"
    if problem.startswith("mapping values are not allowed"):
        return "unexpected ':' (quote a value that contains ': ', or check the indentation)"
    if problem.startswith("found undefined alias"):
        name = re.match(r"\*([^\s,\[\]{}]*)", at)
        alias = name.group(1) if name else "?"
        return f"alias *{alias} has no anchor &{alias} before it"
    if error.context == "expected a single document in the stream":
        return "expected a single YAML document, found a second one ('---')"
    message = _PLAIN.get(problem, problem)
    for token, words in _TOKENS.items():
        message = message.replace(f"'{token}'", words).replace(token, words)
    if error.context and error.context_mark and error.context_mark is not error.problem_mark:
        thing = re.sub(r"^while (parsing|scanning|increasing) (an? )?", "", error.context)
        context = error.context_mark
        message += f" (in the {thing} that starts at line {context.line + 1}, column {context.column + 1})"
    return message


def _node_kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return f"the value {node.value!r}" if node.value else "an empty value"


_KEY_KINDS = {"int": "a number", "float": "a number", "bool": "a boolean", "NoneType": "null", "date": "a date", "datetime": "a time", "bytes": "binary data"}


class _Builder:
    """Builds plain data from composed nodes, recording spans and problems."""

    def __init__(self, file: str, loader: Any) -> None:
        self.file = file
        self.loader = loader
        self.spans: dict[Path_, Span] = {}
        self.problems: list[Problem] = []
        self.values = 0
        self.stopped = False
        """A limit was hit: the data is incomplete."""
        self._active: set[int] = set()

    def stop(self, node: Node, message: str) -> None:
        self.stopped = True
        self.problems = [Problem(self.file, node.start_mark.line + 1, node.start_mark.column + 1, "", message)]

    def problem(self, node: Node, path: Path_, message: str) -> None:
        self.problems.append(Problem(self.file, node.start_mark.line + 1, node.start_mark.column + 1, format_path(path), message))

    def build(self, node: Node, path: Path_, key_node: Node | None) -> Any:
        self.values += 1
        if self.stopped:
            return None
        if self.values > MAX_VALUES:
            return self.stop(node, f"the document has more than {MAX_VALUES} values once aliases are expanded")
        if len(path) > MAX_DEPTH:
            return self.stop(node, f"the document is nested more than {MAX_DEPTH} levels deep")
        if id(node) in self._active:
            self.problem(node, path, "an alias refers to the value that contains it (recursive alias)")
            return None
        anchor = key_node if key_node is not None else node
        self.spans[path] = Span(
            anchor.start_mark.line + 1, anchor.start_mark.column + 1,
            node.start_mark.line + 1, node.start_mark.column + 1,
            node.start_mark.index, node.end_mark.index,
            not isinstance(node, ScalarNode),
        )
        self._active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
            if isinstance(node, SequenceNode):
                if node.tag != _SEQ_TAG:
                    self.problem(node, path, f"unsupported YAML tag {node.tag!r} on a list")
                return [self.build(item, path + (index,), None) for index, item in enumerate(node.value)]
            return self._scalar(node, path)
        finally:
            self._active.discard(id(node))

    def _scalar(self, node: ScalarNode, path: Path_) -> Any:
        try:
            return self.loader.construct_object(node)
        except yaml.constructor.ConstructorError as error:
            message = error.problem or "cannot read this value"
            if "could not determine a constructor" in message:
                message = f"unsupported YAML tag {node.tag!r}"
            self.problem(node, path, message)
        except (ValueError, TypeError, OverflowError, ArithmeticError) as error:
            self.problem(node, path, f"{node.value!r} cannot be read as !!{node.tag.rpartition(':')[2]} ({error})")
        return None

    def _mapping(self, node: MappingNode, path: Path_) -> dict[str, Any]:
        if node.tag != _MAP_TAG:
            self.problem(node, path, f"unsupported YAML tag {node.tag!r} on a mapping")
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            key = self._key(key_node, path)
            if key is None:
                continue
            if key in result:
                self.problem(key_node, path + (key,), f"duplicate key {key!r} (first written at line {first_line[key]})")
                continue
            first_line[key] = key_node.start_mark.line + 1
            result[key] = self.build(value_node, path + (key,), key_node)
        for merge in merges:
            self._merge(merge, path, result)
        return result

    def _key(self, key_node: Node, path: Path_) -> str | None:
        if not isinstance(key_node, ScalarNode):
            self.problem(key_node, path, f"a key must be a plain string, not {_node_kind(key_node)}")
            return None
        key = self._scalar(key_node, path)
        if isinstance(key, str):
            return key
        if key_node.value or key_node.style:
            kind = _KEY_KINDS.get(type(key).__name__, type(key).__name__)
            self.problem(key_node, path, f"key {key_node.value} is read as {kind}, not a string; write it in quotes: \"{key_node.value}\"")
        else:
            self.problem(key_node, path, "a key is empty")
        return None

    def _merge(self, value: Node, path: Path_, result: dict[str, Any]) -> None:
        """``<<: *base`` / ``<<: [*a, *b]``: keys not written here come from the merged mappings."""
        sources = value.value if isinstance(value, SequenceNode) else [value]
        for source in sources:
            if not isinstance(source, MappingNode):
                self.problem(source, path, "'<<' merges a mapping or a list of mappings")
                continue
            if id(source) in self._active:
                self.problem(source, path, "'<<' merges the mapping that contains it (recursive alias)")
                continue
            self._active.add(id(source))
            for key_node, value_node in source.value:
                if key_node.tag == _MERGE_TAG:
                    self._merge(value_node, path, result)
                    continue
                key = self._key(key_node, path)
                if key is not None and key not in result:
                    result[key] = self.build(value_node, path + (key,), key_node)
            self._active.discard(id(source))
