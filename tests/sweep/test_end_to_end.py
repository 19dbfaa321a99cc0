"""A small real sweep through the ``tabletop sweep`` command: 2 escalation timeouts x 2 seeds of
the bundled drill on 2 worker processes, and what it leaves in its folder."""

from __future__ import annotations

import csv
import json
import shutil
import statistics
from pathlib import Path

import pytest

from tests.sweep.helpers import ESCALATION, jsonl, parquet_rows, tabletop, write


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    base = tmp_path_factory.mktemp("sweep")
    spec = write(base, ESCALATION)
    out = base / "out"
    result = tabletop("sweep", str(spec), "--out", str(out), "--workers", "2")
    assert result.returncode == 0, result.stderr
    return spec, out, result.stdout + result.stderr


def test_it_writes_every_run_as_a_row(swept: tuple[Path, Path, str]) -> None:
    _, out, printed = swept
    logged = jsonl(out / "runs.jsonl")
    assert sorted((r["ack_timeout"], r["seed"]) for r in logged) == [("10m", 1), ("10m", 2), ("2m", 1), ("2m", 2)]
    rows = parquet_rows(out / "runs.parquet")
    assert [(r["ack_timeout"], r["seed"]) for r in rows] == [("2m", 1), ("2m", 2), ("10m", 1), ("10m", 2)]
    columns = list(rows[0])
    assert columns[:3] == ["ack_timeout", "seed", "score"]
    assert "criteria.time_to_acknowledge.points" in columns and "criteria.time_to_acknowledge.rating" in columns
    assert {"time_to_acknowledge", "time_to_mitigate", "slo_budget_spent.chat-llm-availability",
            "slo_budget_spent.chat-llm-latency", "escalations"} <= set(columns)
    with (out / "runs.csv").open(encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0]) == columns and len(table) == 4
    assert [float(t["score"]) for t in table] == [r["score"] for r in rows]
    assert "sweep: 4 runs (4 run now, 0 already in" in printed and "on 2 workers" in printed


def test_the_parameter_really_changes_the_drill(swept: tuple[Path, Path, str]) -> None:
    rows = {(r["ack_timeout"], r["seed"]): r for r in parquet_rows(swept[1] / "runs.parquet")}
    for seed in (1, 2):
        short, long = rows["2m", seed], rows["10m", seed]
        # the novice misses the first page: it is acknowledged after the first level's timeout
        assert long["time_to_acknowledge"] - short["time_to_acknowledge"] == pytest.approx(8 * 60)
        assert short["escalations"] >= 1 and short["score"] > long["score"]
        assert short["criteria.time_to_acknowledge.rating"] in "PSMU"


def test_the_summary_has_mean_and_interval_per_value(swept: tuple[Path, Path, str]) -> None:
    _, out, printed = swept
    rows = parquet_rows(out / "runs.parquet")
    summary = json.loads((out / "summary.json").read_text())
    entry = next(e for e in summary["by_parameter"]["ack_timeout"] if e["value"] == "2m")
    scores = [r["slo_budget_spent.chat-llm-latency"] for r in rows if r["ack_timeout"] == "2m"]
    found = entry["metrics"]["slo_budget_spent.chat-llm-latency"]
    half = 12.706 * statistics.stdev(scores) / 2 ** 0.5  # t(0.975, 1 degree of freedom)
    assert (found["n"], found["mean"]) == (2, pytest.approx(statistics.fmean(scores)))
    assert found["ci95"] == [pytest.approx(found["mean"] - half), pytest.approx(found["mean"] + half)]
    assert entry["ratings"]["criteria.time_to_acknowledge.rating"]
    markdown = (out / "summary.md").read_text()
    assert "## By ack_timeout" in markdown and "| 2m | 2 |" in markdown and "Criteria: mean points" in markdown
    assert "| ack_timeout | runs | score | time_to_acknowledge |" in printed


def test_plots_and_a_self_contained_report(swept: tuple[Path, Path, str]) -> None:
    spec, out, _ = swept
    pictures = sorted((out / "plots").glob("*.png"))
    names = {p.name for p in pictures}
    assert {"score--ack_timeout.png", "time_to_acknowledge--ack_timeout.png",
            "slo_budget_spent.chat-llm-latency--ack_timeout.png"} <= names
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pictures)
    report = (out / "report.html").read_text()
    assert report.count('src="data:image/png;base64,') == len(pictures)
    assert "<link" not in report and 'src="http' not in report and "<script" not in report
    assert "escalation_policies[id=serving-oncall].levels[0].ack_timeout" in report
    assert "kind: Sweep" in report  # the sweep file itself


def test_running_it_again_runs_nothing_and_more_seeds_run_only_the_new_ones(swept: tuple[Path, Path, str],
                                                                            tmp_path: Path) -> None:
    spec, out, _ = swept
    again = tmp_path / "out"
    shutil.copytree(out, again)
    result = tabletop("sweep", str(spec), "--out", str(again), "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert "sweep: 4 runs (0 run now, 4 already in" in result.stderr
    assert parquet_rows(again / "runs.parquet") == parquet_rows(out / "runs.parquet")
    more = write(tmp_path, ESCALATION.replace("seeds: 1-2", "seeds: 1-3"), "more.yaml")
    result = tabletop("sweep", str(more), "--out", str(again), "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert "sweep: 6 runs (2 run now, 4 already in" in result.stderr
    assert len(jsonl(again / "runs.jsonl")) == 6


def test_a_changed_sweep_is_refused_its_old_folder(swept: tuple[Path, Path, str], tmp_path: Path) -> None:
    _, out, _ = swept
    again = tmp_path / "out"
    shutil.copytree(out, again)
    before = (again / "runs.jsonl").read_bytes()
    other = write(tmp_path, ESCALATION.replace("responder: novice", "responder: expert")
                  .replace("metrics: [score, ", "metrics: ["), "other.yaml")
    result = tabletop("sweep", str(other), "--out", str(again))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {again} holds runs of another sweep: the responder, the metrics changed since")
    assert (again / "runs.jsonl").read_bytes() == before


def test_a_responder_script_beside_the_sweep_file_works_the_drill(tmp_path: Path) -> None:
    team = tmp_path / "team.yaml"
    team.write_text("apiVersion: tabletop/v1\nkind: ResponderScript\nname: team\ncommands:\n"
                    "  - {at: 17m, as: alice, run: ack}\n", encoding="utf-8")
    spec = write(tmp_path, ESCALATION.replace("responder: novice", "responder: team.yaml")
                 .replace("values: [2m, 10m]", "values: [30s, 5m]").replace("seeds: 1-2", "seeds: [1]"))
    result = tabletop("sweep", str(spec), "--out", str(tmp_path / "out"), "--workers", "2")
    assert result.returncode == 0, result.stderr
    rows = {r["ack_timeout"]: r for r in parquet_rows(tmp_path / "out" / "runs.parquet")}
    # alice acknowledges at 17m, a minute or two after the page: a 30 s timeout escalates it first, 5m does not
    assert rows["30s"]["escalations"] > rows["5m"]["escalations"]
    assert rows["30s"]["time_to_acknowledge"] == rows["5m"]["time_to_acknowledge"] <= 120
    team.write_text(team.read_text().replace("17m", "18m"), encoding="utf-8")
    changed = tabletop("sweep", str(spec), "--out", str(tmp_path / "out"))
    assert changed.returncode == 1 and "the responder changed since" in changed.stderr
