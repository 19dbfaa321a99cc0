"""Markdown runbooks: numbered steps, some of which carry commands the responder can run.

A step is a top-level numbered list item (``1. ...``) with its indented continuation lines.
Commands inside a step are recognised from their form:

- a fenced code block tagged ``promql``: a query (``query <expr>``);
- a code span or fenced block starting with ``kubectl ``: a kubectl command (drain, cordon,
  delete pod, rollout undo/restart, scale, get, describe, logs);
- a code span starting with ``tabletop ``: any tabletop command line.

``<name>`` placeholders in commands are filled when the step is run (``step 4 node=gpu-a-1``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_STEP = re.compile(r"^(\d+)\.\s+(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)\s*([\w-]*)\s*$")
_SPAN = re.compile(r"`([^`]+)`")
_PLACEHOLDER = re.compile(r"<([a-zA-Z_][a-zA-Z0-9_-]*)>")
_TITLE_MARKUP = re.compile(r"[*_`]")
_BOLD_LEAD = re.compile(r"^\*\*(.+?)\*\*")


@dataclass(frozen=True)
class StepCommand:
    line: str
    """Command line in the tabletop command language, possibly with ``<placeholders>``."""
    source_line: int

    @property
    def placeholders(self) -> list[str]:
        return list(dict.fromkeys(_PLACEHOLDER.findall(self.line)))

    def fill(self, values: dict[str, object]) -> str:
        return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), self.line)


@dataclass(frozen=True)
class RunbookStep:
    number: int
    title: str
    text: str
    line: int
    commands: tuple[StepCommand, ...] = ()

    @property
    def placeholders(self) -> list[str]:
        return list(dict.fromkeys(p for c in self.commands for p in c.placeholders))


@dataclass(frozen=True)
class Runbook:
    id: str
    title: str
    path: Path
    text: str
    steps: tuple[RunbookStep, ...] = field(default_factory=tuple)

    def step(self, number: int) -> RunbookStep | None:
        return next((s for s in self.steps if s.number == number), None)


@dataclass(frozen=True)
class RunbookProblem:
    line: int
    column: int
    message: str


def parse_runbook(path: Path, text: str) -> tuple[Runbook, list[RunbookProblem]]:
    """Parse a runbook; problems name the line of each malformed step or command."""
    lines = text.splitlines()
    problems: list[RunbookProblem] = []
    title = next((ln[2:].strip() for ln in lines if ln.startswith("# ")), "")
    if not title:
        problems.append(RunbookProblem(1, 1, "a runbook needs a '# Title' line"))
    raw_steps: list[tuple[int, int, list[str]]] = []  # (number, line, lines)
    open_step: list[str] | None = None
    for index, line in enumerate(lines, start=1):
        match = _STEP.match(line)
        if match:
            open_step = [match.group(2)]
            raw_steps.append((int(match.group(1)), index, open_step))
        elif open_step is not None and (not line.strip() or line.startswith((" ", "\t"))):
            open_step.append(line)
        else:
            open_step = None
    steps: list[RunbookStep] = []
    for number, line_no, body in raw_steps:
        expected = len(steps) + 1
        if number != expected:
            problems.append(RunbookProblem(line_no, 1, f"step {number}: steps must be numbered 1, 2, 3, ... (expected {expected})"))
        commands = _commands(body, line_no)
        steps.append(RunbookStep(number, _step_title(body[0]), "\n".join(body).strip(), line_no, tuple(commands)))
    if not steps:
        problems.append(RunbookProblem(1, 1, "a runbook needs numbered steps ('1. ...')"))
    return Runbook(path.stem, title, path, text, tuple(steps)), problems


def _step_title(first_line: str) -> str:
    """The bold lead of a step (``**Drain the node.**``), else its first sentence."""
    bold = _BOLD_LEAD.match(first_line)
    text = bold.group(1) if bold else re.split(r"[:.](?:\s|$)", first_line, maxsplit=1)[0]
    return _TITLE_MARKUP.sub("", text).strip().rstrip(".:") or first_line.strip()


def _commands(body: list[str], first_line: int) -> list[StepCommand]:
    commands: list[StepCommand] = []
    fence: tuple[str, str, int] | None = None
    block: list[str] = []
    for offset, line in enumerate(body):
        line_no = first_line + offset
        fence_match = _FENCE.match(line)
        if fence is None and fence_match:
            fence, block = (fence_match.group(1), fence_match.group(2).lower(), line_no), []
            continue
        if fence is not None:
            if line.strip() == fence[0]:
                content = " ".join(part.strip() for part in block if part.strip())
                if fence[1] == "promql" and content:
                    commands.append(StepCommand(f"query {content}", fence[2]))
                elif content.startswith(("kubectl ", "tabletop ")):
                    commands.append(StepCommand(content.removeprefix("tabletop "), fence[2]))
                fence = None
            else:
                block.append(line)
            continue
        for span in _SPAN.findall(line):
            span = span.strip()
            if span.startswith("kubectl "):
                commands.append(StepCommand(span, line_no))
            elif span.startswith("tabletop "):
                commands.append(StepCommand(span.removeprefix("tabletop "), line_no))
    return commands


def load_runbook(path: Path) -> tuple[Runbook, list[RunbookProblem]]:
    return parse_runbook(path, path.read_text(encoding="utf-8"))
