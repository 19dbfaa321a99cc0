"""Multi-seat load: ``.venv/bin/python benchmarks/seat_load.py [--seats 20] [--seconds 60] [--json]``.

A real seat server on loopback over the bundled scenario (``scenarios/serving-gpu-node-failure.yaml``)
and 20 joined seats, each a separate OS process, while the drill runs at 60x: one drill hour in
the default 60 wall seconds of measurement. Measured: per-seat update latency (p50/p99/max per
seat and over all seats; the issue's target: p99 under 250 ms over all seats, exit status 1 when
missed) and the drill server's CPU share.

The drill server
    As in ``benchmarks/seat_latency.py``, this process holds a ``DrillSession`` and a
    ``SeatServer`` whose drill thread stands in for the facilitator's console: it advances the
    clock by the wall time that passed and calls ``server.serve()`` every 200 ms tick, and at once
    when a seat's command wakes it (``notify``). The drill starts paused at speed 60
    (``set_speed(60)``), the seats join and catch up, then the facilitator's thread starts the
    clock (``resume``), as a facilitator starts it once people have joined; measurement starts
    then. The console's own drawing is not in this process (``benchmarks/console.py`` measures
    that), so the server's CPU here is the drill's simulation, the feed and the HTTP threads.

Twenty seats
    The scenario has six participants and a token opens one participant's seat; the drill
    refuses commands from anyone else ("'x' is not a participant of this drill"). Sharing six
    tokens among twenty processes would make them six seats (the server's seat list, its
    last-seen times and the commands' actors would say six), so the benchmark writes a copy of
    the scenario in a temporary folder (with the runbooks beside it, where its ``../runbooks/``
    finds them) whose only change is fourteen more participants (``seat07``..``seat20``)
    appended to ``participants:``. They are in no rota or escalation policy, so the simulation
    pages, fires and scores as the bundled scenario does (checked: the loaded copy equals the
    original but for its participants); the server issues one token for each of the twenty.

The seats
    Each seat is a process running what ``tabletop join`` runs minus the screen: a
    ``SeatClient``, a ``ReplicaSession`` caught up from the feed, its poller thread, and a
    console thread (here the process's main thread) that applies the feed at once on news
    (``ReplicaSession.on_news``, as ``tabletop join`` wires it to ``TabletopApp.news``) and at
    least every 200 ms tick. Its replica simulates the whole drill, as a participant's does on
    their own machine, so that CPU is the seats', not the server's; on this machine all of them
    share its cores with the server (reported, with the machine's busy cores). Half of the seats
    (``--posting``) also type: each posts ``note load WHO N`` every 2 to 8 wall seconds
    (uniform, seeded per seat) through ``ReplicaSession.execute``, in its console thread as the
    console does (the thread waits for the answer, and applies the command to its own replica).

Latency
    From the moment a seat sends a command (just before its POST) until each *other* seat's
    replica has applied it (just after the console thread's ``apply_feed`` that brought it
    returns: when a console would draw it). Each process reads ``time.monotonic()``; on Linux that
    is ``CLOCK_MONOTONIC``, one system-wide clock, so the readings of different processes on one
    machine are comparable directly (the start and stop moments are sent to the seats in it too).
    A command sent in the last seconds has ``GRACE`` seconds after the window to arrive; one
    that never reaches a seat counts as missed (and fails the run). Also reported: a seat's own
    command round trip (POST until its own replica shows the result).

CPU
    The server's share: ``time.process_time()`` of this process (drill thread, HTTP threads;
    its main thread only sleeps meanwhile) over the measured wall time, as a fraction of one
    core, also per seat; the drill thread's own share comes from its thread CPU clock. The seats'
    CPU is each process's ``time.process_time()`` over the same window. The machine's busy cores
    come from ``/proc/stat``. Run alone or by ``python3 dev.py bench`` (``bench_apart``: in a
    process of its own, so the server's CPU is only its own).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"
TICK = 0.2
TARGET = 0.250
SPEED = 60.0
GRACE = 3.0
"""Wall seconds after the window for the last commands to reach every seat."""
EVERY = (2.0, 8.0)
"""A typing seat's wall seconds between two commands (uniform)."""
PREFIX = "note load "


