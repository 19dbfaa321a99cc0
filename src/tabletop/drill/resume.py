"""Picking a drill up from its timeline after the console was closed or crashed.

The drill is deterministic, so replaying the recorded commands rebuilds exactly the state the
timeline describes. The replay writes a new file beside the old one and replaces it only once
every recorded event has been reproduced, so nothing recorded is lost if the resume fails.
"""

from __future__ import annotations

import os
from pathlib import Path

from tabletop.drill.engine import Drill
from tabletop.drill.replay import first_difference
from tabletop.drill.responders.scripted import RecordedResponder
from tabletop.drill.timeline_reader import RecordedTimeline
from tabletop.scenario.loader import LoadedScenario


class ResumeError(Exception):
    """The timeline cannot be continued; the message says why."""


def resume_drill(loaded: LoadedScenario, recorded: RecordedTimeline) -> Drill:
    """A drill in the state its timeline ends in, writing on to the same file."""
    if any(e.kind == "drill.ended" for e in recorded.events):
        raise ResumeError(f"{recorded.path}: this drill has ended; start a new one or replay it")
    header = recorded.header
    path = recorded.path
    staging = path.with_name(path.name + ".resuming")
    drill = Drill(loaded, seed=header.seed, responder=header.responder, timeline_path=staging,
                  scenario_label=header.scenario_path, without_faults=header.without_faults,
                  paging=header.paging)
    RecordedResponder(recorded.events, header.responder).attach(drill)
    last = recorded.events[-1].t if recorded.events else 0.0
    drill.advance_to(round(last + 0.001, 3))
    difference = first_difference(recorded, drill)
    if difference is not None:
        drill.timeline.close()
        staging.unlink(missing_ok=True)
        raise ResumeError(f"{path}: replaying the recorded commands does not reproduce the timeline "
                          f"(has the scenario changed?): {difference}")
    os.replace(staging, path)
    drill.timeline.path = Path(path)
    return drill
