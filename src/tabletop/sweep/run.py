"""One run of a sweep: a pure function of (target, parameter values, seed) returning a flat row.

A target is one grid point's document, already checked, with what to collect: it travels to
process-pool and Dask workers whole (the drill's scenario, runbooks and rubric as loaded, a
responder script as parsed, a fleet as data), so a worker reads no file of the sweep.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tabletop.drill.script import ResponderScript
from tabletop.scenario.loader import LoadedScenario


@dataclass(frozen=True)
class DrillTarget:
    loaded: LoadedScenario
    responder: str | ResponderScript
    """expert, novice, or a responder script checked against ``loaded``."""
    columns: tuple[str, ...]


@dataclass(frozen=True)
class FleetTarget:
    fleet: dict[str, Any]
    """The fleet file's data with the grid point's values in it."""
    days: float | None
    columns: tuple[str, ...]


Target = DrillTarget | FleetTarget


def run_one(target: Target, parameters: dict[str, Any], seed: int) -> dict[str, Any]:
    """``parameters`` (column → value as written), ``seed``, then each of ``target.columns``."""
    if isinstance(target, FleetTarget):
        from tabletop.reliability.run import simulate_fleet

        found = simulate_fleet(target.fleet, days=target.days, seed=seed)
    else:
        found = _drill(target, seed)
    return {**parameters, "seed": seed, **{column: _finite(found.get(column)) for column in target.columns}}


def _finite(value: Any) -> Any:
    """NaN and infinities as missing values (JSON has no word for them)."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _drill(target: DrillTarget, seed: int) -> dict[str, Any]:
    from tabletop.drill.responders import make_responder
    from tabletop.drill.responders.scripted import ScriptResponder
    from tabletop.drill.run import run_headless
    from tabletop.sweep.metrics import scenario_metrics

    loaded = target.loaded
    if isinstance(target.responder, ResponderScript):
        responder = ScriptResponder(target.responder)
    else:
        responder = make_responder(target.responder, loaded)
    drill = run_headless(loaded, responder, seed=seed, scrape_all=False)
    return scenario_metrics(loaded, drill.timeline.events)