# the scenario with enough participants ---------------------------------------------------------------
def scenario_for(seats: int, folder: Path) -> tuple[Path, list[str]]:
    """A copy of the bundled scenario in ``folder`` with at least ``seats`` participants (the
    bundled ones, then ``seatNN``); its path and the participants of the seats."""
    from tabletop.scenario.loader import load_scenario

    original = load_scenario(SCENARIO)
    ids = [p.id for p in original.scenario.participants]
    extra = [f"seat{n:02d}" for n in range(len(ids) + 1, seats + 1)]
    lines = SCENARIO.read_text(encoding="utf-8").splitlines(keepends=True)
    last = max(i for i, line in enumerate(lines) if line.startswith(f"  - {{id: {ids[-1]},"))
    lines[last + 1:last + 1] = [f"  - {{id: {p}, name: Seat {p[4:]}, team: serving, title: Drill participant}}\n"
                                for p in extra]
    (folder / "scenarios").mkdir(parents=True)
    shutil.copytree(ROOT / "runbooks", folder / "runbooks")
    path = folder / "scenarios" / SCENARIO.name
    path.write_text("".join(lines), encoding="utf-8")
    copy = load_scenario(path)
    participants = [p.id for p in copy.scenario.participants]
    same = copy.scenario.model_copy(update={"participants": original.scenario.participants}) == original.scenario
    if participants != ids + extra or not same:
        raise RuntimeError(f"the scenario copy in {path} is not the bundled scenario with {len(extra)} more participants")
    return path, participants[:seats]


