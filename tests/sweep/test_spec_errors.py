"""A bad sweep file gets every problem at the sweep file's line, before any run starts: unknown
paths, values the scenario or fleet then rejects (quoting the scenario's own located problem),
unknown metrics, bad seeds, a missing responder script."""

from __future__ import annotations

from pathlib import Path

import pytest

from tabletop.scenario.problems import InputError
from tabletop.sweep.plan import plan_sweep
from tests.sweep.helpers import BUNDLED, FLEET, tabletop, write


def at(path: Path, line: int, token: str) -> str:
    """``path:line:column`` of the first ``token`` on ``line``."""
    return f"{path}:{line}:{path.read_text().splitlines()[line - 1].index(token) + 1}"


def problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as error:
        plan_sweep(path)
    return [p.format() for p in error.value.problems]


def test_unknown_paths_and_metrics_are_located_in_the_sweep_file(tmp_path: Path) -> None:
    spec = write(tmp_path, f"""\
apiVersion: tabletop/v1
kind: Sweep
scenario: {BUNDLED}
parameters:
  - path: escalation_polices[0].levels[0].ack_timeout
    values: [2m]
  - path: fleet.deployments[name=chat].replicas
    values: [6]
metrics: [score, goodput, time_to_ack, slo_budget_spent.nope]
""")
    found = problems(spec)
    assert found[0].startswith(f"{spec}:5:11: parameters[0].path: {BUNDLED} has no key 'escalation_polices' "
                               "(did you mean 'escalation_policies'?)")
    assert found[1] == (f"{spec}:7:11: parameters[1].path: no item of fleet.deployments has name 'chat' "
                        "(did you mean 'chat-llm'?); names: chat-llm, ranker")
    assert found[2].startswith(f"{spec}:9:18: metrics[1]: 'goodput' is a fleet metric; this sweep runs a scenario")
    assert found[3].startswith(f"{spec}:9:27: metrics[2]: unknown metric 'time_to_ack' (did you mean 'time_to_acknowledge'?)")
    assert found[4] == (f"{spec}:9:40: metrics[3]: unknown metric 'slo_budget_spent.nope' (did you mean "
                        "'slo_budget_spent.chat-llm-latency'?); slo_budget_spent has "
                        "slo_budget_spent.chat-llm-availability, slo_budget_spent.chat-llm-latency")
    assert len(found) == 5


def test_a_value_the_scenario_rejects_is_reported_at_its_value_quoting_the_scenario(tmp_path: Path) -> None:
    spec = write(tmp_path, f"""\
apiVersion: tabletop/v1
kind: Sweep
scenario: {BUNDLED}
parameters:
  - path: faults[id=gpu-falls-off-bus].when.at
    values: [5m, soon]
  - path: fleet.deployments[name=chat-llm].replicas
    values: [6, seven]
""")
    lines = BUNDLED.read_text(encoding="utf-8").splitlines()
    fault = next(i for i, line in enumerate(lines, 1) if line.strip() == "when: {at: 10m}")
    replicas = next(i for i, line in enumerate(lines, 1) if line.strip() == "replicas: 6")
    assert problems(spec) == [
        f"{at(spec, 6, 'soon')}: parameters[0].values[1]: the scenario rejects 'soon': {BUNDLED}:{fault}:16: faults[0].when.at: "
        "'soon' is not a duration (expected e.g. 90s, 5m, 1h30m)",
        f"{at(spec, 8, 'seven')}: parameters[1].values[1]: the scenario rejects 'seven': {BUNDLED}:{replicas}:17: "
        "fleet.deployments[0].replicas: expected a whole number, got 'seven'",
    ]


def test_a_value_the_fleet_rejects_is_reported_at_its_value(tmp_path: Path) -> None:
    spec = write(tmp_path, f"""\
apiVersion: tabletop/v1
kind: Sweep
fleet: {FLEET}
parameters:
  - {{path: checkpoint.interval, values: [5m, 0]}}
  - {{path: job.gpus, values: [16384, 1001]}}
""")
    found = problems(spec)
    assert found[0].startswith(f"{at(spec, 5, '0]')}: parameters[0].values[1]: the fleet rejects 0: {FLEET}:")
    assert found[0].endswith("checkpoint.interval: expected a number greater than 0, got 0")
    assert found[1].endswith("job.gpus: expected a multiple of gpus_per_node (8), got 1001")
    assert len(found) == 2


def test_the_sweep_file_itself(tmp_path: Path) -> None:
    spec = write(tmp_path, f"""\
apiVersion: tabletop/v1
kind: Sweep
fleet: {FLEET}
responder: expert
parameters:
  - {{name: seed, path: restart, values: [1m, 2m]}}
  - {{path: spare_nodes, values: [0]}}
combine: zip
metrics: [ettr, score]
""")
    assert problems(spec) == [
        f"{spec}:4:1: responder: a fleet sweep has no responder (fleets run without people)",
        f"{at(spec, 6, 'seed')}: parameters[0].name: the column 'seed' is already the seed column; give it another name",
        f"{spec}:8:10: combine: zip pairs the i-th values of every parameter, so each needs as many values (they have 2, 1)",
        f"{spec}:9:17: metrics[1]: 'score' is a drill metric; this sweep runs a fleet; metrics here: "
        + problems(spec)[3].split("metrics here: ", 1)[1],
    ]
    seeds = write(tmp_path, f"apiVersion: tabletop/v1\nkind: Sweep\nfleet: {FLEET}\nseeds: [1, 2-4, 3]\n", "seeds.yaml")
    assert problems(seeds) == [f"{seeds}:4:1: seeds: seed 3 is listed twice; each run needs its own seed"]
    both = write(tmp_path, "apiVersion: tabletop/v1\nkind: Sweep\nseeds: 9-2\n", "both.yaml")
    assert problems(both) == [f"{both}:3:8: seeds: the range '9-2' must run from a seed to a later one, at most 1,000,000 seeds"]


def test_missing_files_are_named_at_the_key_that_names_them(tmp_path: Path) -> None:
    spec = write(tmp_path, "apiVersion: tabletop/v1\nkind: Sweep\nscenario: nowhere.yaml\n")
    assert problems(spec) == [f"{spec}:3:11: scenario: file not found: {tmp_path / 'nowhere.yaml'}"]
    script = write(tmp_path, f"apiVersion: tabletop/v1\nkind: Sweep\nscenario: {BUNDLED}\nresponder: team.yaml\n", "s.yaml")
    assert problems(script) == [f"{script}:4:12: responder: expected expert, novice or a responder script; "
                                f"no file {tmp_path / 'team.yaml'}"]


def test_the_command_reports_them_with_exit_1_and_runs_nothing(tmp_path: Path) -> None:
    spec = write(tmp_path, f"""\
apiVersion: tabletop/v1
kind: Sweep
scenario: {BUNDLED}
parameters:
  - {{path: "escalation_policies[0].levels[0].ack_timeout", values: [2m, later]}}
metrics: [score, score_total]
""")
    result = tabletop("sweep", str(spec), "--out", str(tmp_path / "out"))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{at(spec, 5, 'later')}: parameters[0].values[1]: the scenario rejects 'later': {BUNDLED}:")
    assert lines[1].startswith(f"{at(spec, 6, 'score_total')}: metrics[1]: unknown metric 'score_total'")
    assert lines[-1] == "2 errors in 1 file"
    assert not (tmp_path / "out").exists()
