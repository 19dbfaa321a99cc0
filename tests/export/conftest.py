"""Real timelines for the export tests: headless runs of the bundled scenario, made once per session."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"


def tabletop(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tabletop", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def events(timeline: Path) -> list[dict[str, Any]]:
    """The timeline's events as the file has them (read without tabletop's reader)."""
    return [json.loads(line) for line in timeline.read_text(encoding="utf-8").splitlines()[1:]]


def first(timeline: Path, kind: str) -> dict[str, Any]:
    return next(e for e in events(timeline) if e["kind"] == kind)


@pytest.fixture(scope="session")
def drills(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``expert`` and ``novice`` timelines of a whole drill, and ``quiet``: five minutes, before the first fault."""
    base = tmp_path_factory.mktemp("export-runs")
    runs = {"expert": ("--responder", "expert"), "novice": ("--responder", "novice"),
            "quiet": ("--responder", "expert", "--duration", "5m")}
    timelines = {}
    for name, options in runs.items():
        result = tabletop("run", str(BUNDLED.relative_to(ROOT)), "--headless", "--seed", "3", *options,
                          "--out", str(base / name))
        assert result.returncode == 0, result.stderr
        timelines[name] = base / name / "timeline.jsonl"
    return timelines


@pytest.fixture
def export(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``export(timeline, *options)``: ``tabletop export`` in this process; its result and parsed output."""
    from click.testing import CliRunner

    from tabletop.cli import main

    monkeypatch.chdir(ROOT)  # where the timeline's header finds its scenario

    def run(*args: Any, code: int = 0) -> Any:
        result = CliRunner().invoke(main, ["export", *(str(a) for a in args)])
        assert result.exit_code == code, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
        return result

    return run
