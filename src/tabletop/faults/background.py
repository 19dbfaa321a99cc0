"""Random hardware failures across the whole fleet, as one superposed process.

Node failures arrive as a Poisson process whose rate is the per-node rate times the number of
nodes; each arrival picks a random node and a failure class by the published mix. The cost is
one timer per failure, never one per node or GPU.

Rates: Kokolis et al., "Revisiting Reliability in Large-Scale Machine Learning Research
Clusters" (HPCA 2025): 6.50 failures per 1,000 node-days on RSC-1. Mix: The Llama 3 Herd of
Models (2024), Table 5, unexpected interruptions by root cause (hardware rows only).
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import TypeAdapter

from tabletop.faults.injector import FaultInjector
from tabletop.scenario.faults import Fault
from tabletop.scenario.fleet import BackgroundFailures
from tabletop.sim.fleet import Fleet

MIX: tuple[tuple[int, str, dict[str, Any]], ...] = (
    (148, "gpu_xid", {"xid": 79}),  # faulty GPU
    (72, "hbm_ecc", {"dbe_after": 600}),  # GPU HBM3 memory
    (19, "gpu_xid", {"xid": 48}),  # GPU SRAM memory
    (17, "gpu_xid", {"xid": 119}),  # GPU system processor (GSP)
    (6, "gpu_thermal", {"duration": 1800}),  # GPU thermal interface and sensor
    (35 + 7 + 32 + 3 + 3 + 2 + 2 + 2 + 2, "node_not_ready", {"duration": 3600}),  # network, NIC, host, SSD, PSU, ...
    (7, "nccl_hang", {"watchdog": True}),  # NCCL watchdog timeouts
)
"""(count, fault kind, parameters) — counts are Llama 3's; software causes are left out."""

_FAULT = TypeAdapter(Fault)


class BackgroundFailureProcess:
    def __init__(self, fleet: Fleet, spec: BackgroundFailures, injector: FaultInjector) -> None:
        self.fleet = fleet
        self.injector = injector
        self.rng = fleet.streams.get("background-failures")
        self.nodes = sorted(fleet.nodes)
        per_second = spec.node_failures_per_1000_node_days / 1000 / 86400
        self.rate = per_second * len(self.nodes)
        self.total_weight = sum(weight for weight, _, _ in MIX)
        self.count = 0
        if self.rate > 0:
            self._schedule()

    def _schedule(self) -> None:
        delay = -math.log(1.0 - self.rng.random()) / self.rate
        self.fleet.later(delay, self._fail)

    def _fail(self) -> None:
        node = self.fleet.nodes[self.nodes[self.rng.randrange(len(self.nodes))]]
        kind, params = self._pick_class()
        spec = self._spec(kind, params, node.name, self.rng.randrange(len(node.gpus)))
        if spec is not None:
            self.injector.inject(spec)
        self._schedule()

    def _pick_class(self) -> tuple[str, dict[str, Any]]:
        draw = self.rng.uniform(0, self.total_weight)
        for weight, kind, params in MIX:
            draw -= weight
            if draw <= 0:
                return kind, params
        return MIX[-1][1], MIX[-1][2]

    def _spec(self, kind: str, params: dict[str, Any], node: str, gpu: int) -> Any:
        self.count += 1
        base: dict[str, Any] = {"id": f"background-{self.count}", "kind": kind, "when": {"at": self.fleet.now},
                                "description": "background hardware failure"}
        if kind == "nccl_hang":
            job = next((j for j in self.fleet.jobs.values() if any(p.node and p.node.name == node for p in j.pods)), None)
            if job is None:
                return None
            return _FAULT.validate_python({**base, "target": f"job/{job.name}", "node": node, **params})
        extra = {"gpu": gpu} if kind in ("gpu_xid", "hbm_ecc") else {}
        return _FAULT.validate_python({**base, "target": f"node/{node}", **extra, **params})
