"""Replaying a recorded drill with its recorded commands, and comparing the two timelines."""

from __future__ import annotations

from pathlib import Path

from tabletop.drill.engine import Drill
from tabletop.drill.responders.scripted import RecordedResponder
from tabletop.drill.timeline import dumps
from tabletop.drill.timeline_reader import RecordedTimeline
from tabletop.scenario.loader import LoadedScenario


def replay_timeline(loaded: LoadedScenario, recorded: RecordedTimeline, out: Path | None = None) -> Drill:
    """Run the scenario again with the recording's seed and commands, up to where it ended."""
    header = recorded.header
    drill = Drill(loaded, seed=header.seed, responder=header.responder, timeline_path=out,
                  scenario_label=header.scenario_path, without_faults=header.without_faults,
                  paging=header.paging)
    RecordedResponder(recorded.events, header.responder).attach(drill)
    ended = next((e for e in recorded.events if e.kind == "drill.ended"), None)
    if ended is not None:
        drill.advance_to(ended.t)
        drill.run_queued()
        drill.end(ended.data.get("reason", "duration"))
    else:
        last = recorded.events[-1].t if recorded.events else 0.0
        drill.advance_to(last + 0.001)
        drill.timeline.close()
    return drill


def first_difference(recorded: RecordedTimeline, replayed: Drill) -> str | None:
    """Where the replayed timeline first differs from the recorded file, or None if identical."""
    expected = recorded.path.read_text(encoding="utf-8").split("\n")[:-1]  # last: "" or a cut-off line
    actual = [dumps(replayed.timeline.header.to_json())] + [dumps(e.to_json()) for e in replayed.timeline.events]
    if recorded.truncated or not any(e.kind == "drill.ended" for e in recorded.events):
        actual = actual[: len(expected)]
    for number, (want, got) in enumerate(zip(expected, actual), start=1):
        if want != got:
            return f"line {number}:\n  recorded: {want}\n  replayed: {got}"
    if len(expected) != len(actual):
        return f"line {min(len(expected), len(actual)) + 1}: recorded {len(expected)} lines, replayed {len(actual)}"
    return None
