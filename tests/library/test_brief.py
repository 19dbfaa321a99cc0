"""`tabletop brief`: the facilitator's guide is generated from the scenario, so it follows the YAML."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from click.testing import CliRunner

from tabletop.cli import main

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"
SECTIONS = ["## Read this to the team", "## Learning objectives", "## Setup", "## Roles",
            "## What will happen, and when (facilitator only)", "## Hints to give",
            "## What a strong response looks like", "## How it is scored", "## Debrief questions"]


def brief(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["brief", *args])
    return result.exit_code, result.stdout, result.stderr


def section(text: str, title: str) -> str:
    return text.split(title, 1)[1].split("\n## ", 1)[0]


def test_the_guide_has_every_section_in_order(tmp_path: Path) -> None:
    out = tmp_path / "handout.md"
    code, said, _ = brief(str(BUNDLED), "--out", str(out))
    assert code == 0 and said.strip() == f"wrote {out}"
    text = out.read_text()
    positions = [text.index(s) for s in SECTIONS]
    assert positions == sorted(positions)


def test_it_says_what_the_scenario_says() -> None:
    _, text, _ = brief(str(BUNDLED))
    scenario = yaml.safe_load(BUNDLED.read_text())
    assert " ".join(scenario["metadata"]["summary"].split()) in text
    for objective in scenario["metadata"]["learning_objectives"]:
        assert f"- {objective}" in text
    roles = section(text, "## Roles")
    assert "| Alice Moreau (`alice`) | serving | ML platform engineer | serving-primary |" in roles
    assert "Shift change at T+00:25:00 (09:00:00 UTC): serving-primary passes from alice to bob." in roles
    hints = section(text, "## Hints to give")
    for harmful in scenario["ground_truth"]["harmful"]:
        assert f"`{harmful['action']} {harmful['target']}`" in hints
    strong = section(text, "## What a strong response looks like")
    for fix in scenario["ground_truth"]["fixes"]:
        assert f"`{fix['action']} {fix['target']}`" in strong
    assert re.search(r"The built-in expert scores (\d+\.\d)/100", strong)


def test_what_happens_when_follows_the_fault_times_in_the_yaml(tmp_path: Path) -> None:
    _, before, _ = brief(str(BUNDLED))
    happening = section(before, "## What will happen, and when (facilitator only)")
    assert "| T+00:10:00 (08:45:00 UTC) | fault gpu-falls-off-bus injected: gpu_xid on node/gpu-serve-2 |" in happening
    assert "page P1 triggered" in happening and "message from Priya Raman (VP Product)" in happening
    later = tmp_path / "later.yaml"
    later.write_text(BUNDLED.read_text().replace("when: {at: 10m}", "when: {at: 20m}")
                     .replace("../runbooks/", str(ROOT / "runbooks") + "/"))
    _, after, _ = brief(str(later))
    moved = section(after, "## What will happen, and when (facilitator only)")
    assert "| T+00:20:00 (08:55:00 UTC) | fault gpu-falls-off-bus injected" in moved
    assert "T+00:10:00 (08:45:00 UTC) | fault gpu-falls-off-bus" not in moved


def test_a_bad_scenario_gets_a_located_error_and_no_guide(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BUNDLED.read_text().replace("kind: gpu_xid", "kind: gpu_melts"))
    out = tmp_path / "guide.md"
    code, _, err = brief(str(bad), "--out", str(out))
    assert code != 0 and f"{bad}:" in err and "gpu_melts" in err and "Traceback" not in err
    assert not out.exists()
