"""Loading a drill: the bundled one loads; a broken one gets every problem in one run."""

import re
from pathlib import Path

import pytest

from tabletop.drill.command_line import COMMANDS
from tabletop.drill.script import ResponderScript
from tabletop.durations import parse_duration
from tabletop.scenario.loader import check_script, load_rubric, load_scenario, load_script, validate_files
from tabletop.scenario.problems import InputError
from tabletop.scoring.rubric import Rubric

from .conftest import RUNBOOK, SCENARIO, Drill

ROOT = SCENARIO.parents[1]
DEFAULT_RUBRIC = ROOT / "src" / "tabletop" / "scoring" / "data" / "default-rubric.yaml"
KINDS = "'gpu_xid', 'hbm_ecc', 'gpu_thermal', 'node_not_ready', 'memory_leak', 'bad_rollout', 'rollout', 'feature_drift', 'feature_store_outage', 'traffic_surge', 'nccl_hang', 'checkpoint_storage_full'"
CRITERIA = "time_to_acknowledge, time_to_mitigate, time_to_resolve, escalation, handoff_note, roles_assigned, status_updates, hypothesis, runbook_steps, harmful_actions, error_budget"
DEPLOYMENT_KEYS = "name, namespace, server, model, version, previous_version, replicas, node_pool, gpus_per_replica, startup_time, model_load_time, capacity_rps, concurrency, latency, traffic, memory_limit, memory_working_set, depends_on, quality, disruption_budget"


def test_bundled_scenario_loads_without_problems():
    loaded = load_scenario(SCENARIO)
    assert loaded.warnings == ()
    assert loaded.scenario.metadata.id == "serving-gpu-node-failure"
    assert [g.name for g in loaded.rule_groups] == ["chat-llm-slo", "kubernetes", "gpu-health"]
    assert [r.id for r in loaded.runbooks] == ["serving-gpu-node-failure"]
    assert len(loaded.runbooks[0].steps) == len(re.findall(r"(?m)^\d+\. ", RUNBOOK.read_text()))
    criteria = {c.id: c for c in loaded.rubric.criteria}
    overrides = loaded.scenario.rubric.overrides
    for criterion_id, changes in overrides.items():
        for key, value in changes.items():
            assert getattr(criteria[criterion_id], key) == (parse_duration(value) if isinstance(value, str) else value)
    default = {c.id: c for c in load_rubric(DEFAULT_RUBRIC).criteria}
    assert [c for c in default if c not in overrides and default[c] != criteria[c]] == []
    assert re.fullmatch(r"[0-9a-f]{64}", loaded.sha256)
    assert validate_files([SCENARIO, RUNBOOK, DEFAULT_RUBRIC]) == []


def test_digest_covers_every_referenced_file(drill: Drill):
    drill.replace("runbooks:\n", "rule_files: [extra.rules.yaml]\nrunbooks:\n")
    drill.write("scenarios/extra.rules.yaml", "groups: []\n")
    first = load_scenario(drill.scenario).sha256
    assert load_scenario(drill.scenario).sha256 == first
    drill.write(drill.runbook, drill.text(drill.runbook) + "\nOne more line.\n")
    second = load_scenario(drill.scenario).sha256
    drill.write("scenarios/extra.rules.yaml", "groups: [] # changed\n")
    third = load_scenario(drill.scenario).sha256
    assert len({first, second, third}) == 3


