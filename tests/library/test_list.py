"""`tabletop list`: the drill bank as a facilitator picks from it, and as tools read it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from tabletop.cli import main

ROOT = Path(__file__).resolve().parents[2]
BANK = ROOT / "scenarios"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["list", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_lists_every_bundled_scenario_with_what_a_tool_needs() -> None:
    code, out, _ = invoke(str(BANK), "--format", "json")
    assert code == 0
    listed = json.loads(out)
    assert {e["path"] for e in listed} == {str(p) for p in BANK.glob("*.yaml")}
    for entry in listed:
        assert {"id", "title", "difficulty", "duration", "fault_kinds", "learning_objectives", "tags"} <= set(entry)
        assert entry["learning_objectives"]
    levels = [e["difficulty"] for e in listed]
    assert levels == sorted(levels, key=("beginner", "intermediate", "advanced").index)


def test_the_table_shows_id_level_length_faults_and_objectives() -> None:
    code, out, _ = invoke(str(BANK / "serving-gpu-node-failure.yaml"))
    assert code == 0
    head, row = out.splitlines()[:2]
    assert head.split() == ["ID", "LEVEL", "LENGTH", "FAULTS"]
    assert row.split() == ["serving-gpu-node-failure", "intermediate", "2h00m", "gpu_xid,", "node_not_ready"]
    assert "- Hand the pager over at a shift change" in out
    assert "1 drill(s). Run one: tabletop drill" in out


def test_filters_by_tag_fault_kind_and_difficulty() -> None:
    _, out, _ = invoke(str(BANK), "--format", "json", "--tag", "gpu_xid")
    assert all("gpu_xid" in e["fault_kinds"] for e in json.loads(out))
    _, out, _ = invoke(str(BANK), "--format", "json", "--difficulty", "beginner")
    assert json.loads(out) and all(e["difficulty"] == "beginner" for e in json.loads(out))
    code, out, _ = invoke(str(BANK), "--tag", "no-such-tag", "--difficulty", "advanced")
    assert code == 0 and out.strip() == "no drill matches tag 'no-such-tag' and difficulty advanced"


def test_a_broken_scenario_is_named_and_the_rest_still_listed(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "runbooks", tmp_path / "runbooks")
    bank = tmp_path / "bank"
    bank.mkdir()
    shutil.copy(BANK / "serving-gpu-node-failure.yaml", bank / "good.yaml")
    (bank / "broken.yaml").write_text("apiVersion: tabletop/v1\nkind: Scenario\nmetadata: {id: broken}\n")
    (bank / "responder.yaml").write_text("apiVersion: tabletop/v1\nkind: ResponderScript\nname: x\ncommands: []\n")
    code, out, err = invoke(str(bank), "--format", "json")
    assert code == 0
    assert [e["id"] for e in json.loads(out)] == ["serving-gpu-node-failure"]
    assert f"{bank / 'broken.yaml'}: not listed" in err and "tabletop validate" in err
    assert "responder.yaml" not in err


def test_a_missing_place_is_a_clear_error() -> None:
    code, _, err = invoke("no/such/folder")
    assert code != 0 and "no/such/folder: no such file or folder" in err and "Traceback" not in err
