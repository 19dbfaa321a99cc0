"""`tabletop validate` warns about a scenario that validates but cannot work as a drill.

Each warning is shown on a small beginner's drill (a memory leak on deployment/ranker), broken
in one way: the warning is printed at the key to change with what to change, the exit code
stays 0, and the drill fixed as the warning says gets no warning. The table of the metrics
each fault kind moves (``tabletop.faults.signals``) is checked against the simulated exporters.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import TypeAdapter, ValidationError

from tabletop.cli import main
from tabletop.faults import signals
from tabletop.scenario.faults import TARGET_KIND
from tabletop.scoring.rubric import RunbookSteps

ROOT = Path(__file__).resolve().parents[2]

DRILL = """\
apiVersion: tabletop/v1
kind: Scenario
metadata:
  id: ranker-leak
  title: Ranker leaks memory
  duration: 90m
  difficulty: beginner
  summary: The ranker's new version leaks memory.
  learning_objectives: [Roll back a leaking version]
  start: '2026-03-17T09:00:00Z'
fleet:
  node_pools:
    - {name: cpu, nodes: 3, gpus_per_node: 2, gpu_model: L4}
  deployments:
    - name: ranker
      namespace: serving
      replicas: 4
      node_pool: cpu
      version: v2
      previous_version: v1
      memory_limit: 8Gi
      memory_working_set: 3Gi
      model: ranker-dcn
      capacity_rps: 200
      latency: {p50: 20ms, p99: 80ms}
      traffic: {base_rps: 100, peak_rps: 300}
faults:
  - id: leak
    kind: memory_leak
    target: deployment/ranker
    when: {at: 5m}
    rate_per_hour: 32Gi
rules:
  groups:
    - name: kubernetes-apps
      rules:
        - alert: KubePodCrashLooping
          expr: max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", job="kube-state-metrics"}[5m]) >= 1
          for: 5m
          labels: {severity: page}
          annotations: {summary: "Pod {{ $labels.namespace }}/{{ $labels.pod }} is crash looping"}
participants:
  - {id: ann, name: Ann}
  - {id: ben, name: Ben}
rotas:
  - {id: primary, members: [ann, ben], shift_length: 12h, start: '2026-03-17T00:00:00Z'}
escalation_policies:
  - id: oncall
    levels:
      - {notify: [rota/primary], ack_timeout: 5m}
routing:
  routes:
    - matchers: ['severity="page"']
      policy: oncall
runbooks: [ranker-leak.md]
ground_truth:
  root_cause: {fault: leak, summary: v2 leaks memory}
  trigger: deploy of v2
  severity: SEV3
  fixes:
    - {action: rollback, target: deployment/ranker}
"""
"""A beginner's drill that works: no warning."""

RUNBOOK = """\
# Ranker OOMKilled

1. Find the crash-looping pods: `kubectl get pods -n serving`
2. Roll back the leaking version: `kubectl rollout undo deployment/ranker -n serving`
"""

RUNBOOKS_LINE = "runbooks: [ranker-leak.md]\n"
SCENARIO = "s.yaml"


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ranker-leak.md").write_text(RUNBOOK, encoding="utf-8")
    return tmp_path


def changed(*edits: tuple[str, str], text: str = DRILL) -> str:
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    return text


