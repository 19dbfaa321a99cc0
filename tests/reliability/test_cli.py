"""`tabletop reliability` as a user runs it: reports, files, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tabletop.cli import main
from tests.reliability.published import LLAMA3


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["reliability", *args])
    return result.exit_code, result.stdout, result.stderr


def test_the_default_is_the_bundled_llama3_run_as_markdown() -> None:
    code, out, _ = invoke("--runs", "20")
    assert code == 0
    assert out.startswith("# Reliability: Llama 3 405B pre-training")
    assert "16,384 GPUs in 2,048 nodes of 8, 32 spare nodes; 54 days; 20 runs, seeds 1-20." in out
    row = next(line for line in out.splitlines() if line.startswith("| Faulty GPU |"))
    assert row.split("|")[2:4] == [" node ", " 148.0 "]
    assert "| ETTR (productive time / wall time) | 9" in out  # above 90%
    assert "Young's sqrt(2 delta M) = 7m52s" in out


def test_json_has_the_spread_of_every_metric_and_each_run(tmp_path: Path) -> None:
    code, out, _ = invoke(str(LLAMA3), "--runs", "5", "--seed", "10", "--days", "7", "--format", "json")
    assert code == 0
    summary = json.loads(out)
    assert summary["runs"] == 5 and summary["seeds"] == [10, 14] and summary["fleet"]["days"] == 7
    ettr = summary["metrics"]["ettr"]
    assert ettr["n"] == 5 and ettr["ci95"][0] < ettr["mean"] < ettr["ci95"][1]
    assert [row["days"] for row in summary["rows"]] == [7] * 5
    assert summary["closed_forms"]["unexpected_interruptions"] == pytest.approx(419 * 7 / 54)
    again = json.loads(invoke(str(LLAMA3), "--runs", "5", "--seed", "10", "--days", "7", "--format", "json")[1])
    assert again == summary


def test_out_writes_both_reports(tmp_path: Path) -> None:
    code, out, _ = invoke("--runs", "3", "--out", str(tmp_path / "report"))
    assert code == 0
    assert out.splitlines() == [f"wrote {tmp_path / 'report' / 'reliability.md'}", f"wrote {tmp_path / 'report' / 'reliability.json'}"]
    assert (tmp_path / "report" / "reliability.md").read_text().startswith("# Reliability:")
    assert json.loads((tmp_path / "report" / "reliability.json").read_text())["runs"] == 3


BROKEN = [
    ("reference: {days: 54, nodes: 2048}", "",
     "{f}:30:51: failures[0].count: a count needs the top-level 'reference' (the days and nodes it was observed over), "
     "e.g. reference: {{days: 54, nodes: 2048}}\n1 error in 1 file\n"),
    ("  gpus: 16384\n", "  gpus: 16380\n", "{f}:18:9: job.gpus: expected a multiple of gpus_per_node (8), got 16380"),
    ("  interval: 10m\n", "  interval: 0s\n", "{f}:23:13: checkpoint.interval: expected a number greater than 0, got '0s'"),
    ("spare_nodes: 32\n", "spare_node: 32\n", "{f}:28:1: spare_node: unknown key 'spare_node' (did you mean 'spare_nodes'?)"),
    ("count: 72}", "count: 72, per_1000_node_days: 2}",
     "{f}:31:5: failures[1]: expected exactly one of 'count' or 'per_1000_node_days', got 2"),
    ("cause: nic,", "cause: ssd,", "{f}:41:13: failures[11].cause: cause 'ssd' is named twice"),
    ("restart: 4m\n", "restart: [4m\n", "{f}:26:10: YAML syntax"),
]


@pytest.mark.parametrize(("old", "new", "expected"), BROKEN)
def test_a_broken_fleet_file_gets_a_located_error_and_exit_1(tmp_path: Path, old: str, new: str, expected: str) -> None:
    text = LLAMA3.read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "fleet.yaml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    code, out, err = invoke(str(broken))
    assert code == 1 and out == ""
    assert err.startswith(expected.format(f=broken)), err
    assert "Traceback" not in err


def test_bad_arguments_fail_clearly(tmp_path: Path) -> None:
    code, _, err = invoke(str(tmp_path / "missing.yaml"))
    assert code == 1 and err.startswith(f"{tmp_path / 'missing.yaml'}:1:1: file not found")
    code, _, err = invoke("--days", "0")
    assert code == 1 and err.strip() == "error: --days: expected a number of days greater than 0 and at most 3650, got 0"
    code, _, err = invoke("--runs", "0")
    assert code == 2 and "--runs" in err  # click's own usage error


def test_python_m_tabletop_reliability_prints_json() -> None:
    result = subprocess.run([sys.executable, "-m", "tabletop", "reliability", "--runs", "10", "--format", "json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["metrics"]["unexpected_interruptions"]["n"] == 10


def test_a_fleet_without_failures_reports_what_checkpoints_cost(tmp_path: Path) -> None:
    quiet = tmp_path / "quiet.yaml"
    quiet.write_text("apiVersion: tabletop/v1\nkind: ReliabilityFleet\nmetadata: {id: quiet, title: Quiet}\n"
                     "job: {gpus: 64}\ncheckpoint: {interval: 1h, write: 36s}\n", encoding="utf-8")
    code, out, _ = invoke(str(quiet), "--runs", "1")
    assert code == 0
    assert "64 GPUs in 8 nodes of 8, unlimited replacements; 54 days; 1 run, seeds 1-1." in out
    assert "| ETTR (productive time / wall time) | 99.01% | - | - | 99.01% |" in out
    assert "| job MTTF, unexpected (h) | - | - | - |  |" in out
    assert "No failure class takes a node out: no spare is ever needed." in out
