"""``tabletop rules export`` and ``tabletop rules test`` through the real command, judged by promtool."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from tabletop.cli import main
from tabletop.signals.promtool import check_rule_files, run_unit_tests

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"


def tabletop(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tabletop", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def assert_clean_failure(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def invoke(*args: str | Path) -> Result:
    """The command in this process (fast): a clean failure is a SystemExit, never another exception."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert isinstance(result.exception, SystemExit) or result.exception is None, result.exception
    return result


def test_export_writes_a_rule_file_promtool_accepts(promtool: str, tmp_path: Path) -> None:
    out = tmp_path / "exported" / "rules.yaml"
    result = tabletop("rules", "export", BUNDLED, "--out", out)
    assert result.returncode == 0, result.stderr
    ok, output = check_rule_files(out)
    assert ok, output
    assert "SUCCESS: 6 rules found" in output
    printed = tabletop("rules", "export", BUNDLED)
    assert printed.returncode == 0 and printed.stdout == out.read_text()


def test_export_includes_rule_files_and_refuses_repeated_group_names(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "runbooks", tmp_path / "runbooks")
    scenario = tmp_path / "scenarios" / "s.yaml"
    scenario.parent.mkdir()
    extra = scenario.parent / "extra.yaml"
    extra.write_text("groups:\n  - name: extra\n    rules:\n      - alert: Extra\n        expr: vector(1)\n")
    text = BUNDLED.read_text().replace("\nrules:\n", "\nrule_files: [extra.yaml]\nrules:\n", 1)
    scenario.write_text(text)
    result = tabletop("rules", "export", scenario)
    assert result.returncode == 0, result.stderr
    assert [g["name"] for g in yaml.safe_load(result.stdout)["groups"]][-1] == "extra"
    extra.write_text(extra.read_text().replace("name: extra", "name: gpu-health"))
    repeated = tabletop("rules", "export", scenario)
    assert_clean_failure(repeated)
    assert "'gpu-health'" in repeated.stderr


@pytest.mark.parametrize("responder", ["expert", "novice"])
def test_rules_test_on_the_bundled_scenario_passes_promtool(promtool: str, responder: str, tmp_path: Path) -> None:
    out = tmp_path / "tests.yaml"
    result = tabletop("rules", "test", BUNDLED, "--out", out, "--responder", responder, "--seed", "5")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "tests.rules.yaml").exists()
    assert f"promtool test rules {out}" in result.stdout
    document = yaml.safe_load(out.read_text())
    assert document["rule_files"] == ["tests.rules.yaml"]
    checks = document["tests"][0]["alert_rule_test"]
    assert any(check["exp_alerts"] for check in checks) and any(not check["exp_alerts"] for check in checks)
    assert max(len(entry["values"].split()) for entry in document["tests"][0]["input_series"]) <= 240
    ok, output = run_unit_tests(out)
    assert ok, output


USER_RULES = """\
groups:
  - name: mine
    rules:
      - alert: NeverFires
        expr: sum(up{job="nvidia-dcgm-exporter"}) < 0
      - alert: XidSeen
        expr: max by (Hostname, gpu) (DCGM_FI_DEV_XID_ERRORS) > 0
        for: 1m
        labels: {severity: ticket}
        annotations:
          summary: "Xid {{ $value }} on {{ $labels.Hostname }}/{{ $labels.gpu }}"
"""


def test_rules_test_states_a_users_own_rules(promtool: str, tmp_path: Path) -> None:
    rules = tmp_path / "mine" / "my-rules.yaml"
    rules.parent.mkdir()
    rules.write_text(USER_RULES)
    out = tmp_path / "out" / "tests.yaml"
    result = tabletop("rules", "test", BUNDLED, "--rules", rules, "--out", out, "--duration", "30m")
    assert result.returncode == 0, result.stderr
    document = yaml.safe_load(out.read_text())
    assert document["rule_files"] == ["../mine/my-rules.yaml"]
    assert not (tmp_path / "out" / "tests.rules.yaml").exists()
    test = document["tests"][0]
    assert {entry["series"].split("{")[0] for entry in test["input_series"]} == {"up", "DCGM_FI_DEV_XID_ERRORS"}
    checks = {(c["alertname"], c["eval_time"]): c["exp_alerts"] for c in test["alert_rule_test"]}
    assert not any(alerts for (name, _), alerts in checks.items() if name == "NeverFires")
    assert checks[("XidSeen", "9m30s")] == []
    assert checks[("XidSeen", "11m")] == [{
        "exp_labels": {"Hostname": "gpu-serve-2", "gpu": "5", "severity": "ticket"},
        "exp_annotations": {"summary": "Xid 79 on gpu-serve-2/5"}}]
    ok, output = run_unit_tests(out)
    assert ok, output


@pytest.mark.parametrize(
    ("content", "where", "message"),
    [
        ("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: rate(x[5m]\n", ":5:", "expr"),
        ("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        fore: 5m\n", ":6:9:", "fore"),
        ("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
         "        annotations: {s: '{{ if $value }}x{{ end }}'}\n", ":6:", "not supported"),
        ("groups: [\n", ":2:", ""),
        ("rules: []\n", ":1:1:", "groups"),
    ],
)
def test_bad_user_rule_files_get_located_errors(content: str, where: str, message: str, tmp_path: Path) -> None:
    rules = tmp_path / "bad.yaml"
    rules.write_text(content)
    result = invoke("rules", "test", BUNDLED, "--rules", rules, "--out", tmp_path / "t.yaml")
    assert result.exit_code == 1
    assert f"{rules}{where}" in result.stderr and message in result.stderr
    assert not (tmp_path / "t.yaml").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("rules", "export", "no/such/scenario.yaml"),
        ("rules", "test", "no/such/scenario.yaml", "--out", "t.yaml"),
        ("rules", "test", str(BUNDLED), "--rules", "no/such/rules.yaml", "--out", "t.yaml"),
        ("rules", "test", str(BUNDLED), "--out", "t.yaml", "--duration", "soon"),
        ("rules", "test", str(BUNDLED), "--out", "t.yaml", "--responder", "nobody"),
    ],
)
def test_bad_arguments_fail_cleanly(args: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(*args)
    assert result.exit_code == 1
    assert "error" in result.stderr or ":1:1:" in result.stderr
    assert not (tmp_path / "t.yaml").exists()
