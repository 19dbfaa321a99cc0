"""Timeline events as wrapped lines: exact widths, nothing lost, time and actor kept clear."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.style import Style

from tabletop.drill.timeline import Event
from tabletop.tui.event_strips import event_strips

BASE = Style(color="white", bgcolor="black")


def command(line: str, message: str, ok: bool = True, actor: str | None = "alice") -> Event:
    return Event(seq=1, t=3725, kind="command", data={"line": line, "ok": ok, "message": message}, actor=actor)


def test_a_long_command_wraps_under_itself() -> None:
    event = command("query sum(rate(http_requests_total{code=~\"5..\"}[5m])) by (pod)",
                    "pod=chat-llm-a 0.12; pod=chat-llm-b 0.34; pod=chat-llm-c 0.56")
    lines = [strip.text for strip in event_strips(event, 60, BASE)]
    assert lines[0].startswith("T+01:02:05 alice    $ query ")
    assert len(lines) > 2 and all(len(line) == 60 for line in lines)
    assert all(line.startswith(" " * 20) and line[20] != " " for line in lines[1:]), lines
    assert "".join("".join(line[20:] for line in lines).split()) == "".join((
        "$ query sum(rate(http_requests_total{code=~\"5..\"}[5m])) by (pod)  → "
        "pod=chat-llm-a 0.12; pod=chat-llm-b 0.34; pod=chat-llm-c 0.56").split())


def test_styles_sit_over_the_log_style() -> None:
    strips = event_strips(command("note x", "noted", ok=False), 50, BASE)
    styles = {segment.text.strip(): segment.style for segment in strips[0] if segment.text.strip()}
    assert styles["T+01:02:05"].dim and styles["T+01:02:05"].bgcolor == BASE.bgcolor
    assert styles["alice"].bold and styles["alice"].color.name == "cyan"
    refused = next(style for text, style in styles.items() if "refused" in text)
    assert refused.color.name == "red" and refused.bgcolor == BASE.bgcolor


def test_narrow_widths_wrap_the_whole_line_and_newlines_break() -> None:
    event = command("get pods", "NAME READY\nchat-llm-a 1/1", actor="bob")
    lines = [strip.text for strip in event_strips(event, 30, BASE)]
    assert all(len(line) == 30 for line in lines)
    # 10 columns beside the time and actor are too few: lines wrap under the whole line
    assert [line.rstrip() for line in lines] == ["T+01:02:05 bob      $ get pods", "→ NAME READY", "chat-llm-a 1/1"]


NARROW = "abcdefghij XYZ -_/{}=\"(),.;:→"
WIDE = "字é"  # a double-width character, and an accented one


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.sampled_from(NARROW + WIDE + "\n"), max_size=400), width=st.integers(min_value=1, max_value=120),
       actor=st.sampled_from([None, "alice", "a-very-long-actor"]), ok=st.booleans())
def test_every_line_is_exactly_the_width_and_nothing_is_lost(text: str, width: int, actor: str | None,
                                                               ok: bool) -> None:
    strips = event_strips(command(text, "done", ok=ok, actor=actor), width, BASE)
    assert all(strip.cell_length == width == cell_len(strip.text) for strip in strips)
    if width > 1:  # at one column a double-width character cannot be shown at all
        shown = "".join("".join(strip.text for strip in strips).split())
        assert shown.endswith("".join(f"$ {text}  {'→ done' if ok else '✗ refused: done'}".split())), (text, width)
