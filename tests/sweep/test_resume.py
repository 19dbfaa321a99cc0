"""A sweep killed part way continues where it stopped: rerun with the same folder, it runs only
the missing (parameters, seed) keys, never one twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.sweep.helpers import ESCALATION, ROOT, jsonl, parquet_rows, tabletop, write

LONG = ESCALATION.replace("seeds: 1-2", "seeds: 1-12")


def start(spec: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tabletop", "sweep", str(spec), "--out", str(out), "--workers", "2"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_rows(out: Path, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if (out / "runs.jsonl").exists() and len(jsonl(out / "runs.jsonl")) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"no {count} rows before the sweep ended: {process.communicate()}")


def running(pid: int) -> bool:
    """Alive and not a zombie waiting for its new parent to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def finish_and_check(spec: Path, out: Path, before: int) -> None:
    result = tabletop("sweep", str(spec), "--out", str(out), "--workers", "2")
    assert result.returncode == 0, result.stderr
    logged = jsonl(out / "runs.jsonl")
    keys = [(r["ack_timeout"], r["seed"]) for r in logged]
    assert len(keys) == len(set(keys)) == 24, "no key run twice, none missing"
    assert f"sweep: 24 runs ({24 - before} run now, {before} already in" in result.stderr
    assert len(parquet_rows(out / "runs.parquet")) == 24


def test_a_sweep_stopped_with_sigterm_continues_where_it_stopped(tmp_path: Path) -> None:
    spec, out = write(tmp_path, LONG), tmp_path / "out"
    process = start(spec, out)
    wait_for_rows(out, 3, process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    done = len(jsonl(out / "runs.jsonl"))
    assert 3 <= done < 24
    assert f"sweep: stopped after {done} of 24 runs; their rows are in {out / 'runs.jsonl'}" in stderr
    assert "Traceback" not in stderr
    assert not (out / "runs.parquet").exists()
    finish_and_check(spec, out, done)


def test_a_sweep_killed_outright_loses_only_its_runs_in_flight(tmp_path: Path) -> None:
    spec, out = write(tmp_path, LONG), tmp_path / "out"
    process = start(spec, out)
    wait_for_rows(out, 2, process)
    workers = children(process.pid)
    assert workers, "the pool's worker processes"
    process.kill()
    process.communicate(timeout=60)
    deadline = time.monotonic() + 10
    while any(map(running, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [pid for pid in workers if running(pid)]
    for pid in alive:  # never leave them behind, even when the check below fails
        os.kill(pid, signal.SIGKILL)
    assert not alive, "pool workers outlived the killed sweep"
    with (out / "runs.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"ack_timeout":"2m","seed":9,"sco')  # a row cut short as it was written
    done = len(jsonl_complete(out / "runs.jsonl"))
    finish_and_check(spec, out, done)


def jsonl_complete(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").split("\n")[:-1] if line.strip()]
