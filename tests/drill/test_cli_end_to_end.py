"""The headless drill through the real ``tabletop`` command: run, score, postmortem, replay, and
what happens with bad input or a killed run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tabletop.drill.timeline_reader import read_timeline

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"


def tabletop(*args: str, cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tabletop", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def assert_clean_failure(result: subprocess.CompletedProcess[str], code: int = 1) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("runs")
    folders = {}
    for responder in ("expert", "novice"):
        folder = base / responder
        result = tabletop("run", str(BUNDLED), "--headless", "--responder", responder, "--seed", "7", "--out", str(folder))
        assert result.returncode == 0, result.stderr
        assert f"responder {responder}" in result.stdout and "score" in result.stdout
        folders[responder] = folder
    return folders


def test_run_writes_all_outputs(runs: dict[str, Path]) -> None:
    for folder in runs.values():
        assert sorted(p.name for p in folder.iterdir()) == ["postmortem.md", "score.json", "score.md", "timeline.jsonl"]
    header = json.loads((runs["expert"] / "timeline.jsonl").read_text().splitlines()[0])
    assert header["kind"] == "header" and header["seed"] == 7 and header["responder"] == "expert"
    assert len(header["scenario"]["sha256"]) == 64 and header["tabletop_version"]


def test_expert_scores_high_and_novice_low_with_cited_evidence(runs: dict[str, Path]) -> None:
    expert = json.loads((runs["expert"] / "score.json").read_text())
    novice = json.loads((runs["novice"] / "score.json").read_text())
    assert expert["total"] >= 85
    assert novice["total"] <= 60
    for score, folder in ((expert, runs["expert"]), (novice, runs["novice"])):
        seqs = {json.loads(line).get("seq") for line in (folder / "timeline.jsonl").read_text().splitlines()}
        for criterion in score["criteria"]:
            assert criterion["rating"] in "PSMU" and criterion["summary"]
            cited = [e["seq"] for e in criterion["evidence"]]
            assert set(cited) <= seqs
            if criterion["rating"] != "P":
                assert cited, f"{criterion['id']} rated {criterion['rating']} without evidence"
    novice_ratings = {c["id"]: c["rating"] for c in novice["criteria"]}
    assert novice_ratings["harmful_actions"] != "P"  # the novice's rollout restart is caught
    assert novice_ratings["runbook_steps"] in "MU"


def test_postmortem_is_drafted_from_the_run(runs: dict[str, Path]) -> None:
    text = (runs["novice"] / "postmortem.md").read_text()
    for heading in ("## Summary", "## Impact", "## Root causes", "## Trigger", "## Resolution", "## Detection",
                    "## Action items", "## Lessons learned", "## Timeline", "## Supporting information"):
        assert heading in text
    assert "gpu-serve-2" in text and "rollout_restart" in text


def test_same_seed_gives_the_same_bytes_and_replay_verifies(runs: dict[str, Path], tmp_path: Path) -> None:
    again = tabletop("run", str(BUNDLED), "--responder", "expert", "--seed", "7", "--out", str(tmp_path / "again"))
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again" / "timeline.jsonl").read_bytes() == (runs["expert"] / "timeline.jsonl").read_bytes()
    for folder in runs.values():
        verified = tabletop("replay", str(folder / "timeline.jsonl"), "--verify")
        assert verified.returncode == 0, verified.stderr
        assert "identical" in verified.stdout


def test_replay_verify_catches_a_changed_timeline(runs: dict[str, Path], tmp_path: Path) -> None:
    lines = (runs["expert"] / "timeline.jsonl").read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if '"kind":"page.acknowledged"' in line)
    lines[index] = lines[index].replace('"by":"alice"', '"by":"bob"')
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text("\n".join(lines) + "\n")
    result = tabletop("replay", str(tampered), "--verify")
    assert_clean_failure(result)
    assert f"differs at line {index + 1}" in result.stderr


def test_score_and_postmortem_commands_read_a_saved_timeline(runs: dict[str, Path], tmp_path: Path) -> None:
    timeline = str(runs["expert"] / "timeline.jsonl")
    scored = tabletop("score", timeline, "--format", "json")
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout) == json.loads((runs["expert"] / "score.json").read_text())
    drafted = tabletop("postmortem", timeline, "--out", str(tmp_path / "pm.md"))
    assert drafted.returncode == 0, drafted.stderr
    assert (tmp_path / "pm.md").read_text() == (runs["expert"] / "postmortem.md").read_text()


def test_a_killed_run_leaves_a_readable_timeline(tmp_path: Path) -> None:
    out = tmp_path / "killed"
    process = subprocess.Popen(
        [sys.executable, "-m", "tabletop", "run", str(BUNDLED), "--responder", "expert", "--duration", "30d", "--out", str(out)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    timeline = out / "timeline.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not timeline.exists() or timeline.stat().st_size < 20_000):
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    recorded = read_timeline(timeline)
    assert len(recorded.events) > 50
    assert [e.seq for e in recorded.events] == list(range(1, len(recorded.events) + 1))
    assert not any(e.kind == "drill.ended" for e in recorded.events)
    scored = tabletop("score", str(timeline))
    assert scored.returncode == 0, scored.stderr
    replayed = tabletop("replay", str(timeline), "--verify")
    assert replayed.returncode == 0, replayed.stderr


def test_a_responder_script_drives_the_drill(tmp_path: Path) -> None:
    script = tmp_path / "team.yaml"
    script.write_text(
        "apiVersion: tabletop/v1\nkind: ResponderScript\nname: team\ncommands:\n"
        "  - {at: 17m, as: alice, run: ack}\n"
        "  - {at: 18m, as: alice, run: 'assign incident_commander alice'}\n"
        "  - {at: 20m, as: bob, run: 'kubectl cordon gpu-serve-2'}\n"
        "  - {at: 21m, as: bob, run: 'mitigate delete_pod pod/chat-llm-bbbbbbbbbb-zzzzz'}\n"
    )
    result = tabletop("run", str(BUNDLED), "--responder", str(script), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    commands = [e for e in read_timeline(tmp_path / "out" / "timeline.jsonl").events if e.kind == "command"]
    assert [(e.t, e.actor, e.data["ok"]) for e in commands] == [
        (1020.0, "alice", True), (1080.0, "alice", True), (1200.0, "bob", True), (1260.0, "bob", False),
    ]


def test_bad_input_gets_located_errors_and_no_traceback(tmp_path: Path) -> None:
    assert_clean_failure(tabletop("run", str(tmp_path / "missing.yaml")))
    assert_clean_failure(tabletop("run", str(BUNDLED), "--seed", "abc"), code=2)
    assert_clean_failure(tabletop("run", str(BUNDLED), "--responder", "wizard"))
    assert_clean_failure(tabletop("run", str(BUNDLED), "--duration", "soon"))
    broken = tmp_path / "broken.yaml"
    broken.write_text(BUNDLED.read_text().replace("    replicas: 6\n", "    replicsa: 6\n").replace("../runbooks", str(ROOT / "runbooks")))
    result = tabletop("run", str(broken))
    assert_clean_failure(result)
    assert f"{broken}:" in result.stderr and "did you mean 'replicas'" in result.stderr
    bad_script = tmp_path / "bad.yaml"
    bad_script.write_text("apiVersion: tabletop/v1\nkind: ResponderScript\nname: x\ncommands:\n  - {at: 1m, as: alice, run: 'mitigate drain pod/x'}\n")
    result = tabletop("run", str(BUNDLED), "--responder", str(bad_script))
    assert_clean_failure(result)
    assert f"{bad_script}:5:" in result.stderr and "target must be a node" in result.stderr
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text('{"kind":"header"}\n')
    assert_clean_failure(tabletop("score", str(garbage)))
    assert_clean_failure(tabletop("replay", str(tmp_path / "nope.jsonl")))


def test_validate_and_schema(tmp_path: Path) -> None:
    ok = tabletop("validate", str(BUNDLED), str(ROOT / "runbooks" / "serving-gpu-node-failure.md"))
    assert ok.returncode == 0, ok.stderr
    schema = json.loads(tabletop("schema").stdout)
    assert schema["$schema"].startswith("https://json-schema.org/") and "fleet" in schema["properties"]


def test_run_serves_live_metrics_while_paced(tmp_path: Path) -> None:
    import re
    import urllib.request

    process = subprocess.Popen(
        [sys.executable, "-m", "tabletop", "run", str(BUNDLED), "--speed", "60", "--metrics-port", "0",
         "--duration", "10m", "--out", str(tmp_path / "live")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        announced = process.stderr.readline()
        port = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", announced)
        assert port, announced
        body = ""
        deadline = time.monotonic() + 20
        while "DCGM_FI_DEV_GPU_UTIL{" not in body and time.monotonic() < deadline:
            time.sleep(0.2)  # the first simulated scrape has to happen first
            with urllib.request.urlopen(f"http://127.0.0.1:{port.group(1)}/metrics", timeout=10) as response:
                body = response.read().decode()
        assert 'DCGM_FI_DEV_GPU_UTIL{' in body and 'job="nvidia-dcgm-exporter"' in body
        assert "tabletop_drill_elapsed_seconds" in body
        assert process.wait(timeout=60) == 0  # 10 virtual minutes at 60x: about 10 s
    finally:
        process.kill()
        process.wait()


def test_headless_never_waits_on_the_wall_clock_and_says_what_it_skipped(tmp_path: Path) -> None:
    """A scenario with a Chaos Toolkit experiment would run paced at 1x (40 minutes of wall time):
    --headless runs it to its end at once, records the experiment as not run, and says so in one line."""
    chaos = ROOT / "scenarios" / "chaos-serving-replicas.yaml"
    result = tabletop("run", str(chaos), "--headless", "--out", str(tmp_path), timeout=60)
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if line.startswith("headless:")]
    assert said == ["headless: the scenario's 1 Chaos Toolkit experiment will be recorded as not run; to run them, "
                    "drop --headless (the drill then runs paced, --speed 10 to go faster)"]
    events = read_timeline(tmp_path / "timeline.jsonl").events
    assert [e.data["status"] for e in events if e.kind == "chaos.experiment.ended"] == ["not_run"]
    assert events[-1].kind == "drill.ended" and events[-1].data["reason"] == "duration"


@pytest.mark.parametrize("paced", [["--speed", "2"], ["--twin"], ["--metrics-port", "0"], ["--live"]])
def test_headless_refuses_options_that_need_the_wall_clock(paced: list[str], tmp_path: Path) -> None:
    result = tabletop("run", str(BUNDLED), "--headless", *paced, "--out", str(tmp_path))
    assert_clean_failure(result)
    assert result.stderr.strip() == (f"error: --headless runs as fast as the machine allows; {paced[0]} needs the wall "
                                     f"clock: drop --headless or {paced[0]}")
    assert not (tmp_path / "timeline.jsonl").exists()
