"""tabletop benchmarks, one command: ``python3 dev.py bench`` (or ``python benchmarks/run.py``).

Reports, from one run on one core:
- wall time of a 2-hour headless drill of the bundled scenario (expert responder);
- the engine's simulation events per second against a bare SimPy loop that processes the
  same number of events, as a ratio measured in the same run (machines here are shared and
  noisy; ratios travel better than seconds).
Target: the 2-hour drill simulates in under 1 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import simpy

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"
TARGET_SECONDS = 1.0


def drill_seconds(loaded, seed: int) -> float:  # type: ignore[no-untyped-def]
    from tabletop.drill.responders.expert import ExpertResponder
    from tabletop.drill.run import run_headless

    began = time.perf_counter()
    run_headless(loaded, ExpertResponder(), seed=seed)
    return time.perf_counter() - began


def drill_event_count(loaded) -> int:  # type: ignore[no-untyped-def]
    """SimPy events the drill processes (counted in a separate, instrumented run)."""
    from tabletop.drill.responders.expert import ExpertResponder
    from tabletop.drill.run import run_headless

    original = simpy.Environment.step
    counter = [0]

    def counting_step(self: simpy.Environment) -> None:
        counter[0] += 1
        original(self)

    simpy.Environment.step = counting_step  # type: ignore[method-assign]
    try:
        run_headless(loaded, ExpertResponder(), seed=0)
    finally:
        simpy.Environment.step = original  # type: ignore[method-assign]
    return counter[0]


def bare_simpy_seconds(events: int) -> float:
    """A SimPy process that waits on ``events`` timeouts: the cheapest loop of that many events."""
    env = simpy.Environment()

    def ticker(env: simpy.Environment):  # type: ignore[no-untyped-def]
        for _ in range(events // 2):  # each wait is a Timeout event plus the process resuming
            yield env.timeout(1)

    env.process(ticker(env))
    began = time.perf_counter()
    env.run()
    return time.perf_counter() - began


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each measurement (median reported)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    from tabletop.scenario.loader import load_scenario

    loaded = load_scenario(SCENARIO)
    drill_seconds(loaded, 0)  # warm caches and imports
    drills = [drill_seconds(loaded, seed) for seed in range(args.repeat)]
    events = drill_event_count(loaded)
    bares = [bare_simpy_seconds(events) for _ in range(args.repeat)]
    drill_median, bare_median = statistics.median(drills), statistics.median(bares)
    figures = {
        "drill_2h_seconds_median": round(drill_median, 4),
        "drill_2h_seconds_min": round(min(drills), 4),
        "target_seconds": TARGET_SECONDS,
        "simulation_events": events,
        "engine_events_per_second": round(events / drill_median),
        "bare_simpy_events_per_second": round(events / bare_median),
        "engine_to_bare_ratio": round(bare_median / drill_median, 5),
        "virtual_to_wall_speedup": round(7200 / drill_median),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"2-hour drill of {SCENARIO.name} (expert): median {drill_median:.3f} s, best {min(drills):.3f} s "
              f"over {args.repeat} runs (target < {TARGET_SECONDS:.0f} s) — {7200 / drill_median:,.0f}x faster than real time")
        print(f"simulation events in the drill: {events:,}")
        print(f"engine: {events / drill_median:,.0f} events/s; bare SimPy loop: {events / bare_median:,.0f} events/s; "
              f"engine/bare = {bare_median / drill_median:.4f} (each engine event carries scraping, rules, traffic)")
    return 0 if drill_median < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main(sys.argv[1:]))
