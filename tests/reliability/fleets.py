"""Fleet data built in tests: a small valid fleet to vary."""

from __future__ import annotations

from typing import Any


def fleet_data(**changes: Any) -> dict[str, Any]:
    """A fleet of 256 nodes failing at Meta RSC-2's r_f (Kokolis et al.), with ``changes`` on top."""
    data: dict[str, Any] = {
        "apiVersion": "tabletop/v1",
        "kind": "ReliabilityFleet",
        "metadata": {"id": "test-fleet", "title": "test fleet"},
        "job": {"gpus": 2048, "gpus_per_node": 8},
        "days": 54,
        "checkpoint": {"interval": "30m", "write": "30s"},
        "restart": "4m",
        "detection": "2.5m",
        "repair": "2d",
        "failures": [{"cause": "node-failure", "per_1000_node_days": 2.34}],
    }
    data.update(changes)
    return data
