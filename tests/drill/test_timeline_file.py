"""The timeline file: canonical lines, flushed as written, read back after crashes, located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tabletop.drill.timeline import Header, Timeline
from tabletop.drill.timeline_reader import read_timeline
from tabletop.scenario.problems import InputError

HEADER = Header("s", "scenarios/s.yaml", "ab" * 32, 3, "expert", "2026-03-17T08:35:00Z", "0.1.0")


def write(path: Path, events: int = 3) -> Timeline:
    timeline = Timeline(HEADER, path)
    for n in range(events):
        timeline.append(60.0 * n + 0.0004, "note", {"text": f"n{n}", "ratio": 1 / 3, "whole": 2.0}, "alice")
    return timeline


def test_lines_are_canonical_and_on_disk_before_close(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    timeline = write(path)
    lines = path.read_text().splitlines()  # not closed yet: every line is already flushed
    assert lines == timeline.lines()
    assert lines[1] == ('{"actor":"alice","at":"2026-03-17T08:35:00.000Z","data":{"ratio":0.333333,"text":"n0","whole":2},'
                        '"kind":"note","seq":1,"t":0}')
    recorded = read_timeline(path)
    assert recorded.header == HEADER and [e.seq for e in recorded.events] == [1, 2, 3] and not recorded.truncated


def test_a_line_cut_short_by_a_crash_is_left_out(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    write(path)
    text = path.read_text()
    path.write_text(text[: len(text) - 20])
    recorded = read_timeline(path)
    assert recorded.truncated and [e.seq for e in recorded.events] == [1, 2]


@pytest.mark.parametrize(
    ("mangle", "line", "message"),
    [
        (lambda lines: lines[:2] + ["not json"] + lines[3:], 3, "not a timeline event"),
        (lambda lines: [lines[0], lines[2], lines[1], lines[3]], 2, "out of order"),
        (lambda lines: ['{"kind":"note"}'] + lines[1:], 1, "not a tabletop timeline header"),
        (lambda lines: [], 1, "empty timeline"),
    ],
)
def test_malformed_timelines_are_located(tmp_path: Path, mangle, line: int, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "t.jsonl"
    write(path)
    lines = mangle(path.read_text().splitlines())
    path.write_text("".join(f"{l}\n" for l in lines))
    with pytest.raises(InputError) as raised:
        read_timeline(path)
    problem = raised.value.problems[0]
    assert problem.file == str(path) and problem.line == line and message in problem.message


def test_unreadable_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_timeline(tmp_path / "missing.jsonl")
    binary = tmp_path / "b.jsonl"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="not UTF-8"):
        read_timeline(binary)