def test_every_problem_of_a_broken_drill_in_one_run(drill: Drill):
    edits = [
        ("  difficulty: intermediate\n", "  difficulty: intermediate\n  difficulty: advanced\n"),
        ("      replicas: 6\n", "      replicas: six\n"),
        ("      concurrency: 32\n", "      concurency: 32\n"),
        ("    kind: node_not_ready\n", "    kind: node_not_redy\n"),
        ("    target: node/gpu-serve-2\n    gpu: 5\n", "    target: node/gpu-serve-7\n    gpu: 5\n"),
        ("(DCGM_FI_DEV_XID_ERRORS{job=\"nvidia-dcgm-exporter\"}) > 0", "(DCGM_FI_DEV_XID_ERRORS{job=\"nvidia-dcgm-exporter\"} > 0"),
        ("{{ $value | humanizeDuration }}", "{{ $value | humanizeDurration }}"),
        ("    members: [alice, bob]\n", "    members: [alice, bobb]\n"),
        ("    fault: gpu-falls-off-bus\n", "    fault: gpu-fell-off-bus\n"),
        ("      target: pod/chat-llm-*\n", "      target: pod/chat-lm-*\n"),
        ("    when: {at: 35m}\n", "    when: {at: 3h}\n"),
        ("  - ../runbooks/serving-gpu-node-failure.md\n", "  - ../runbooks/serving-gpu-node-failure.md\n  - ../runbooks/missing.md\n"),
        ("runbooks:\n", "rule_files: [extra-rules.yaml]\nrunbooks:\n"),
    ]
    for old, new in edits:
        drill.replace(old, new)
    drill.replace_section("rubric", "rubric:\n  overrides:\n    time_to_mitigate: {target: 20 minutes}\n    time_to_mitgate: {weight: 20}\n\n")
    drill.write("scenarios/extra-rules.yaml", "groups:\n  - name: extra\n    rules:\n      - alert: Extra\n        expr: sum(rate(up[5m])\n        lables: {severity: page}\n")
    drill.replace("`kubectl cordon <node>`", "`kubectl cordon <node> --now`", drill.runbook)
    drill.replace("`kubectl get pods -n serving`", "`kubectl get pods -n serving` and `kubectl describe node/gpu-serve-9`", drill.runbook)
    rules = "scenarios/extra-rules.yaml"
    where = drill.where
    first_difficulty = where("difficulty: intermediate").split(":")[1]
    summary = where('summary: "chat-llm p99', at='"')
    assert drill.problems() == [
        f"{where('kubectl describe', drill.runbook)}: step 3: kubectl describe: no node 'gpu-serve-9'; nodes are gpu-serve-0 to gpu-serve-4",
        f"{where('`kubectl cordon', drill.runbook, 'kubectl')}: step 5: kubectl: option --now is not supported here",
        f"{where('sum(rate(up', rules)}: groups[0].rules[0].expr: PromQL: unclosed left parenthesis",
        f"{where('lables', rules)}: groups[0].rules[0].lables: unknown key 'lables' (did you mean 'labels'?); allowed keys: alert, record, expr, for, keep_firing_for, labels, annotations",
        f"{where('  difficulty: advanced', at='difficulty')}: metadata.difficulty: duplicate key 'difficulty' (first written at line {first_difficulty})",
        f"{where('replicas: six', at='six')}: fleet.deployments[0].replicas: expected a whole number, got 'six'",
        f"{where('concurency')}: fleet.deployments[0].concurency: unknown key 'concurency' (did you mean 'concurrency'?); allowed keys: {DEPLOYMENT_KEYS}",
        f"{where('node/gpu-serve-7')}: faults[0].target: no node 'gpu-serve-7'; nodes are gpu-serve-0 to gpu-serve-4",
        f"{where('node_not_redy')}: faults[1].kind: unknown kind 'node_not_redy' (did you mean 'node_not_ready'?); expected one of {KINDS}",
        f"{summary}: rules.groups[0].rules[1].annotations.summary: template: function \"humanizeDurration\" is not supported",
        f"{where('max by (Hostname, gpu, modelName)')}: rules.groups[2].rules[0].expr: PromQL: unclosed left parenthesis",
        f"{where('bobb')}: rotas[0].members[1]: no participant 'bobb' (did you mean 'bob'?); participants: alice, bob, chen, dana, erin, farid",
        f"{where('at: 3h', at='3h')}: injects[1].when.at: warning: happens after the drill ends (metadata.duration is 2h00m)",
        f"{where('../runbooks/missing.md')}: runbooks[1]: file not found: runbooks/missing.md",
        f"{where('20 minutes')}: rubric.overrides.time_to_mitigate.target: '20 minutes' is not a duration (expected e.g. 90s, 5m, 1h30m)",
        f"{where('time_to_mitgate')}: rubric.overrides.time_to_mitgate: no criterion 'time_to_mitgate' in rubric 'default' (did you mean 'time_to_mitigate'?); criteria: {CRITERIA}",
        f"{where('gpu-fell-off-bus')}: ground_truth.root_cause.fault: no fault 'gpu-fell-off-bus' (did you mean 'gpu-falls-off-bus'?); faults: gpu-falls-off-bus, node-hangs",
        f"{where('pod/chat-lm-*')}: ground_truth.fixes[1].target: no pod matches 'chat-lm-*'; pods are named <deployment>-<hash>-<suffix> or <job>-worker-<n> (chat-llm, ranker)",
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("apiVersion: tabletop/v1\nkind: Scenario\nmetadata:\n\tid: x\n", "scenarios/s.yaml:4:1: YAML syntax: a tab character; YAML must be indented with spaces, not tabs"),
        ("", "scenarios/s.yaml:1:1: the file is empty; expected a YAML mapping (key: value lines)"),
        (b"kind: Scenario\ntitle: caf\xe9\n", "scenarios/s.yaml:2:11: the file is not UTF-8 text (byte 0xe9 cannot be decoded)"),
        ("- kind: Scenario\n", "scenarios/s.yaml:1:1: expected a mapping (key: value lines) at the top level, got a list"),
    ],
)
def test_unreadable_scenario_file(drill: Drill, content, expected):
    path = drill.root / drill.scenario
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert drill.problems() == [expected]


