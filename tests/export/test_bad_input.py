"""`tabletop export` on bad input: one clear located error, exit code 1, never a traceback; and the
real command end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.export.conftest import ROOT, tabletop


def test_the_real_command_writes_each_format(drills: dict[str, Path], tmp_path: Path) -> None:
    for fmt in ("json", "pagerduty", "incidentio"):
        result = tabletop("export", str(drills["expert"]), "--format", fmt)
        assert result.returncode == 0 and result.stderr == "", result.stderr
        document = json.loads(result.stdout)
        assert document.get("format") in ("tabletop-incident/1", "tabletop-export/1")
    elsewhere = tabletop("export", str(drills["novice"]), "--scenario", str(ROOT / "scenarios" / "serving-gpu-node-failure.yaml"),
                         cwd=tmp_path)
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert json.loads(elsewhere.stdout)["drill"]["responder"] == "novice"


def test_a_missing_timeline(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    result = tabletop("export", str(missing))
    assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith(f"{missing}:1:1: cannot read the timeline")
    assert result.stdout == ""


def test_a_corrupt_timeline_names_its_line(drills: dict[str, Path], export: Any, tmp_path: Path) -> None:
    lines = drills["expert"].read_text().splitlines()
    corrupt = tmp_path / "timeline.jsonl"
    corrupt.write_text("\n".join(lines[:3] + ["{not json"] + lines[4:]) + "\n")
    result = export(corrupt, "--format", "pagerduty", code=1)
    assert f"{corrupt}:4:1: not a timeline event" in result.stderr
    (tmp_path / "notes.txt").write_text("just some notes\n")
    result = export(tmp_path / "notes.txt", code=1)
    assert "notes.txt:1:1: not a tabletop timeline header" in result.stderr


def test_an_unknown_format(drills: dict[str, Path], export: Any) -> None:
    result = export(drills["expert"], "--format", "xml", code=1)
    assert result.stderr.strip() == "error: --format: 'xml' is not a format tabletop export writes; formats: json, pagerduty, incidentio"


def test_a_drill_without_an_incident(drills: dict[str, Path]) -> None:
    result = tabletop("export", str(drills["quiet"]), "--format", "incidentio")
    assert result.returncode == 1 and "Traceback" not in result.stderr and result.stdout == ""
    assert result.stderr.startswith(f"error: {drills['quiet']}: no incident to export: ")
    assert "up to T+00:05:00 no alert fired" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_bad_options(drills: dict[str, Path], export: Any) -> None:
    result = export(drills["expert"], "--format", "incidentio", "--incidentio-role", "incident_commander", code=1)
    assert result.stderr.strip() == "error: --incidentio-role: expected NAME=ID, got 'incident_commander'"
    result = export(drills["expert"], "--format", "incidentio", "--incidentio-timestamp", "closed=01X", code=1)
    assert result.stderr.startswith("error: --incidentio-timestamp: 'closed' is not a milestone; milestones: started,")
    result = export(code=1)
    assert result.stderr.startswith("error: missing TIMELINE")
