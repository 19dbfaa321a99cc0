"""A headless drill from start to end with a scripted responder."""

from __future__ import annotations

from pathlib import Path

from tabletop.drill.engine import Drill
from tabletop.drill.reads import EVERYTHING, unread_series
from tabletop.drill.responders.base import Responder
from tabletop.scenario.loader import LoadedScenario


def run_headless(loaded: LoadedScenario, responder: Responder, *, seed: int = 0, timeline_path: Path | None = None,
                 scenario_label: str | None = None, responder_name: str | None = None, until: float | None = None,
                 scrape_all: bool = True) -> Drill:
    """``scrape_all=False`` leaves out of the scrape the series nothing in the drill reads: the
    same timeline, about half the cost. Keep it True when the store is read afterwards."""
    unscraped = EVERYTHING if scrape_all else unread_series(loaded, responder.command_lines())
    drill = Drill(loaded, seed=seed, responder=responder_name or responder.name, timeline_path=timeline_path,
                  scenario_label=scenario_label, unscraped=unscraped)
    responder.attach(drill)
    try:
        drill.run(until)
    finally:
        if not drill.ended:
            drill.end("aborted")
    return drill
