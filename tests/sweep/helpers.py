"""What the sweep tests share: the real ``tabletop`` command, sweep files written on the fly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"
FLEET = ROOT / "scenarios" / "fleets" / "llama3-405b.yaml"

ESCALATION = f"""\
apiVersion: tabletop/v1
kind: Sweep
scenario: {BUNDLED}
responder: novice
parameters:
  - name: ack_timeout
    path: escalation_policies[id=serving-oncall].levels[0].ack_timeout
    values: [2m, 10m]
seeds: 1-2
metrics: [score, criteria, time_to_acknowledge, time_to_mitigate, slo_budget_spent, escalations]
"""
"""The novice misses the first page: the first escalation timeout decides when anyone acknowledges."""


def tabletop(*args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tabletop", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def write(folder: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def parquet_rows(path: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()
