"""A headless drill from start to end with a scripted responder."""

from __future__ import annotations

from pathlib import Path

from tabletop.drill.engine import Drill
from tabletop.drill.responders.base import Responder
from tabletop.scenario.loader import LoadedScenario


def run_headless(loaded: LoadedScenario, responder: Responder, *, seed: int = 0, timeline_path: Path | None = None,
                 scenario_label: str | None = None, responder_name: str | None = None, until: float | None = None) -> Drill:
    drill = Drill(loaded, seed=seed, responder=responder_name or responder.name, timeline_path=timeline_path,
                  scenario_label=scenario_label)
    responder.attach(drill)
    try:
        drill.run(until)
    finally:
        if not drill.ended:
            drill.end("aborted")
    return drill