def test_missing_scenario_file(tmp_path):
    with pytest.raises(InputError) as caught:
        load_scenario(tmp_path / "nope.yaml")
    assert [p.format() for p in caught.value.problems] == [f"{tmp_path / 'nope.yaml'}:1:1: file not found"]


def test_not_a_scenario(drill: Drill):
    drill.write(drill.scenario, "apiVersion: v1\nkind: Rubric\n")
    assert drill.problems() == [
        "scenarios/s.yaml:1:1: missing required key 'faults'",
        "scenarios/s.yaml:1:1: missing required key 'fleet'",
        "scenarios/s.yaml:1:1: missing required key 'ground_truth'",
        "scenarios/s.yaml:1:1: missing required key 'metadata'",
        "scenarios/s.yaml:1:1: missing required key 'participants'",
        "scenarios/s.yaml:1:13: apiVersion: expected 'tabletop/v1', got 'v1'",
        "scenarios/s.yaml:2:7: kind: expected 'Scenario', got 'Rubric'",
    ]


RUBRIC = """\
apiVersion: tabletop/v1
kind: Rubric
id: short
title: A short rubric
criteria:
  - {id: ack, title: Acknowledge, measure: time_to_acknowledge, weight: 10, target: 5m}
  - {id: steps, title: Follow the runbook, measure: runbook_steps, weight: 5}
"""


def test_scenario_with_its_own_rubric_file(drill: Drill):
    drill.write("scenarios/short-rubric.yaml", RUBRIC)
    drill.replace_section("rubric", "rubric:\n  file: short-rubric.yaml\n  overrides:\n    ack: {target: 2m, bands: [3, 2]}\n")
    assert drill.problems() == [
        f"{drill.where('ack: {', at='ack')}: rubric.overrides.ack: bands must be two growing multiples of target, e.g. [2, 4]",
    ]
    drill.replace("ack: {target: 2m, bands: [3, 2]}", "ack: {target: 2m, mesure: escalation}")
    assert drill.problems() == [
        f"{drill.where('mesure')}: rubric.overrides.ack.mesure: unknown key 'mesure' (did you mean 'measure'?); allowed keys: id, title, weight, why, target, bands, measure",
    ]
    drill.replace("ack: {target: 2m, mesure: escalation}", "ack: {target: 2m}")
    loaded = load_scenario(drill.scenario)
    assert [(c.id, getattr(c, "target", None)) for c in loaded.rubric.criteria] == [("ack", 120.0), ("steps", None)]
    drill.write("scenarios/short-rubric.yaml", RUBRIC.replace("measure: runbook_steps", "measure: runbook"))
    assert drill.problems() == [
        f"{drill.where('measure: runbook,', 'scenarios/short-rubric.yaml', at='runbook')}: criteria[1].measure: unknown measure 'runbook' (did you mean 'runbook_steps'?); expected one of "
        "'time_to_acknowledge', 'time_to_mitigate', 'time_to_resolve', 'escalation', 'handoff_note', 'roles_assigned', 'status_updates', "
        "'hypothesis', 'runbook_steps', 'harmful_actions', 'error_budget'",
    ]
    (drill.root / "scenarios/short-rubric.yaml").unlink()
    assert drill.problems() == [f"{drill.where('short-rubric.yaml')}: rubric.file: file not found: scenarios/short-rubric.yaml"]


def test_load_rubric(tmp_path):
    rubric = load_rubric(DEFAULT_RUBRIC)
    assert isinstance(rubric, Rubric) and rubric.id == "default"
    path = tmp_path / "r.yaml"
    path.write_text(RUBRIC.replace("weight: 5", "weight: -1"))
    with pytest.raises(InputError) as caught:
        load_rubric(path)
    assert [p.format() for p in caught.value.problems] == [f"{path}:7:76: criteria[1].weight: expected a number at least 0, got -1"]
    path.write_text(RUBRIC.replace("weight: 5", "weight: 0"))  # 0 switches a criterion off (rated N/A)
    assert load_rubric(path).criteria[1].weight == 0
    path.write_text(RUBRIC.replace("id: steps", "id: ack"))
    with pytest.raises(InputError) as caught:
        load_rubric(path)
    assert [p.format() for p in caught.value.problems] == [f"{path}:1:1: criterion id 'ack' is used twice"]


