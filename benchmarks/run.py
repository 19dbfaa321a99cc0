"""tabletop benchmarks, one command: ``python3 dev.py bench`` (or ``python benchmarks/run.py``).

Reports, from one run on one core (machines here are shared and noisy, so comparisons are
ratios measured in the same run):
- a 2-hour headless drill of the bundled scenario (expert responder): wall time (target < 1 s),
  and the engine's simulation events per second against a bare SimPy loop processing the same
  number of events;
- a 24-hour simulated day of the bundled scenario with its rules: wall time (target < 10 s),
  the share of it spent evaluating rule groups, and rule-group and rule evaluations per second.
- the drill console's per-tick cost while a 2-hour drill runs at 60x with 10,000 timeline
  events (``benchmarks/console.py``; targets: median < 25 ms, p99 < 100 ms);
- every scenario of the bank (``scenarios/``), 2 hours of drill by the expert: the slowest one's
  wall time (``benchmarks/bank.py``; target < 1 s);
- one 54-day run of the 16,384-GPU Llama 3 reliability fleet: wall time and simulated GPU-hours
  per second (``benchmarks/reliability.py``; target < 1 s);
- a 1,000-run sweep of the bundled scenario over ten first escalation timeouts on 2 workers:
  wall time and parallel efficiency (``benchmarks/sweep.py``; target < 60 s);
- the Kubernetes twin with 2,000 pods: list-pods latency, watch-event delay, requests per
  second (``benchmarks/twin.py``; target: list pods p50 < 20 ms);
- how soon a joined seat sees another seat's command, p50/p99 (``benchmarks/seat_latency.py``;
  target: p99 < 250 ms);
- 20 joined seats, each a process of its own, following a drill at 60x for 60 s while half of them
  type: per-seat update latency p50/p99 and the drill server's CPU share
  (``benchmarks/seat_load.py``; target: p99 < 250 ms over all seats).
Exit status 1 when a target is missed.
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
DRILL_TARGET = 1.0
DAY_TARGET = 10.0


def timed_drill(loaded, seed: int, until: float | None = None) -> tuple[float, float, int, int]:  # type: ignore[no-untyped-def]
    """(wall seconds, seconds inside rule-group evaluations, group evaluations, rule evaluations)."""
    from tabletop.drill.responders.expert import ExpertResponder
    from tabletop.drill.run import run_headless
    from tabletop.signals.rule_engine import RuleEngine

    original = RuleEngine.evaluate_group
    spent = [0.0, 0, 0]

    def timed_group(self: RuleEngine, index: int, t: float) -> None:
        began = time.perf_counter()
        original(self, index, t)
        spent[0] += time.perf_counter() - began
        spent[1] += 1
        spent[2] += len(self.groups[index].spec.rules)

    RuleEngine.evaluate_group = timed_group  # type: ignore[method-assign]
    try:
        began = time.perf_counter()
        run_headless(loaded, ExpertResponder(), seed=seed, until=until)
        wall = time.perf_counter() - began
    finally:
        RuleEngine.evaluate_group = original  # type: ignore[method-assign]
    return wall, spent[0], spent[1], spent[2]


def drill_event_count(loaded) -> int:  # type: ignore[no-untyped-def]
    """SimPy events the 2-hour drill processes (counted in a separate, instrumented run)."""
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
    """A SimPy process that waits on timeouts: the cheapest loop of ``events`` events."""
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
    parser.add_argument("--repeat", type=int, default=5, help="timed 2-hour drills (median reported)")
    parser.add_argument("--day-repeat", type=int, default=1, help="timed 24-hour days (median reported)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    from tabletop.scenario.loader import load_scenario

    loaded = load_scenario(SCENARIO)
    timed_drill(loaded, 0)  # warm caches and imports
    drills = [timed_drill(loaded, seed)[0] for seed in range(args.repeat)]
    events = drill_event_count(loaded)
    bares = [bare_simpy_seconds(events) for _ in range(args.repeat)]
    days = [timed_drill(loaded, seed, until=86400.0) for seed in range(args.day_repeat)]
    day = sorted(days)[len(days) // 2]
    day_wall, day_rules, day_groups, day_rule_evals = day
    drill_median, bare_median = statistics.median(drills), statistics.median(bares)
    figures = {
        "drill_2h_seconds_median": round(drill_median, 4),
        "drill_2h_seconds_min": round(min(drills), 4),
        "drill_target_seconds": DRILL_TARGET,
        "simulation_events_2h": events,
        "engine_events_per_second": round(events / drill_median),
        "bare_simpy_events_per_second": round(events / bare_median),
        "engine_to_bare_ratio": round(bare_median / drill_median, 6),
        "day_24h_seconds": round(day_wall, 3),
        "day_target_seconds": DAY_TARGET,
        "day_rule_evaluation_share": round(day_rules / day_wall, 4),
        "day_group_evaluations": day_groups,
        "group_evaluations_per_second": round(day_groups / day_rules),
        "rule_evaluations_per_second": round(day_rule_evals / day_rules),
    }
    import console  # benchmarks/console.py: the drill console's per-tick cost under a 10,000-event load

    figures["console"] = console.bench()
    import bank  # benchmarks/bank.py: every scenario of the bank, 2 hours of drill, the slowest reported

    figures["bank"] = bank.bench()
    import reliability  # benchmarks/reliability.py: one 54-day run of the 16,384-GPU Llama 3 fleet

    figures["reliability"] = reliability.bench()
    import sweep  # benchmarks/sweep.py: a 1,000-run sweep on 2 workers, its parallel efficiency

    figures["sweep"] = sweep.bench_apart()
    import seat_load  # benchmarks/seat_load.py: 20 seat processes at 60x, in a process of its own

    figures["seat_load"] = seat_load.bench_apart()
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"2-hour drill of {SCENARIO.name} (expert): median {drill_median:.3f} s, best {min(drills):.3f} s "
              f"over {args.repeat} runs (target < {DRILL_TARGET:.0f} s), {7200 / drill_median:,.0f}x real time")
        print(f"  simulation events: {events:,}; engine {events / drill_median:,.0f} events/s vs bare SimPy "
              f"{events / bare_median:,.0f} events/s: engine/bare = {bare_median / drill_median:.6f} "
              f"(each engine event is a whole scrape, rule evaluation or fleet change)")
        print(f"24-hour day: {day_wall:.2f} s (target < {DAY_TARGET:.0f} s); rule evaluation {day_rules:.2f} s = "
              f"{day_rules / day_wall:.1%} of it; {day_groups:,} group evaluations "
              f"({day_groups / day_rules:,.0f}/s), {day_rule_evals:,} rule evaluations ({day_rule_evals / day_rules:,.0f}/s)")
        print("\n".join(console.describe(figures["console"])))
        print("\n".join(bank.describe(figures["bank"])))
        print("\n".join(reliability.describe(figures["reliability"])))
        print("\n".join(sweep.describe(figures["sweep"])))
        print("\n".join(seat_load.describe(figures["seat_load"])))
    import twin  # benchmarks/twin.py: the Kubernetes twin's latency under a 2,000-pod fleet (prints its own lines)

    twin_status = 0 if args.json else twin.main([])  # it prints lines, not JSON
    import seat_latency  # benchmarks/seat_latency.py: how soon a seat sees another seat's command (prints its lines)

    seat_status = 0 if args.json else seat_latency.main([])
    passed = (drill_median < DRILL_TARGET and day_wall < DAY_TARGET and console.passed(figures["console"])
              and bank.passed(figures["bank"]) and reliability.passed(figures["reliability"])
              and sweep.passed(figures["sweep"]) and seat_load.passed(figures["seat_load"]))
    return 0 if passed and twin_status == 0 and seat_status == 0 else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main(sys.argv[1:]))
