"""The reliability model's cost: one 54-day run of the bundled 16,384-GPU Llama 3 fleet
(``scenarios/fleets/llama3-405b.yaml``) on one core, median of several seeds; target < 1 s.
Also: simulated GPU-hours per second, and interruptions (the events the run's cost grows with)
per second.

Run alone with ``python benchmarks/reliability.py``, or with everything else by ``python3 dev.py bench``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FLEET = ROOT / "scenarios" / "fleets" / "llama3-405b.yaml"
TARGET = 1.0


def bench(repeat: int = 21) -> dict[str, Any]:
    import yaml

    from tabletop.reliability.run import simulate_fleet

    data = yaml.safe_load(FLEET.read_text(encoding="utf-8"))
    simulate_fleet(data, seed=0)  # warm imports and caches
    seconds, rows = [], []
    for seed in range(1, repeat + 1):
        began = time.perf_counter()
        rows.append(simulate_fleet(data, seed=seed))  # checks the fleet data too, as a sweep's run does
        seconds.append(time.perf_counter() - began)
    median = statistics.median(seconds)
    gpu_hours = rows[0]["gpu_hours"]
    interruptions = statistics.mean(row["interruptions"] for row in rows)
    return {
        "fleet": FLEET.name, "days": rows[0]["days"], "gpu_hours_per_run": gpu_hours,
        "run_seconds_median": round(median, 5), "run_seconds_max": round(max(seconds), 5), "target_seconds": TARGET,
        "simulated_gpu_hours_per_second": round(gpu_hours / median),
        "interruptions_per_run": round(interruptions, 1),
        "interruptions_per_second": round(interruptions / median),
    }


def passed(figures: dict[str, Any]) -> bool:
    return figures["run_seconds_median"] < TARGET


def describe(figures: dict[str, Any]) -> list[str]:
    return [
        f"reliability: one {figures['days']:g}-day run of {figures['fleet']} ({figures['gpu_hours_per_run']:,.0f} GPU-hours): "
        f"median {figures['run_seconds_median'] * 1000:.2f} ms, worst {figures['run_seconds_max'] * 1000:.2f} ms "
        f"(target < {TARGET:.0f} s)",
        f"  {figures['simulated_gpu_hours_per_second']:,} simulated GPU-hours/s; "
        f"{figures['interruptions_per_run']:,.1f} interruptions a run, {figures['interruptions_per_second']:,}/s",
    ]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    figures = bench()
    print("\n".join(describe(figures)))
    sys.exit(0 if passed(figures) else 1)
