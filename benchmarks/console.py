"""The drill console's per-tick cost, one command: ``.venv/bin/python benchmarks/console.py``.

A 2-hour drill of the bundled scenario runs at 60x in the real console (``TabletopApp``,
headless, 160x50: the wide layout, with the Incident tab selected, the busiest screen: pager,
incident, messages and participants panels, and the side column's bounded timeline, up to 200
lines; ``--tab timeline`` shows the Timeline tab's log, up to 500, instead) while
participants load it through the command API until its timeline holds 10,000 events by the
end. Reported: the cost of each timer tick (median, p99, max; targets: median under 25 ms,
p99 under 100 ms), the number of ticks and the wall time, the final event count, and the share
of tick time spent advancing the simulation against redrawing. Exit status 1 when a target is
missed.

What one tick costs here
    In the console a 5 Hz timer calls ``TabletopApp.tick``: the clock moves virtual time on by
    wall × speed (``session.advance``: the simulation, the board's samples, and on the last
    tick the end of the drill: scoring and the postmortem), then the app reads the board once
    (``app.frame``) and hands the frame to every view, whose updates Textual turns into layout
    and a compositor update on its next screen refresh (up to 1/60 s later). A tick's cost is
    all of that: the busy time of the event loop (time spent inside loop callbacks, measured by
    timing every ``asyncio.Handle._run``) from the call to ``tick()`` until the app has been
    idle for two 1/60 s screen-refresh periods. Idle time (waiting for the screen's refresh
    timer) is not counted; everything the loop runs in that window is, garbage-collector pauses
    and toast timers included, because the real console's loop runs them too (the GC share is
    reported on its own). A headless app skips encoding its compositor updates into terminal
    output, so the benchmark encodes each one (``render_segments``, what ``App._display`` does
    for a terminal) and counts that; writing the bytes to a terminal is not counted.

    The split: "advance" is the time inside ``session.advance``; "redraw" is the rest: the
    board read (``app.frame``), the views' updates inside ``tick()``, and Textual's layout and
    rendering after it.

Why an injected wall clock
    Each tick the benchmark moves an injected wall source (``TabletopApp(wall=...)``) on by one
    timer period (1/5 s) and calls ``app.tick()`` itself (the app's own timer is paused), so
    60x covers the 2 hours in exactly 7200 / (60 × 0.2) = 600 ticks, each asking the simulation
    for the 12 virtual seconds a real tick would. The run takes as long as its work plus about
    two idle screen periods per tick, not two minutes of timer, and no tick is skipped or
    stretched by the timer when the one before ran long (the real timer would then hand the
    next tick more virtual time, up to the clock's 2 s cap). Real time would not change the
    per-tick figure: a tick's work depends on how much virtual time it covers and on what
    changed, not on when it runs (checked: the app on its own timer and the real clock, without
    the load, spends a median 26 ms of loop time per tick, as here). What this cannot show is
    a tick colliding with other work (a key press, a command) in the same period.

The load
    The bundled drill records under 100 events on its own. Before each tick the benchmark runs
    command lines through ``session.execute`` in the participants' names, as people working
    the drill would: notes, status updates, PromQL queries, log searches, ``get``/``describe``,
    a few hypotheses, acknowledging pages, roles and severity once, replies to stakeholder
    messages. It runs as many as keep the timeline on a straight line to ``--events`` (10,000)
    by the last tick: about 11 commands, 17 events, per tick. Running the commands is not tick
    work (their mean cost is reported apart); drawing the events they add is.

Private Textual API used: ``App._timers`` (to pause the console's timer), ``App._display`` (to
count and encode screen updates), ``textual._compositor.CompositorUpdate``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"
MEDIAN_TARGET_MS = 25.0
P99_TARGET_MS = 100.0
SIZE = (160, 50)
SCREEN_PERIOD = 1 / 60
"""Textual's screen refresh period (MAX_FPS 60): a view's update is drawn at most this much later."""
QUIET = 0.0005
"""Loop busy time (s) below which a screen-refresh period counts as idle."""
SETTLE_LIMIT = 2.0
"""Wall seconds a tick may take to settle before the benchmark moves on (counted as it is)."""


# measuring -----------------------------------------------------------------------------------------
class LoopMeter:
    """Busy time of the asyncio event loop: every callback it runs (task steps, timers, message
    handlers) is timed through ``asyncio.Handle._run``."""

    def __init__(self) -> None:
        self.busy = 0.0
        self._original: Callable[[asyncio.Handle], None] | None = None

    def __enter__(self) -> Self:
        original = self._original = asyncio.Handle._run  # type: ignore[attr-defined]
        meter = self

        def timed_run(handle: asyncio.Handle) -> None:
            began = time.perf_counter()
            try:
                original(handle)
            finally:
                meter.busy += time.perf_counter() - began

        asyncio.Handle._run = timed_run  # type: ignore[attr-defined]
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.Handle._run = self._original  # type: ignore[attr-defined]


class Stopwatch:
    """Total time spent inside a wrapped callable."""

    def __init__(self) -> None:
        self.total = 0.0
        self.calls = 0

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.total += time.perf_counter() - began
                self.calls += 1
        return timed


class GcMeter:
    """Time spent in the garbage collector's pauses, and the number of full (oldest-generation) ones."""

    def __init__(self) -> None:
        self.paused = 0.0
        self.full = 0
        self._began = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.paused += time.perf_counter() - self._began
            self.full += info["generation"] == 2

    def __enter__(self) -> Self:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


