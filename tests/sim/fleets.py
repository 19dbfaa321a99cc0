"""Small fleets for simulation tests, built from the bundled scenario or from scratch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import simpy
import yaml

from tabletop.scenario.model import Scenario
from tabletop.sim.fleet import Fleet
from tabletop.sim.rng import Streams

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"


TRAINING = {
    "node_pools": [
        {"name": "gpu-serve", "gpu_model": "H100-SXM-80GB", "nodes": 5},
        {"name": "gpu-train", "gpu_model": "H100-SXM-80GB", "nodes": 5},
    ],
    "training_jobs": [{
        "name": "llm-pretrain", "node_pool": "gpu-train", "gang_size": 4, "step_time": "10s",
        "checkpoint_interval": "30m", "checkpoint_write_time": "2m", "restart_overhead": "10m",
        "checkpoint_size": "1Ti", "storage": {"capacity": "20Ti", "used": "8Ti", "keep_last": 5},
    }],
}
"""Fleet sections adding a 4-node training job on its own pool to the bundled scenario."""


def bundled() -> Scenario:
    return Scenario.model_validate(yaml.safe_load(BUNDLED.read_text()))


class Harness:
    """A fleet on its own clock, recording what it emits."""

    def __init__(self, scenario: Scenario | None = None, seed: int = 1) -> None:
        self.scenario = scenario or bundled()
        self.env = simpy.Environment()
        self.events: list[tuple[float, str, dict[str, Any]]] = []
        self.fleet = Fleet(self.env, self.scenario.fleet, start=self.scenario.metadata.start, streams=Streams(seed),
                           emit=lambda kind, data: self.events.append((self.env.now, kind, data)))

    def run(self, seconds: float) -> None:
        self.env.run(until=self.env.now + seconds)

    def reasons(self, obj: str) -> list[str]:
        return [data["reason"] for _, kind, data in self.events if kind == "fleet.event" and data["object"] == obj]

    def step_traffic(self) -> dict[str, Any]:
        return {name: d.step(15.0) for name, d in self.fleet.deployments.items()}


def with_fleet(**changes: Any) -> Scenario:
    """The bundled scenario with its fleet section replaced or extended."""
    data = yaml.safe_load(BUNDLED.read_text())
    data["fleet"].update(changes)
    return Scenario.model_validate(data)