SCRIPT = """\
apiVersion: tabletop/v1
kind: ResponderScript
name: by the book
commands:
  - {at: 11m, as: alice, run: ack}
  - {at: 12m, as: alice, run: "assign incident_commander alice"}
  - {at: 14m, as: alice, run: "mitigate cordon node/gpu-serve-2"}
  - {at: 15m, as: alice, run: "query sum(rate(http_requests_total{job='chat-llm'}[5m]))"}
"""


def test_load_script(tmp_path):
    path = tmp_path / "script.yaml"
    path.write_text(SCRIPT)
    script = load_script(path)
    assert isinstance(script, ResponderScript) and len(script.commands) == 4
    scenario = load_scenario(SCENARIO).scenario
    assert load_script(path, scenario) == script
    assert check_script(path, scenario) == []


def test_script_problems(tmp_path):
    path = tmp_path / "script.yaml"
    path.write_text(
        SCRIPT.replace("as: alice, run: ack", "as: alicia, run: ack")
        .replace("node/gpu-serve-2", "node/gpu-serve-12")
        .replace("[5m]))", "[5m])")
        .replace("run: \"assign incident_commander alice\"", "run: \"asign incident_commander alice\"")
    )
    with pytest.raises(InputError) as caught:
        load_script(path, load_scenario(SCENARIO).scenario)
    assert [p.format() for p in caught.value.problems] == [
        f"{path}:5:19: commands[0].as: no participant 'alicia' (did you mean 'alice'?); participants: alice, bob, chen, dana, erin, farid",
        f"{path}:6:31: commands[1].run: unknown command 'asign' (did you mean 'assign'?); commands: {', '.join(COMMANDS)}",
        f"{path}:7:31: commands[2].run: mitigate: no node 'gpu-serve-12'; nodes are gpu-serve-0 to gpu-serve-4",
        f"{path}:8:31: commands[3].run: PromQL: unclosed left parenthesis",
    ]


def test_validate_files_detects_what_each_file_is(drill: Drill):
    drill.write("rules.yaml", "groups:\n  - name: g\n    rules:\n      - {alert: A, expr: 'up ==', for: 1m}\n")
    drill.write("script.yaml", SCRIPT.replace("as: alice, run: ack", "as: zoe, run: ack"))
    drill.write("other.yaml", "kind: Scenaro\n")
    drill.write("notes.yaml", "hello: world\n")
    drill.write("bad.md", "Intro\n\n2. `kubectl cordon`\n")
    problems = validate_files([drill.scenario, "rules.yaml", "script.yaml", "other.yaml", "notes.yaml", "bad.md", "gone.yaml"])
    assert [p.format() for p in problems] == [
        "bad.md:1:1: a runbook needs a '# Title' line",
        "bad.md:3:1: step 2: steps must be numbered 1, 2, 3, ... (expected 1)",
        "bad.md:3:5: step 2: kubectl cordon: expected one node; supported: kubectl drain|cordon|uncordon NODE, delete pod POD, rollout undo|restart deployment/NAME, scale deployment/NAME --replicas=N, get KIND [NAME], describe KIND/NAME, logs POD",
        "gone.yaml:1:1: file not found",
        "notes.yaml:1:1: cannot tell what this file is: expected kind Scenario, Rubric, ResponderScript, ReliabilityFleet or Sweep, or a Prometheus rule file with top-level 'groups'",
        "other.yaml:1:7: kind: unknown kind 'Scenaro' (did you mean 'Scenario'?); expected kind Scenario, Rubric, ResponderScript, ReliabilityFleet or Sweep, or a Prometheus rule file with top-level 'groups'",
        "rules.yaml:4:26: groups[0].rules[0].expr: PromQL: invalid promql query",
        "script.yaml:5:19: commands[0].as: no participant 'zoe'; participants: alice, bob, chen, dana, erin, farid",
    ]


def test_validate_checks_reliability_fleets_and_sweeps(tmp_path: Path) -> None:
    bundled = Path(__file__).resolve().parents[2] / "scenarios"
    assert validate_files([*sorted((bundled / "fleets").glob("*.yaml")), *sorted((bundled / "sweeps").glob("*.yaml"))]) == []
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text((bundled / "fleets" / "llama3-405b.yaml").read_text().replace("gpus: 16384", "gpus: -1"))
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("apiVersion: tabletop/v1\nkind: Sweep\nscenario: missing.yaml\nparameters: []\nseeds: [1]\n")
    found = [(Path(p.file).name, p.path, p.message) for p in validate_files([fleet, sweep])]
    assert ("fleet.yaml", "job.gpus", "expected a number at least 1, got -1") in found, found
    assert any(name == "sweep.yaml" and "file not found" in message and "missing.yaml" in message
               for name, _, message in found), found
