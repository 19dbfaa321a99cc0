"""The drill bank's cost: every scenario in ``scenarios/`` run headless for 2 hours of drill time
by the expert on one core (median of a few runs), as ``tabletop run`` runs it (the scrape
leaves out what the drill cannot read); the slowest must stay under 1 s.

Run alone with ``python benchmarks/bank.py``, or with everything else by ``python3 dev.py bench``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BANK = ROOT / "scenarios"
TARGET = 1.0
TWO_HOURS = 7200.0


def bench(repeat: int = 3) -> dict[str, Any]:
    from tabletop.drill.responders.expert import ExpertResponder
    from tabletop.drill.run import run_headless
    from tabletop.scenario.library import find_scenarios

    entries, _ = find_scenarios([BANK])
    seconds: dict[str, float] = {}
    for entry in entries:
        runs = []
        for seed in range(1, repeat + 1):
            began = time.perf_counter()
            run_headless(entry.loaded, ExpertResponder(), seed=seed, until=TWO_HOURS, scrape_all=False)
            runs.append(time.perf_counter() - began)
        seconds[entry.id] = round(statistics.median(runs), 4)
    slowest = max(seconds, key=seconds.__getitem__)
    return {"scenarios": seconds, "slowest": slowest, "slowest_seconds": seconds[slowest], "target_seconds": TARGET}


def passed(figures: dict[str, Any]) -> bool:
    return figures["slowest_seconds"] < TARGET


def describe(figures: dict[str, Any]) -> list[str]:
    ranked = sorted(figures["scenarios"].items(), key=lambda kv: -kv[1])
    lines = [f"drill bank ({len(ranked)} scenarios, 2 h of drill each, expert): slowest {figures['slowest']} "
             f"{figures['slowest_seconds']:.3f} s (target < {TARGET:.0f} s)"]
    lines += [f"  {seconds:.3f} s  {scenario}" for scenario, seconds in ranked]
    return lines


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    figures = bench()
    print("\n".join(describe(figures)))
    sys.exit(0 if passed(figures) else 1)