# the drill server: this process ----------------------------------------------------------------------
def cpu_busy() -> tuple[float, float] | None:
    """(busy, total) jiffies of all the machine's cores, from /proc/stat (None elsewhere)."""
    try:
        fields = [float(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    total = sum(fields[:8])
    return total - idle, total


def tcp_counters() -> dict[str, int] | None:
    """The machine's listen-queue overflows and SYN retransmits so far, from /proc/net/netstat
    (None elsewhere). A connection whose SYN found the listen queue full is retried by the
    client's kernel 1 s later (then 2 s, ...), which shows as latency of a second or more."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return None
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            known = dict(zip(names.split()[1:], values.split()[1:]))
            try:
                return {"listen_overflows": int(known["ListenOverflows"]), "syn_retransmits": int(known["TCPSynRetrans"])}
            except (KeyError, ValueError):
                return None
    return None


def thread_cpu(thread: threading.Thread) -> float | None:
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))  # type: ignore[arg-type]
    except (AttributeError, OSError, TypeError):
        return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def spread(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    return {"n": len(values), "p50_ms": round(percentile(values, 0.5) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1), "max_ms": round(max(values) * 1000, 1)}


def bench(seats: int = 20, seconds: float = 60.0, posting: int | None = None, seed: int = 1) -> dict[str, Any]:
    from tabletop.drill.session import DrillSession
    from tabletop.scenario.loader import load_scenario
    from tabletop.seats.server import SeatServer
    from tabletop.seats.tokens import SeatTokens

    posting = seats // 2 if posting is None else posting
    with tempfile.TemporaryDirectory(prefix="seat-load-") as temporary:
        folder = Path(temporary)
        path, who = scenario_for(seats, folder)
        loaded = load_scenario(path)
        if (seconds + GRACE) * SPEED >= loaded.scenario.metadata.duration:
            raise ValueError(f"--seconds {seconds:g} at {SPEED:g}x would reach the drill's end")
        session = DrillSession.start(loaded, seed=seed)
        session.set_speed(SPEED)  # paused until every seat has joined
        wake, started, stop = threading.Event(), threading.Event(), threading.Event()
        server = SeatServer(session, SeatTokens.issue([p.id for p in loaded.scenario.participants]), notify=wake.set)
        requests = [0]
        handler = server.httpd.RequestHandlerClass

        class Counted(handler):  # type: ignore[misc, valid-type]
            def do_GET(self) -> None:
                requests[0] += 1
                super().do_GET()

            def do_POST(self) -> None:
                requests[0] += 1
                super().do_POST()

        server.httpd.RequestHandlerClass = Counted
        server.start()

        def facilitator() -> None:  # the facilitator's console: a tick every 200 ms, or at once when woken
            last = time.monotonic()
            while not stop.is_set():
                wake.wait(TICK)
                wake.clear()
                now = time.monotonic()
                if started.is_set() and session.paused:
                    session.resume()
                    last = now
                session.advance(now - last)
                last = now
                server.serve()

        drill_thread = threading.Thread(target=facilitator, name="drill", daemon=True)
        drill_thread.start()
        processes: list[subprocess.Popen[str]] = []
        logs: list[Path] = []
        try:
            began = time.monotonic()
            for index, participant in enumerate(who):
                config = {"url": server.url, "participant": participant, "token": server.tokens.tokens[participant],
                          "scenario": str(path), "posting": index < posting, "seed": seed * 1000 + index}
                logs.append(folder / f"{participant}.log")
                with logs[-1].open("w") as log:
                    processes.append(subprocess.Popen([sys.executable, __file__, "--seat", json.dumps(config)],
                                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                                      text=True, cwd=ROOT))
            for process, log_path in zip(processes, logs):
                line = process.stdout.readline()  # type: ignore[union-attr]
                if not line.startswith('{"ready"'):
                    raise RuntimeError(f"a seat did not join:\n{log_path.read_text()}")
            joined = time.monotonic() - began
            start = time.monotonic() + 0.3
            end, until = start + seconds, start + seconds + GRACE
            for process in processes:
                process.stdin.write(json.dumps({"start": start, "stop": end, "until": until}) + "\n")  # type: ignore[union-attr]
                process.stdin.flush()  # type: ignore[union-attr]
            time.sleep(max(0.0, start - time.monotonic()))
            started.set()
            wake.set()
            cpu0, drill_cpu0, machine0, requests0 = time.process_time(), thread_cpu(drill_thread), cpu_busy(), requests[0]
            tcp0 = tcp_counters()
            wall0 = time.monotonic()
            time.sleep(max(0.0, end - time.monotonic()))
            cpu1, drill_cpu1, machine1, requests1 = time.process_time(), thread_cpu(drill_thread), cpu_busy(), requests[0]
            tcp1 = tcp_counters()
            wall = time.monotonic() - wall0
            drill_seconds = session.now
            results = []
            for process, log_path in zip(processes, logs):
                out, _ = process.communicate(timeout=max(0.0, until - time.monotonic()) + 60)
                last = out.strip().splitlines()[-1] if out.strip() else ""
                if process.returncode != 0 or not last.startswith("{"):
                    raise RuntimeError(f"a seat failed (exit {process.returncode}):\n{log_path.read_text()}")
                results.append(json.loads(last))
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            stop.set()
            drill_thread.join()
            server.close()

    sent = {line: (r["participant"], t) for r in results for line, t in r["sent"].items()}
    everyone: list[float] = []
    per_seat: dict[str, dict[str, Any]] = {}
    missed = 0
    for r in results:
        latencies = [r["arrived"][line] - t for line, (sender, t) in sent.items()
                     if sender != r["participant"] and line in r["arrived"]]
        lost = sum(1 for line, (sender, _) in sent.items() if sender != r["participant"] and line not in r["arrived"])
        missed += lost
        everyone.extend(latencies)
        per_seat[r["participant"]] = {**spread(latencies), "missed": lost, "typing": r["posting"],
                                      "cpu_share": round(r["cpu"] / wall, 4), "problem": r["problem"]}
    own = [x for r in results for x in r["own"]]
    seats_cpu = sum(r["cpu"] for r in results)
    machine = None
    if machine0 is not None and machine1 is not None and machine1[1] > machine0[1]:
        machine = round((machine1[0] - machine0[0]) / (machine1[1] - machine0[1]) * (os.cpu_count() or 1), 3)
    server_share = (cpu1 - cpu0) / wall
    drill_share = (drill_cpu1 - drill_cpu0) / wall if drill_cpu0 is not None and drill_cpu1 is not None else None
    return {
        "seats": seats, "typing_seats": posting, "seconds": round(wall, 2), "speed": SPEED,
        "drill_minutes": round(drill_seconds / 60, 1), "join_seconds": round(joined, 2),
        "commands": len(sent), "commands_refused": sum(r["refused"] for r in results),
        "deliveries": len(everyone), "missed": missed,
        **{k: v for k, v in spread(everyone).items() if k != "n"}, "target_p99_ms": TARGET * 1000,
        "own_round_trip": spread(own),
        "server_cpu_share": round(server_share, 4),
        "server_drill_thread_share": None if drill_share is None else round(drill_share, 4),
        "server_cpu_share_per_seat": round(server_share / seats, 5),
        "requests_per_second": round((requests1 - requests0) / wall, 1),
        "seats_cpu_cores": round(seats_cpu / wall, 3), "seat_cpu_share_mean": round(seats_cpu / wall / seats, 4),
        "machine_busy_cores": machine, "cores": os.cpu_count(),
        "tcp": None if tcp0 is None or tcp1 is None else {k: tcp1[k] - tcp0[k] for k in tcp0},
        "per_seat": per_seat,
    }


def bench_apart(seats: int = 20, seconds: float = 60.0) -> dict[str, Any]:
    """``bench`` in a process of its own: the server's CPU is then only the drill server's."""
    done = subprocess.run([sys.executable, __file__, "--seats", str(seats), "--seconds", str(seconds), "--json"],
                          capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise RuntimeError(f"benchmarks/seat_load.py failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def passed(figures: dict[str, Any]) -> bool:
    return (figures["p99_ms"] is not None and figures["p99_ms"] < figures["target_p99_ms"] and figures["missed"] == 0
            and not any(s["problem"] for s in figures["per_seat"].values()))


def describe(f: dict[str, Any]) -> list[str]:
    def ms(x: float | None) -> str:
        return "   -  " if x is None else f"{x:6.1f}"

    lines = [
        f"seat load: {f['seats']} seats ({f['typing_seats']} typing a note every {EVERY[0]:g}-{EVERY[1]:g} s) on "
        f"{SCENARIO.name}, {f['speed']:g}x: {f['seconds']:.0f} s measured = {f['drill_minutes']:g} drill minutes "
        f"(all joined in {f['join_seconds']:.1f} s)",
        f"  update latency, a seat's POST → each other seat's replica: p50 {ms(f['p50_ms'])} ms  p99 {ms(f['p99_ms'])} ms"
        f"  max {ms(f['max_ms'])} ms over {f['deliveries']:,} deliveries of {f['commands']} commands "
        f"(target p99 < {f['target_p99_ms']:.0f} ms)" + (f"; {f['missed']} deliveries MISSED" if f["missed"] else ""),
    ]
    for participant, s in f["per_seat"].items():
        problem = f"  {s['problem']}" if s["problem"] else ""
        lines.append(f"    {participant:<8}{'typing' if s['typing'] else '      '}  p50 {ms(s['p50_ms'])}  "
                     f"p99 {ms(s['p99_ms'])}  max {ms(s['max_ms'])} ms  ({s['n']}{', missed ' + str(s['missed']) if s['missed'] else ''})"
                     f"  CPU {s['cpu_share']:.1%}{problem}")
    own = f["own_round_trip"]
    lines.append(f"  own command round trip (POST → own replica has it): p50 {ms(own['p50_ms'])} ms  "
                 f"p99 {ms(own['p99_ms'])} ms  max {ms(own['max_ms'])} ms"
                 + (f"  ({f['commands_refused']} refused)" if f["commands_refused"] else ""))
    drill = f["server_drill_thread_share"]
    lines.append(f"  drill server CPU: {f['server_cpu_share']:.1%} of one core"
                 + ("" if drill is None else f" (drill thread {drill:.1%}, HTTP threads and the rest "
                                             f"{f['server_cpu_share'] - drill:.1%})")
                 + f", {f['server_cpu_share_per_seat']:.2%} per seat; {f['requests_per_second']:.0f} requests/s")
    machine = f["machine_busy_cores"]
    lines.append(f"  seats' CPU: {f['seats_cpu_cores']:.2f} cores in all, {f['seat_cpu_share_mean']:.1%} of one core "
                 f"per seat" + ("" if machine is None else f"; the machine: {machine:.2f} of its {f['cores']} cores busy"))
    tcp = f["tcp"]
    if tcp is not None:
        lines.append(f"  TCP on this machine meanwhile: {tcp['listen_overflows']} listen-queue overflows, "
                     f"{tcp['syn_retransmits']} SYN retransmits")
    if not passed(f) and tcp is not None and tcp["listen_overflows"]:
        lines.append("  the seat server's listen queue overflowed: a refused connection (a seat's next long poll or "
                     "its command; each request is a new connection) is retried by the seat's kernel only after 1 s "
                     "(longer when refused again). Every clock publish answers all the seats' long polls at once, so they all connect "
                     "again at once, and the server listens with socketserver's default backlog of 5 "
                     "(ThreadingHTTPServer.request_queue_size)")
    if not passed(f) and machine is not None and f["cores"] and machine >= 0.9 * f["cores"]:
        lines.append(f"  the machine's cores were saturated ({machine:.2f} of {f['cores']}), "
                     f"{f['seats_cpu_cores']:.2f} cores of it the seats' own processes: in a real drill each seat "
                     "runs on its participant's machine, so part of this latency is this machine's, not the server's")
    return lines


# a seat: a process of its own ------------------------------------------------------------------------
def seat(config: dict[str, Any]) -> int:
    """What ``tabletop join`` runs, without the screen: prints one line when joined, reads the
    window's moments from stdin, then at the end prints what it sent and when it had each command."""
    sys.path.insert(0, str(ROOT / "src"))
    from tabletop.scenario.loader import load_scenario
    from tabletop.seats.client import SeatClient
    from tabletop.seats.replica import ReplicaSession, header_of

    participant = config["participant"]
    loaded = load_scenario(Path(config["scenario"]))
    client = SeatClient(config["url"], config["token"])
    hello = client.hello()
    header = header_of(hello["header"])
    if hello["participant"] != participant or header.scenario_sha256 != loaded.sha256:
        print(f"{participant}: the token opens {hello['participant']}'s seat, or the scenario is not the drill's",
              file=sys.stderr)
        return 1
    replica = ReplicaSession(loaded, header, participant, client)
    replica.catch_up()
    news = threading.Event()
    replica.on_news = news.set
    replica.start_polling()
    print(json.dumps({"ready": participant}), flush=True)
    window = json.loads(sys.stdin.readline())
    start, stop, until = window["start"], window["stop"], window["until"]
    rng = random.Random(config["seed"])
    due = start + rng.uniform(0, EVERY[1]) if config["posting"] else math.inf
    sent: dict[str, float] = {}
    arrived: dict[str, float] = {}
    own: list[float] = []
    refused = 0
    cpu: list[float] = []
    seen = len(replica.drill.timeline.events)

    def record() -> None:
        nonlocal seen
        at = time.monotonic()
        events = replica.drill.timeline.events
        for event in events[seen:]:
            if event.kind == "command" and str(event.data.get("line", "")).startswith(PREFIX):
                arrived.setdefault(event.data["line"], at)
        seen = len(events)

    n = 0
    while True:
        now = time.monotonic()
        if len(cpu) == 0 and now >= start or len(cpu) == 1 and now >= stop:
            cpu.append(time.process_time())
        if now >= until:
            break
        marks = [m for m in (start, stop, until, due) if m > now]
        news.wait(max(0.0, min([TICK, *(m - now for m in marks)])))
        news.clear()
        replica.apply_feed()  # what the console's news (or its tick) does: apply the feed, then draw
        record()
        if time.monotonic() >= due:
            if due < stop:
                line = f"{PREFIX}{participant} {n}"
                n += 1
                sent[line] = time.monotonic()
                result = replica.execute(participant, line)
                own.append(time.monotonic() - sent[line])
                refused += not result.ok
                record()
                due = max(due + rng.uniform(*EVERY), time.monotonic())
            else:
                due = math.inf
    replica.stop_polling()
    print(json.dumps({"participant": participant, "posting": config["posting"], "sent": sent, "arrived": arrived,
                      "own": own, "refused": refused, "cpu": cpu[1] - cpu[0], "problem": replica.problem}), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seats", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0, help="wall seconds measured (at 60x: drill minutes)")
    parser.add_argument("--posting", type=int, default=None, help="seats that type commands (default: half)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    parser.add_argument("--seat", metavar="CONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seat is not None:
        return seat(json.loads(args.seat))
    if args.seats < 2:
        parser.error("--seats: at least 2 (latency is from one seat to the others)")
    figures = bench(args.seats, args.seconds, args.posting, args.seed)
    print(json.dumps(figures) if args.json else "\n".join(describe(figures)))
    return 0 if passed(figures) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
