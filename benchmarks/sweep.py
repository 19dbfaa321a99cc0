"""A sweep's cost: 1,000 runs of the bundled scenario (``scenarios/serving-gpu-node-failure.yaml``,
the novice responder, who misses the first page, so the timeout matters) over ten values of the
first escalation timeout and 100 seeds, on 2 worker processes.

Reported: the sweep's wall time as a user waits for it (planning, the runs, the summary, plots
and report; target < 60 s), the time of the runs alone and their rate, the rate of single runs
measured in this process first, and the parallel efficiency: sweep runs/s divided by workers x
single-run runs/s (1.0 when the pool costs nothing; below 1 it loses time to process start-up,
shipping targets and rows, and cores shared with other work).

Run alone with ``python benchmarks/sweep.py [--runs 200] [--workers 2]``, or with everything else
by ``python3 dev.py bench`` (which runs it in a fresh process, as ``tabletop sweep`` would be).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"
TARGET = 60.0
TIMEOUTS = ["1m", "2m", "3m", "4m", "5m", "6m", "8m", "10m", "12m", "15m"]
SINGLE = 10
"""Runs timed one after another in this process (after one to warm up)."""


def spec_text(runs: int) -> str:
    seeds = max(1, runs // len(TIMEOUTS))
    return f"""\
apiVersion: tabletop/v1
kind: Sweep
scenario: {SCENARIO}
responder: novice
parameters:
  - name: ack_timeout
    path: escalation_policies[id=serving-oncall].levels[0].ack_timeout
    values: [{", ".join(TIMEOUTS)}]
seeds: 1-{seeds}
metrics: [score, time_to_acknowledge, time_to_mitigate, time_to_resolve, slo_budget_spent]
"""


def bench(runs: int = 1000, workers: int = 2) -> dict[str, Any]:
    from tabletop.sweep.plan import plan_sweep
    from tabletop.sweep.run import run_one
    from tabletop.sweep.sweep import run_sweep

    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "sweep.yaml"
        spec.write_text(spec_text(runs), encoding="utf-8")
        plan = plan_sweep(spec)
        first = plan.runs[0]
        run_one(plan.targets[first.point], first.parameters, first.seed)  # warm caches and imports
        began = time.perf_counter()
        for run in plan.runs[1:SINGLE + 1]:
            run_one(plan.targets[run.point], run.parameters, run.seed)
        single = SINGLE / (time.perf_counter() - began)
        began = time.perf_counter()
        result = run_sweep(spec, Path(folder) / "out", workers=workers, progress=False)
        wall = time.perf_counter() - began
    rate = result.new / result.seconds
    return {
        "runs": result.new, "workers": workers, "wall_seconds": round(wall, 2), "runs_seconds": round(result.seconds, 2),
        "sweep_runs_per_second": round(rate, 2), "single_runs_per_second": round(single, 2),
        "parallel_efficiency": round(rate / (workers * single), 3), "target_seconds": TARGET,
    }


def bench_apart(runs: int = 1000, workers: int = 2) -> dict[str, Any]:
    """``bench`` in a process of its own, as ``tabletop sweep`` runs: the workers fork from it,
    so a parent grown by other benchmarks would slow them down."""
    done = subprocess.run([sys.executable, __file__, "--runs", str(runs), "--workers", str(workers), "--json"],
                          capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise RuntimeError(f"benchmarks/sweep.py failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def passed(figures: dict[str, Any]) -> bool:
    return figures["wall_seconds"] < TARGET


def describe(figures: dict[str, Any]) -> list[str]:
    return [
        f"sweep of {figures['runs']:,} runs (bundled scenario, novice, 10 escalation timeouts) on "
        f"{figures['workers']} workers: {figures['wall_seconds']:.1f} s (target < {TARGET:.0f} s), of which the runs "
        f"{figures['runs_seconds']:.1f} s = {figures['sweep_runs_per_second']:.2f} runs/s",
        f"  single runs in one process: {figures['single_runs_per_second']:.2f} runs/s; parallel efficiency "
        f"{figures['sweep_runs_per_second']:.2f} / ({figures['workers']} x {figures['single_runs_per_second']:.2f}) "
        f"= {figures['parallel_efficiency']:.3f}",
    ]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = bench(args.runs, args.workers)
    print(json.dumps(figures) if args.json else "\n".join(describe(figures)))
    sys.exit(0 if passed(figures) else 1)
