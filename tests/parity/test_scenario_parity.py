"""The bundled scenario against promtool: the series its drill generates (expert and novice
responders), its alert rules stated at every transition, and PromQL over those series."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from tabletop.drill.engine import Drill
from tabletop.drill.responders import make_responder
from tabletop.drill.run import run_headless
from tabletop.scenario.loader import LoadedScenario, load_scenario
from tabletop.signals.promtool_tests import Statement, read_series, state_rules

from .harness import Built, Outcome, built_statement, run_cases

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "serving-gpu-node-failure.yaml"
# Per-series expressions: promtool sums series in a random order, so sums of the scenario's
# inexact rates are left to the alert checks (whose annotations round to four digits).
EXPRESSIONS = [
    'rate(http_requests_total{job="chat-llm"}[5m])',
    'histogram_quantile(0.99, rate(vllm:e2e_request_latency_seconds_bucket{job="chat-llm"}[5m]))',
    'max_over_time(kube_pod_container_status_waiting_reason{job="kube-state-metrics", reason="CrashLoopBackOff"}[5m])',
    'kube_deployment_spec_replicas{job="kube-state-metrics"} - kube_deployment_status_replicas_available{job="kube-state-metrics"}',
    'max by (Hostname, gpu, modelName) (DCGM_FI_DEV_XID_ERRORS{job="nvidia-dcgm-exporter"})',
    'kube_node_status_condition{job="kube-state-metrics", condition="Ready", status="true"} == 0',
    "ALERTS",
]


@dataclass
class Simulated:
    drill: Drill
    statement: Statement


@dataclass
class ScenarioCase:
    id: str
    loaded: LoadedScenario
    run: Simulated

    def build(self) -> Built:
        return built_statement(self.id, self.run.statement, list(self.loaded.rule_groups), EXPRESSIONS)


@pytest.fixture(scope="module")
def loaded() -> LoadedScenario:
    return load_scenario(SCENARIO)


@pytest.fixture(scope="module")
def simulated(loaded: LoadedScenario) -> dict[str, Simulated]:
    runs = {}
    groups = list(loaded.rule_groups)
    interval = loaded.scenario.signals.evaluation_interval
    for responder in ("expert", "novice"):
        drill = run_headless(loaded, make_responder(responder, loaded), seed=3)
        end = (math.ceil(loaded.scenario.metadata.duration / interval) - 1) * interval
        runs[responder] = Simulated(drill, state_rules(read_series(drill.store, groups), groups, interval, end))
    return runs


@pytest.fixture(scope="module")
def outcomes(promtool: str, loaded: LoadedScenario, simulated: dict[str, Simulated],
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    cases = [ScenarioCase(f"scenario-{name}", loaded, run) for name, run in simulated.items()]
    return run_cases(cases, tmp_path_factory.mktemp("scenario"))


@pytest.mark.parametrize("responder", ["expert", "novice"])
def test_bundled_scenario_alerts_agree_with_promtool(responder: str, outcomes: dict[str, Outcome]) -> None:
    outcomes[f"scenario-{responder}"].check()


@pytest.mark.parametrize("responder", ["expert", "novice"])
def test_statement_is_what_the_drill_recorded(responder: str, simulated: dict[str, Simulated]) -> None:
    """Evaluating the rules over the copied series reproduces the drill's own alert events,
    so the promtool test speaks for the drill."""
    run = simulated[responder]
    recorded = [
        (event.t, event.kind.removeprefix("alert."), event.data["alertname"], event.data["labels"],
         event.data["annotations"])
        for event in run.drill.timeline.events
        if event.kind.startswith("alert.")
    ]
    stated = [(t.t, t.state, t.alertname, t.labels, t.annotations) for t in run.statement.transitions]
    assert stated == recorded
    assert any(state == "firing" for _, state, *_ in stated) and any(state == "resolved" for _, state, *_ in stated)


def test_statement_checks_every_transition_and_its_surroundings(simulated: dict[str, Simulated]) -> None:
    statement = simulated["expert"].statement
    checked = set(statement.checked)
    last = max(checked)
    for transition in statement.transitions:
        around = {transition.t + offset for offset in (-300, -120, -30, 0, 30, 120, 300)}
        assert {t for t in around if 0 <= t <= last} <= checked
    assert len(statement.test["input_series"]) < 1000
