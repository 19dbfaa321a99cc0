"""A sweep of the reliability fleet: the checkpoint interval of the bundled Llama 3 fleet."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tabletop.reliability.run import simulate_fleet
from tests.sweep.helpers import FLEET, parquet_rows, tabletop, write

SPEC = f"""\
apiVersion: tabletop/v1
kind: Sweep
fleet: {FLEET}
parameters:
  - {{name: interval, path: checkpoint.interval, values: [5m, 10m, 1h]}}
seeds: 1-4
days: 10
metrics: [ettr, goodput, interruptions, lost_gpu_hours]
"""


def test_a_checkpoint_interval_sweep_of_the_bundled_fleet(tmp_path: Path) -> None:
    spec, out = write(tmp_path, SPEC), tmp_path / "out"
    result = tabletop("sweep", str(spec), "--out", str(out), "--workers", "2")
    assert result.returncode == 0, result.stderr
    rows = parquet_rows(out / "runs.parquet")
    assert [(r["interval"], r["seed"]) for r in rows] == [(v, s) for v in ("5m", "10m", "1h") for s in (1, 2, 3, 4)]
    fleet = yaml.safe_load(FLEET.read_text())
    for row in rows[::5]:  # each row is the fleet run with its value set, for its seed
        fleet["checkpoint"]["interval"] = row["interval"]
        expected = simulate_fleet(fleet, days=10, seed=row["seed"])
        assert {k: v for k, v in row.items() if k not in ("interval", "seed")} == {k: expected[k] for k in row if k in expected}
    assert any(c.startswith("interruptions.") for c in rows[0]) and "lost_gpu_hours.lost_work" in rows[0]

    summary = json.loads((out / "summary.json").read_text())
    ettr = {e["value"]: e["metrics"]["ettr"]["mean"] for e in summary["by_parameter"]["interval"]}
    assert ettr["1h"] < ettr["10m"], "an hour between checkpoints loses more work to each interruption"
    closed = summary["by_point"][1]["closed_form"]
    assert closed["ettr"] > 0.5 and closed["young_interval_seconds"] > 0
    assert "## Closed forms" in (out / "summary.md").read_text()
    pictures = {p.name for p in (out / "plots").glob("*.png")}
    assert {"ettr-vs-checkpoint-interval.png", "interruptions-breakdown--interval.png",
            "lost_gpu_hours-breakdown--interval.png", "ettr--interval.png"} <= pictures
    assert "interruptions.faulty-gpu--interval.png" not in pictures, "causes are one stacked picture, not one each"