class Wall:
    """The console's injected wall-clock source."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def settle(meter: LoopMeter) -> bool:
    """Let the app finish what the tick set off: until two screen-refresh periods pass idle
    (False: it was still busy after ``SETTLE_LIMIT``)."""
    began = time.perf_counter()
    quiet = 0
    while quiet < 2:
        if time.perf_counter() - began > SETTLE_LIMIT:
            return False
        before = meter.busy
        await asyncio.sleep(SCREEN_PERIOD)
        quiet = quiet + 1 if meter.busy - before < QUIET else 0
    return True


# the load ------------------------------------------------------------------------------------------
NOTES = [
    "chat-llm 5xx climbing, looking at the serving dashboards",
    "one vLLM replica is crash-looping, checking which node it is on",
    "dcgm shows Xid 79 on gpu-serve-2 GPU 5: fallen off the bus",
    "traffic is ramping to the morning peak, five replicas will not carry it",
    "kernel log on gpu-serve-2 has NVRM errors since 08:45",
    "asked gpu-infra whether a spare H100 node is available in the pool",
    "ranker latency looks normal, feature store healthy; impact limited to chat",
    "cordon first, then move the replica; do not restart the whole deployment",
    "watching p99 latency after the change, error rate should drop within 5 minutes",
    "scribe: keeping the timeline; next status update due at the quarter hour",
]
STATUS = [
    ("Chat assistant degraded: about 5% of requests failing. Cause: a failed GPU on one serving node. "
     "We are moving the affected replica. Next update in 15 minutes."),
    "Error rate falling after moving work off gpu-serve-2; capacity recovering. Next update in 15 minutes.",
    "Investigating elevated chat-llm errors and latency at the morning peak. Next update in 15 minutes.",
]
QUERIES = [
    'sum(rate(http_requests_total{job="chat-llm", status="5xx"}[5m])) / sum(rate(http_requests_total{job="chat-llm"}[5m]))',
    'histogram_quantile(0.99, sum by (le) (rate(vllm:e2e_request_latency_seconds_bucket{job="chat-llm"}[5m])))',
    'max by (Hostname, gpu) (DCGM_FI_DEV_XID_ERRORS{job="nvidia-dcgm-exporter"})',
    'kube_deployment_status_replicas_available{job="kube-state-metrics"}',
    'kube_node_status_condition{job="kube-state-metrics", condition="Ready", status="true"}',
]
LOGS = ["logs Xid --source node/gpu-serve-2 --since 15m", "logs 'NVRM|fallen off' --since 30m", "logs error --since 5m"]
HYPOTHESES = ["gpu_xid node/gpu-serve-2 'Xid 79 and the crash loop are on the same node'",
              "node_not_ready node/gpu-serve-2 'the kubelet stopped reporting after the Xid'"]
VIEWS = ["get pods", "get nodes", "get deployments", "describe node/gpu-serve-2", "describe deployment/chat-llm"]


class Load:
    """Participants working the drill through ``session.execute``: enough command lines before
    each tick to keep the timeline on a straight line to ``target`` events by the last tick."""

    def __init__(self, session: Any, target: int, ticks: int, seed: int = 0) -> None:
        self.session = session
        self.target = target
        self.ticks = ticks
        self.rng = random.Random(seed)
        self.people = [p.id for p in session.drill.scenario.participants]
        self.once = ["assign incident_commander alice", "assign ops bob", "assign comms erin", "assign scribe dana",
                     "severity SEV2", "hypothesis gpu_xid node/gpu-serve-2 'Xid 79 on GPU 5, replica crash-looping'"]
        self.replied: set[str] = set()
        self.commands = 0
        self.refused = 0
        self.seconds = 0.0

    def line(self) -> tuple[str, str]:
        """(actor, command line): what someone does next."""
        drill = self.session.drill
        for page in drill.pager.pages:
            if page.state == "triggered" and page.assignees:
                return page.assignees[0], f"ack {page.id}"
        waiting = sorted(drill.incident.delivered_injects - self.replied)
        if waiting:
            self.replied.add(waiting[0])
            return "erin", f"reply {waiting[0]} 'We are on it: one GPU node failed, capacity is being restored.'"
        if self.once:
            return "alice", self.once.pop(0)
        who = self.rng.choice(self.people)
        roll = self.rng.random()
        if roll < 0.42:
            return who, f"note '{self.rng.choice(NOTES)}'"
        if roll < 0.50:
            return who, f"status '{self.rng.choice(STATUS)}'"
        if roll < 0.72:
            return who, f"query {self.rng.choice(QUERIES)}"
        if roll < 0.82:
            return who, self.rng.choice(LOGS)
        if roll < 0.995:
            return who, self.rng.choice(VIEWS)
        return who, f"hypothesis {self.rng.choice(HYPOTHESES)}"  # a few dozen over the drill

    def before_tick(self, tick: int) -> None:
        events = self.session.drill.timeline.events
        goal = math.ceil(self.target * min(1.0, (tick + 1) / max(1, self.ticks - 1)))
        began = time.perf_counter()
        while len(events) < goal and not self.session.ended:
            actor, line = self.line()
            result = self.session.execute(actor, line)
            self.commands += 1
            self.refused += not result.ok
        self.seconds += time.perf_counter() - began


# the run --------------------------------------------------------------------------------------------
async def drive(app: Any, session: Any, wall: Wall, load: Load, tab: str) -> dict[str, Any]:
    from textual._compositor import CompositorUpdate

    from tabletop.tui.screens.main import MainScreen

    advance, frame, encode = Stopwatch(), Stopwatch(), Stopwatch()
    session.advance = advance.wrap(session.advance)
    app.frame = frame.wrap(app.frame)
    display = app._display

    def display_encoded(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if app.is_headless and isinstance(renderable, CompositorUpdate):  # what a terminal would be sent
            encode.wrap(renderable.render_segments)(app.console)

    app._display = display_encoded
    period = 1 / app.refresh_hz
    ticks: list[dict[str, float]] = []
    async with app.run_test(size=SIZE) as pilot:
        clocks = [timer for timer in list(app._timers) if timer.name == "drill-clock"]
        if len(clocks) != 1:
            raise RuntimeError("cannot find the console's drill-clock timer to pause it")
        clocks[0].pause()  # the benchmark calls tick() itself, one timer period apart on the injected wall
        for _ in range(200):
            if isinstance(app.screen, MainScreen) and app.screen.is_ready:
                break
            await pilot.pause()
        app.main.show_tab(f"tab-{tab}")
        await pilot.pause()
        with LoopMeter() as meter, GcMeter() as collector:
            began = time.perf_counter()
            index = 0
            while not session.ended:
                load.before_tick(index)
                await asyncio.sleep(0)  # the commands' loop callback ends here: the tick starts a fresh one
                busy, adv, frm, enc, frames = meter.busy, advance.total, frame.total, encode.total, encode.calls
                paused, full = collector.paused, collector.full
                wall.now += period
                start = time.perf_counter()
                app.tick()
                in_tick = time.perf_counter() - start
                settled = await settle(meter)
                ticks.append({
                    "total": meter.busy - busy, "in_tick": in_tick, "advance": advance.total - adv,
                    "frame": frame.total - frm, "encode": encode.total - enc, "frames": encode.calls - frames,
                    "gc": collector.paused - paused, "gc_full": collector.full - full, "settled": settled,
                })
                index += 1
            wall_seconds = time.perf_counter() - began
        log = app.main.query_one("#timeline-log")
        side = app.main.query_one("#side-timeline")
        shown = (len(log.lines), log.max_lines, len(side.lines), side.max_lines)
    return {"ticks": ticks, "wall": wall_seconds, "timeline_lines": shown}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def bench(*, events: int = 10_000, speed: float = 60.0, refresh_hz: float = 5.0, seed: int = 0,
          tab: str = "incident") -> dict[str, Any]:
    """Run the drill in the console under load; the figures."""
    from tabletop.drill.session import DrillSession
    from tabletop.scenario.loader import load_scenario
    from tabletop.tui.app import TabletopApp

    loaded = load_scenario(SCENARIO)
    duration = loaded.scenario.metadata.duration
    with tempfile.TemporaryDirectory(prefix="tabletop-console-bench-") as out:
        session = DrillSession.start(loaded, seed=seed, out_dir=Path(out),
                                     scenario_label="scenarios/serving-gpu-node-failure.yaml")
        session.set_speed(speed)
        session.resume()  # as after pressing space
        wall = Wall()
        app = TabletopApp(session, acting_as="alice", refresh_hz=refresh_hz, wall=wall)
        expected = math.ceil(round(duration / (speed / app.refresh_hz), 6))
        load = Load(session, events, expected, seed)
        run = asyncio.run(drive(app, session, wall, load, tab))
    ticks = run["ticks"]
    totals = [t["total"] * 1000 for t in ticks]
    spent = sum(t["total"] for t in ticks)
    advance = sum(t["advance"] for t in ticks)
    frame = sum(t["frame"] for t in ticks)
    widgets = sum(t["in_tick"] - t["advance"] - t["frame"] for t in ticks)
    textual = sum(t["total"] - t["in_tick"] for t in ticks)
    encode = sum(t["encode"] for t in ticks)
    last = ticks[-1]
    lines = run["timeline_lines"]
    return {
        "scenario": SCENARIO.name,
        "speed": speed,
        "refresh_hz": app.refresh_hz,
        "size": f"{SIZE[0]}x{SIZE[1]}",
        "tab": tab,
        "ticks": len(ticks),
        "tick_ms_median": round(statistics.median(totals), 3),
        "tick_ms_p99": round(percentile(totals, 0.99), 3),
        "tick_ms_max": round(max(totals), 3),
        "tick_ms_max_at": totals.index(max(totals)) + 1,
        "tick_ms_mean": round(statistics.fmean(totals), 3),
        "median_target_ms": MEDIAN_TARGET_MS,
        "p99_target_ms": P99_TARGET_MS,
        "last_tick_ms": round(last["total"] * 1000, 3),
        "last_tick_advance_ms": round(last["advance"] * 1000, 3),
        "advance_ms_median": round(statistics.median(t["advance"] * 1000 for t in ticks), 3),
        "redraw_ms_median": round(statistics.median((t["total"] - t["advance"]) * 1000 for t in ticks), 3),
        "advance_share": round(advance / spent, 4),
        "redraw_share": round(1 - advance / spent, 4),
        "frame_read_share": round(frame / spent, 4),
        "view_update_share": round(widgets / spent, 4),
        "textual_share": round(textual / spent, 4),
        "encode_share": round(encode / spent, 4),
        "gc_share": round(sum(t["gc"] for t in ticks) / spent, 4),
        "gc_full_collections": sum(int(t["gc_full"]) for t in ticks),
        "gc_full_ticks_in_slowest_1pct": sum(int(t["gc_full"] > 0) for t in sorted(ticks, key=lambda t: -t["total"])[:max(1, len(ticks) // 100)]),
        "ticks_unsettled": sum(not t["settled"] for t in ticks),
        "frames_drawn": sum(int(t["frames"]) for t in ticks),
        "wall_seconds": round(run["wall"], 2),
        "tick_seconds_total": round(spent, 3),
        "timeline_events": len(session.drill.timeline.events),
        "commands": load.commands,
        "commands_refused": load.refused,
        "command_ms_mean": round(load.seconds / max(1, load.commands) * 1000, 3),
        "timeline_tab_lines": f"{lines[0]}/{lines[1]}",
        "side_timeline_lines": f"{lines[2]}/{lines[3]}",
        "ended": session.ended,
    }


def describe(f: dict[str, Any]) -> list[str]:
    return [
        (f"drill console, 2-hour drill of {f['scenario']} at {f['speed']:g}x, {f['refresh_hz']:g} Hz, {f['size']}, "
        f"{f['tab']} tab: per-tick median {f['tick_ms_median']:.1f} ms (target < {MEDIAN_TARGET_MS:.0f} ms), "
        f"p99 {f['tick_ms_p99']:.1f} ms (target < {P99_TARGET_MS:.0f} ms), max {f['tick_ms_max']:.1f} ms "
        f"(tick {f['tick_ms_max_at']} of {f['ticks']})"),
        (f"  {f['ticks']} ticks in {f['wall_seconds']:.1f} s wall ({f['tick_seconds_total']:.1f} s of it ticking); "
        f"timeline {f['timeline_events']:,} events ({f['commands']:,} commands before the ticks, "
        f"{f['command_ms_mean']:.2f} ms each, not tick time); shown: timeline tab {f['timeline_tab_lines']} lines, "
        f"side {f['side_timeline_lines']}"),
        (f"  tick time: simulation advance {f['advance_share']:.1%} (median {f['advance_ms_median']:.1f} ms), "
        f"redraw {f['redraw_share']:.1%} (median {f['redraw_ms_median']:.1f} ms) = board read "
        f"{f['frame_read_share']:.1%} + view updates {f['view_update_share']:.1%} + Textual layout/render "
        f"{f['textual_share']:.1%} (terminal encoding {f['encode_share']:.1%}, {f['frames_drawn']:,} screen updates)"),
        (f"  garbage-collector pauses (within the above) {f['gc_share']:.1%} of tick time ({f['gc_full_collections']} full collections, "
        f"in {f['gc_full_ticks_in_slowest_1pct']} of the slowest {max(1, f['ticks'] // 100)} ticks); last tick "
        f"(the end: score, postmortem, end screen) {f['last_tick_ms']:.0f} ms"
        + (f"; {f['ticks_unsettled']} ticks still busy after {SETTLE_LIMIT:g} s" if f["ticks_unsettled"] else "")),
    ]


def passed(f: dict[str, Any]) -> bool:
    return f["tick_ms_median"] < MEDIAN_TARGET_MS and f["tick_ms_p99"] < P99_TARGET_MS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000, help="timeline events by the end (default 10000)")
    parser.add_argument("--speed", type=float, default=60.0, help="virtual seconds per wall second (default 60)")
    parser.add_argument("--hz", type=float, default=5.0, help="console refresh rate, 4-10 (default 5, the console's)")
    parser.add_argument("--tab", default="incident", choices=["incident", "signals", "investigate", "runbook", "timeline"],
                        help="the tab on screen (default incident; the side timeline shows in every tab but timeline)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    figures = bench(events=args.events, speed=args.speed, refresh_hz=args.hz, seed=args.seed, tab=args.tab)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print("\n".join(describe(figures)))
    return 0 if passed(figures) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main(sys.argv[1:]))
