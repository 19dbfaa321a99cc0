"""Reading a timeline file back, including one cut short by a crash."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tabletop.drill.timeline import FORMAT, Event, Header
from tabletop.scenario.problems import InputError, Problem


@dataclass(frozen=True)
class RecordedTimeline:
    header: Header
    events: list[Event]
    truncated: bool
    """The last line was incomplete (the drill was killed mid-write) and was left out."""
    path: Path


def _problem(path: Path, line: int, message: str) -> Problem:
    return Problem(file=str(path), line=line, column=1, path="", message=message)


def read_timeline(path: Path) -> RecordedTimeline:
    """Parse a timeline; raises InputError naming the line of anything malformed."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError([_problem(path, 1, f"cannot read the timeline: {error.strerror or error}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InputError([_problem(path, line, "not UTF-8 text; is this a timeline.jsonl?")]) from None
    lines = text.split("\n")
    truncated = False
    if lines and lines[-1] == "":
        lines.pop()
    elif lines:
        lines.pop()  # no final newline: the writer was interrupted inside this line
        truncated = True
    if not lines:
        raise InputError([_problem(path, 1, "empty timeline: expected a header line")])
    header = _header(path, lines[0])
    events: list[Event] = []
    problems: list[Problem] = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            obj = json.loads(line)
            event = Event(
                seq=int(obj["seq"]), t=float(obj["t"]), kind=str(obj["kind"]), data=dict(obj["data"]),
                actor=obj["actor"], at=str(obj["at"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            problems.append(_problem(path, number, f"not a timeline event ({error.__class__.__name__}: {error})"))
            continue
        if event.seq != len(events) + 1 + len(problems):
            problems.append(_problem(path, number, f"event seq {event.seq} out of order (expected {len(events) + 1 + len(problems)})"))
        events.append(event)
    if problems:
        raise InputError(problems)
    return RecordedTimeline(header, events, truncated, path)


def _header(path: Path, line: str) -> Header:
    try:
        obj = json.loads(line)
        if obj.get("kind") != "header":
            raise ValueError("the first line is not a header")
        if obj.get("format") != FORMAT:
            raise ValueError(f"format {obj.get('format')!r} is not {FORMAT!r}")
        scenario = obj["scenario"]
        return Header(
            scenario_id=str(scenario["id"]), scenario_path=str(scenario["path"]),
            scenario_sha256=str(scenario["sha256"]), seed=int(obj["seed"]), responder=str(obj["responder"]),
            start=str(obj["start"]), tabletop_version=str(obj["tabletop_version"]), format=obj["format"],
            without_faults=scenario.get("without_faults", False) is True, paging=_paging(obj),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise InputError([_problem(path, 1, f"not a tabletop timeline header: {error}")]) from None


PAGING = ("tabletop", "alertmanager")


def _paging(header: dict) -> str:
    paging = header.get("paging", "tabletop")
    if paging not in PAGING:
        raise ValueError(f"paging {paging!r} is not one of {', '.join(PAGING)}")
    return str(paging)