def validate(text: str, *more: tuple[str, str]) -> list[str]:
    """The problem lines `tabletop validate` prints for the scenario (written as s.yaml, with
    ``more`` files beside it); the exit code must say it is valid."""
    Path(SCENARIO).write_text(text, encoding="utf-8")
    for name, content in more:
        Path(name).write_text(content, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", SCENARIO])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "1 file(s) OK"
    lines = result.stderr.splitlines()
    if lines:
        assert re.fullmatch(r"0 errors and \d+ warnings? in 1 file", lines[-1]), lines
    return lines[:-1]


def where(text: str, needle: str, at: str = "") -> str:
    """``s.yaml:line:column`` of ``at`` inside the only occurrence of ``needle``."""
    assert text.count(needle) == 1, f"{needle!r} occurs {text.count(needle)} times"
    index = text.index(needle) + needle.index(at)
    return f"{SCENARIO}:{text.count(chr(10), 0, index) + 1}:{index - (text.rfind(chr(10), 0, index) + 1) + 1}"


def test_the_drill_as_written_has_no_warning(files: Path) -> None:
    assert validate(DRILL) == []


# -- 1. no alert rule can page anyone -------------------------------------------------------------


def test_no_rule_can_page(files: Path) -> None:
    text = changed(("labels: {severity: page}", "labels: {severity: warning}"))
    assert validate(text) == [
        f"{where(text, 'routing:')}: routing: warning: no alert rule can page anyone: no route with an escalation "
        "policy matches any rule's labels (rules carry severity=warning; routes need severity=\"page\"); add "
        "`severity: page` to a rule's labels or a route matching the rules",
    ]
    assert validate(changed(("labels: {severity: page}", "labels: {severity: warning}"),
                            ("      policy: oncall\n", "      policy: oncall\n"
                                                       "    - matchers: ['severity=\"warning\"']\n"
                                                       "      policy: oncall\n"))) == []


def test_a_route_without_a_policy_that_catches_every_rule(files: Path) -> None:
    text = changed(("routing:\n  routes:\n", "routing:\n  policy: oncall\n  routes:\n"),
                   ("    - matchers: ['severity=\"page\"']\n      policy: oncall\n",
                    "    - matchers: ['severity=\"page\"']\n      policy: null\n"))
    assert validate(text) == [
        f"{where(text, 'routing:')}: routing: warning: no alert rule can page anyone: no route with an escalation "
        "policy matches any rule's labels (rules carry severity=page; no route has a policy; the default "
        "routing.policy (oncall) only gets alerts that no route matches); add a route with a policy that matches "
        "the rules, or change the route without a policy that catches them",
    ]
    caught_and_continued = changed(("routing:\n  routes:\n", "routing:\n  policy: oncall\n  routes:\n"),
                                   ("      policy: oncall\n", "      policy: null\n      continue: true\n"))
    assert len(validate(caught_and_continued)) == 1  # a matched route, even with continue, keeps the default away
    assert validate(changed(("routing:\n  routes:\n", "routing:\n  policy: oncall\n  routes:\n"),
                            ("    - matchers: ['severity=\"page\"']\n      policy: oncall\n",
                             "    - matchers: ['severity=\"warning\"']\n      policy: null\n"))) == []


def test_no_policy_to_page_at_all(files: Path) -> None:
    text = changed(("      policy: oncall\n", "      policy: null\n"))
    assert validate(text) == [
        f"{where(text, 'routing:')}: routing: warning: no alert rule can page anyone: no route has an escalation "
        "policy and routing.policy is not set; set routing.policy (or a route's policy) to one of the escalation "
        "policies: oncall",
    ]


def test_labels_an_alert_carries_from_its_series_may_match(files: Path) -> None:
    by_namespace = ("    - matchers: ['severity=\"page\"']\n", "    - matchers: ['namespace=\"serving\"']\n")
    assert validate(changed(by_namespace)) == []  # the expression keeps each series' namespace
    text = changed(by_namespace, ("expr: max_over_time(", "expr: sum(max_over_time("), ("[5m]) >= 1", "[5m])) >= 1"))
    assert validate(text) == [
        f"{where(text, 'routing:')}: routing: warning: no alert rule can page anyone: no route with an escalation "
        "policy matches any rule's labels (rules carry severity=page; routes need namespace=\"serving\"); add "
        "`namespace: serving` to a rule's labels or a route matching the rules",
    ]
    text = changed(by_namespace, ("expr: max_over_time(", "expr: sum by (namespace) (max_over_time("),
                   ("[5m]) >= 1", "[5m])) >= 1"))
    assert validate(text) == []


def test_a_scenario_without_alert_rules(files: Path) -> None:
    rules = DRILL[DRILL.index("rules:\n"):DRILL.index("participants:\n")]
    text = changed((rules, ""))
    assert validate(text) == [
        f"{where(text, 'routing:')}: routing: warning: the scenario has no alert rules; nothing will page: add an "
        "alerting rule (alert, expr, labels) to rules.groups or to a file of rule_files, with labels a route of "
        "routing sends to an escalation policy",
    ]
    rule_file = "groups:\n" + rules.split("  groups:\n", 1)[1].replace("\n  ", "\n")[2:]
    assert validate(changed((rules, "rule_files: [rules.yaml]\n")), ("rules.yaml", rule_file)) == []


# -- 2. a ground-truth fix cannot work -------------------------------------------------------------

TRAINING_JOB = """\
  training_jobs:
    - name: ranker-train
      node_pool: cpu
      gang_size: 1
      step_time: 2s
      checkpoint_interval: 30m
      checkpoint_size: 2Ti
      storage: {capacity: 10Ti, used: 10Ti, keep_last: 1}
faults:
"""


def test_rollback_without_a_version_to_go_back_to(files: Path) -> None:
    text = changed(("      previous_version: v1\n", ""))
    assert validate(text) == [
        f"{where(text, 'action: rollback', at='rollback')}: ground_truth.fixes[0].action: warning: rollback cannot "
        "work: deployment/ranker has no previous_version and no bad_rollout or rollout fault rolls out a new version, so there "
        "is nothing to roll back to; add `previous_version: <the version before v2>` to fleet.deployments[0], or "
        "list another fix",
    ]
    rollout = ("    rate_per_hour: 32Gi\n", "    rate_per_hour: 32Gi\n    version: v3\n"
               "  - {id: deploy, kind: bad_rollout, target: deployment/ranker, new_version: v3, latency_factor: 1.2, "
               "when: {at: 1m}}\n")
    assert validate(changed(("      previous_version: v1\n", ""), rollout)) == []


def test_rollback_to_the_version_that_leaks(files: Path) -> None:
    text = changed(("    rate_per_hour: 32Gi\n", "    rate_per_hour: 32Gi\n    version: v1\n"))
    assert validate(text) == [
        f"{where(text, 'action: rollback', at='rollback')}: ground_truth.fixes[0].action: warning: rollback cannot "
        "work: it returns deployment/ranker to v1, the version that fault 'leak' makes leak; change the leak's "
        "version or the deployment's previous_version, or list another fix",
    ]


def test_freeing_checkpoint_space_that_cannot_make_room(files: Path) -> None:
    fixes = ("    - {action: rollback, target: deployment/ranker}\n",
             "    - {action: rollback, target: deployment/ranker}\n"
             "    - {action: free_checkpoint_space, target: job/ranker-train}\n")
    text = changed(("faults:\n", TRAINING_JOB), fixes)
    assert validate(text) == [
        f"{where(text, 'action: free_checkpoint_space', at='free')}: ground_truth.fixes[1].action: warning: "
        "free_checkpoint_space cannot work: after deleting old checkpoints the volume of job/ranker-train still "
        "holds 10Ti (8Ti of other data and the newest checkpoint), so the next 2Ti checkpoint does not fit in 10Ti; "
        "raise storage.capacity or lower storage.used of fleet.training_jobs[0]",
    ]
    assert validate(changed(("faults:\n", TRAINING_JOB.replace("capacity: 10Ti", "capacity: 20Ti")), fixes)) == []


# -- 3. the root cause cannot fire any rule --------------------------------------------------------

CRASH_LOOP = 'max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", job="kube-state-metrics"}[5m]) >= 1'


def test_root_cause_moves_no_metric_a_rule_reads(files: Path) -> None:
    text = changed((CRASH_LOOP, 'kube_node_status_condition{condition="Ready", status="true"} == 0'))
    assert validate(text) == [
        f"{where(text, 'fault: leak', at='leak')}: ground_truth.root_cause.fault: warning: the root-cause fault "
        "'leak' (memory_leak) moves no metric an alert rule reads (the rules read kube_node_status_condition); add a "
        "rule on a metric it moves, e.g. container_memory_working_set_bytes, "
        "kube_pod_container_status_last_terminated_reason or kube_pod_container_status_restarts_total",
    ]
    recorded = ("    - name: kubernetes-apps\n",
                "    - name: recorded\n      rules:\n"
                "        - record: namespace:container_memory_working_set_bytes:max\n"
                "          expr: max by (namespace) (container_memory_working_set_bytes)\n"
                "    - name: kubernetes-apps\n")
    memory = (CRASH_LOOP, "namespace:container_memory_working_set_bytes:max > 7e9")
    assert validate(changed(recorded, memory)) == []  # read through a recording rule
    assert validate(changed((CRASH_LOOP, "'{__name__=~\"container_memory_.*\"} > 7e9'"))) == []
    text = changed((CRASH_LOOP, "'{__name__=~\"kube_node_.*\"} > 0'"))
    assert validate(text) == [
        f"{where(text, 'fault: leak', at='leak')}: ground_truth.root_cause.fault: warning: the root-cause fault "
        "'leak' (memory_leak) moves no metric an alert rule reads (the rules read {__name__=~\"kube_node_.*\"}); "
        "add a rule on a metric it moves, e.g. container_memory_working_set_bytes, "
        "kube_pod_container_status_last_terminated_reason or kube_pod_container_status_restarts_total",
    ]


def test_an_experiment_as_root_cause_is_not_checked(files: Path) -> None:
    lines = [line for line in validate((ROOT / "scenarios" / "chaos-serving-replicas.yaml").read_text())
             if "runbook" not in line]
    assert lines == []


# -- 4. the impact cannot start before the drill ends ----------------------------------------------


@pytest.mark.parametrize(("late", "needle", "message", "fixed"), [
    pytest.param(
        ("rate_per_hour: 32Gi", "rate_per_hour: 2Gi"), ("rate_per_hour: 2Gi", "2Gi"),
        "faults[0].rate_per_hour: warning: the first OOM kill comes at T+2h35m, after the drill ends (1h30m): the "
        "leak fills the 5Gi between memory_working_set and memory_limit at 2Gi/h, so only "
        "container_memory_working_set_bytes will climb; set rate_per_hour to at least 3.6Gi, or give "
        "fleet.deployments[0] less headroom (a lower memory_limit or a higher memory_working_set)",
        ("rate_per_hour: 32Gi", "rate_per_hour: 3.6Gi"), id="memory_leak"),
    pytest.param(
        ("    rate_per_hour: 32Gi\n", "    rate_per_hour: 32Gi\n    version: v9\n"), ("version: v9", "v9"),
        "faults[0].version: warning: deployment/ranker never runs version v9 (it runs v2, v1; a rollout or bad_rollout fault "
        "can roll out another), so nothing leaks; leave version out to leak the running v2",
        ("    rate_per_hour: 32Gi\n", "    rate_per_hour: 32Gi\n    version: v2\n"), id="memory_leak-version"),
    pytest.param(
        ("    rate_per_hour: 32Gi\n", "    rate_per_hour: 32Gi\n"
                                     "  - {id: ecc, kind: hbm_ecc, target: node/cpu-1, when: {at: 30m}, dbe_after: 1h30m}\n"),
        ("dbe_after: 1h30m", "1h30m"),
        "faults[1].dbe_after: warning: the uncorrectable error (Xid 48) comes at T+2h00m, after the drill ends "
        "(1h30m), so only correctable errors (DCGM_FI_DEV_ECC_SBE_VOL_TOTAL) will show; set dbe_after below 1h00m "
        "for the GPU to fail during the drill",
        ("    rate_per_hour: 32Gi\n", "    rate_per_hour: 32Gi\n"
                                     "  - {id: ecc, kind: hbm_ecc, target: node/cpu-1, when: {at: 30m}, dbe_after: 50m}\n"),
        id="hbm_ecc"),
    pytest.param(
        ("    rate_per_hour: 32Gi\n", "    rate_per_hour: 32Gi\n"
                                     "  - {id: surge, kind: traffic_surge, target: deployment/ranker, when: {at: 1h}, ramp: 1h}\n"),
        ("ramp: 1h}", "1h"),
        "faults[1].ramp: warning: the surge ramps up until T+2h00m, after the drill ends (1h30m): by then the load is "
        "only 1.3x of the 1.6x factor; set ramp to at most 30m",
        ("    rate_per_hour: 32Gi\n", "    rate_per_hour: 32Gi\n"
                                     "  - {id: surge, kind: traffic_surge, target: deployment/ranker, when: {at: 1h}, ramp: 5m}\n"),
        id="traffic_surge"),
    pytest.param(
        ("    rate_per_hour: 32Gi\n", "    rate_per_hour: 32Gi\n"
                                     "  - {id: v3, kind: bad_rollout, target: deployment/ranker, new_version: v3, "
                                     "latency_factor: 2, when: {at: 88m}}\n"),
        ("when: {at: 88m}", "88m"),
        "faults[1].when.at: warning: the first v3 replica is Ready only at T+1h30m30s, after the drill ends (1h30m): "
        "startup_time 30s and model_load_time 2m of fleet.deployments[0]; inject it earlier or shorten the "
        "deployment's load time",
        ("    rate_per_hour: 32Gi\n", "    rate_per_hour: 32Gi\n"
                                     "  - {id: v3, kind: bad_rollout, target: deployment/ranker, new_version: v3, "
                                     "latency_factor: 2, when: {at: 60m}}\n"),
        id="bad_rollout"),
])
def test_impact_after_the_end(files: Path, late: tuple[str, str], needle: tuple[str, str], message: str,
                              fixed: tuple[str, str]) -> None:
    text = changed(late)
    assert validate(text) == [f"{where(text, *needle)}: {message}"]
    assert validate(changed(fixed)) == []


def test_checkpoint_storage_full_before_the_next_checkpoint(files: Path) -> None:
    job = TRAINING_JOB.replace("capacity: 10Ti, used: 10Ti", "capacity: 40Ti, used: 10Ti").replace(
        "checkpoint_interval: 30m", "checkpoint_interval: 4h")
    full = ("    rate_per_hour: 32Gi\n", "    rate_per_hour: 32Gi\n"
                                        "  - {id: full, kind: checkpoint_storage_full, target: job/ranker-train, when: {at: 10m}}\n")
    text = changed(("faults:\n", job), full)
    assert validate(text) == [
        f"{where(text, 'when: {at: 10m}', at='10m')}: faults[1].when.at: warning: the first checkpoint write to fail "
        "ends at T+2h01m, after the drill ends (1h30m), so only kubelet_volume_stats_available_bytes will show the "
        "full volume; inject it earlier or shorten checkpoint_interval (4h00m) of fleet.training_jobs[0]",
    ]
    assert validate(changed(("faults:\n", job.replace("checkpoint_interval: 4h", "checkpoint_interval: 1h")), full)) == []


# -- 5. no runbook while the rubric scores runbook use --------------------------------------------

RUBRIC = """\
apiVersion: tabletop/v1
kind: Rubric
id: no-runbook
title: Respond without a runbook
criteria:
  - {id: time_to_mitigate, title: Stop the impact, measure: time_to_mitigate, weight: 10, target: 30m}
"""


def _zero_weight_allowed() -> bool:
    try:
        RunbookSteps.model_validate({"id": "runbook_steps", "title": "t", "measure": "runbook_steps", "weight": 0})
    except ValidationError:
        return False
    return True


def test_no_runbook_for_a_rubric_that_scores_one(files: Path) -> None:
    text = changed((RUNBOOKS_LINE, ""))
    if _zero_weight_allowed():
        off = "set rubric.overrides.runbook_steps.weight: 0"
    else:
        off = ("score without it with a rubric file (rubric.file) that has no runbook_steps criterion (a weight "
               "must be above 0, so an override cannot switch it off)")
    assert validate(text) == [
        f"{SCENARIO}:1:1: runbooks: warning: the rubric scores following a runbook (runbook_steps, weight 10) but "
        f"the scenario has no runbook; add `runbooks: [path/to/runbook.md]`, or {off}",
    ]
    assert validate(changed((RUNBOOKS_LINE, "rubric: {file: rubric.yaml}\n")), ("rubric.yaml", RUBRIC)) == []
    if _zero_weight_allowed():
        assert validate(changed((RUNBOOKS_LINE, "rubric: {overrides: {runbook_steps: {weight: 0}}}\n"))) == []
    overridden = changed((RUNBOOKS_LINE, "rubric: {overrides: {runbook_steps: {weight: 4}}}\n"))
    assert validate(overridden) == [
        f"{where(overridden, 'rubric:')}: rubric: warning: the rubric scores following a runbook (runbook_steps, "
        f"weight 4) but the scenario has no runbook; add `runbooks: [path/to/runbook.md]`, or {off}",
    ]


# -- the bundled drills, and what validation loads ------------------------------------------------


@pytest.mark.parametrize("path", ["scenarios/serving-gpu-node-failure.yaml",
                                  "tests/scoring/fixtures/scenarios/serving-gpu-node-failure.yaml"])
def test_bundled_drills_have_no_warning(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["validate", path])
    assert result.exit_code == 0 and result.stderr == "", result.output


def test_validation_does_not_load_the_simulation() -> None:
    code = (
        "import json, sys\n"
        "from tabletop.scenario.loader import validate_files\n"
        f"problems = validate_files([{str(ROOT / 'scenarios' / 'serving-gpu-node-failure.yaml')!r}])\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'simpy' or m.startswith('tabletop.faults.') and "
        "m != 'tabletop.faults.signals' or m.startswith('tabletop.sim.') and m != 'tabletop.sim.action_specs')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


# -- the table of metrics each fault kind moves, against the exporters ---------------------------

PROBES: dict[str, list[dict[str, Any]]] = {
    "gpu_xid": [{"target": "node/gpu-serve-2", "gpu": 5, "xid": 79}, {"target": "node/gpu-serve-2", "gpu": 5, "xid": 13},
                {"target": "node/gpu-train-0", "gpu": 0, "xid": 79}],
    "hbm_ecc": [{"target": "node/gpu-serve-2", "gpu": 5, "dbe_after": "10m"},
                {"target": "node/gpu-train-0", "gpu": 0, "dbe_after": "10m"}],
    "gpu_thermal": [{"target": "node/gpu-serve-2"}, {"target": "node/gpu-train-0"}],
    "node_not_ready": [{"target": "node/gpu-serve-2"}, {"target": "node/gpu-train-0"}],
    "memory_leak": [{"target": "deployment/ranker", "rate_per_hour": "32Gi"},
                    {"target": "deployment/chat-llm", "rate_per_hour": "200Gi"}],
    "bad_rollout": [{"target": "deployment/ranker", "new_version": "v119", "latency_factor": 2, "accuracy_drop": 0.1},
                    {"target": "deployment/chat-llm", "new_version": "v9", "latency_factor": 2}],
    "rollout": [{"target": "deployment/ranker", "new_version": "v119"}, {"target": "deployment/chat-llm", "new_version": "v9"}],
    "traffic_surge": [{"target": "deployment/chat-llm", "factor": 3}, {"target": "deployment/ranker", "factor": 3}],
    "feature_drift": [{"target": "pipeline/user-features"}],
    "feature_store_outage": [{"target": "featurestore/online-features"},
                             {"target": "featurestore/online-features", "mode": "slow"}],
    "nccl_hang": [{"target": "job/llm-pretrain", "watchdog": True}, {"target": "job/llm-pretrain"}],
    "checkpoint_storage_full": [{"target": "job/llm-pretrain"}],
}
"""Faults of each kind on the bundled fleet with a training job: serving and training nodes,
an http and a vLLM server, a store with a pipeline and a model whose quality is watched."""
MINUTES = 45


def _run(spec: dict[str, Any] | None) -> tuple[dict[tuple, tuple[list, list]], set[str]]:
    """Every series of a run (label set → samples) and the label names seen, with ``spec``
    injected at 1m (or nothing)."""
    import simpy

    from tabletop.faults.injector import FaultInjector
    from tabletop.scenario.faults import Fault
    from tabletop.signals.scraper import Scraper
    from tabletop.signals.store import SeriesStore
    from tabletop.sim.fleet import Fleet
    from tabletop.sim.rng import Streams
    from tests.sim.fleets import TRAINING, with_fleet

    scenario = with_fleet(**TRAINING)
    env = simpy.Environment()
    fleet = Fleet(env, scenario.fleet, start=scenario.metadata.start, streams=Streams(1), emit=lambda kind, data: None)
    store = SeriesStore()
    scraper = Scraper(store, fleet)
    if spec is not None:
        fault = TypeAdapter(Fault).validate_python({"id": "f", "when": {"at": 60}, **spec})
        FaultInjector(fleet, [fault], lambda *args: None)
    for step in range(1, MINUTES * 4 + 1):
        env.run(until=step * 15.0)
        for deployment in fleet.deployments.values():
            deployment.step(15.0)
        scraper.scrape()
    series = {tuple(sorted(s.labels.items())): (s.ts, s.vs) for s in store}
    return series, {name for s in store for name in s.labels}


@pytest.fixture(scope="module")
def baseline() -> tuple[dict[tuple, tuple[list, list]], set[str]]:
    return _run(None)


def _exported_names() -> set[str]:
    from tabletop.signals.scraper import families

    names = set()
    for name, kind, _ in families():
        names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"} if kind == "histogram" else {name}
    return names


def test_the_table_names_every_fault_kind_and_only_exported_metrics() -> None:
    assert set(signals.MOVES) == set(signals.TELLTALE) == set(TARGET_KIND) == set(PROBES)
    exported = _exported_names()
    assert signals.EVERY_METRIC <= exported, sorted(signals.EVERY_METRIC - exported)
    for kind, telltale in signals.TELLTALE.items():
        assert telltale and set(telltale) <= signals.MOVES[kind], kind


@pytest.mark.parametrize("kind", sorted(PROBES))
def test_the_table_lists_every_metric_a_fault_moves(kind: str, baseline) -> None:
    before, _ = baseline
    moved: set[str] = set()
    for params in PROBES[kind]:
        after, labels = _run({"kind": kind, **params})
        assert labels - {"__name__"} <= signals.SERIES_LABELS, sorted(labels - signals.SERIES_LABELS - {"__name__"})
        moved |= {dict(key)["__name__"] for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    assert moved <= signals.MOVES[kind], f"{kind} moves metrics the table does not list: {sorted(moved - signals.MOVES[kind])}"
    assert set(signals.TELLTALE[kind]) <= moved, f"{kind}: telltale metrics that did not move: {sorted(set(signals.TELLTALE[kind]) - moved)}"


def test_the_table_names_every_label_of_the_baseline(baseline) -> None:
    _, labels = baseline
    assert labels - {"__name__"} <= signals.SERIES_LABELS
