"""Inhibition in the headless pager (``routing.inhibit_rules``, Alertmanager's semantics): equal
labels, missing labels, no self-inhibition, when a held-back alert pages once its source
resolves; and a drill of the issue's case (a NotReady node inhibiting the pod alerts on it) that
replays byte for byte.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import simpy

from tabletop.drill.engine import Drill
from tabletop.drill.replay import first_difference, replay_timeline
from tabletop.drill.responders import make_responder
from tabletop.drill.run import run_headless
from tabletop.drill.timeline_reader import read_timeline
from tabletop.scenario.loader import LoadedScenario, load_scenario
from tests.pager.test_pager import Recorder, make

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "fixtures" / "node-inhibits-pods.yaml"
BYSTANDER = HERE.parents[0] / "drills" / "responders" / "bystander.yaml"
UNTIL = 50 * 60.0
"""gpu-serve-2 hangs at 40m; KubeNodeNotReady fires at 46m and pages its group 30 s later."""

NODE_RULE = {"source_matchers": ['alertname="KubeNodeNotReady"'], "target_matchers": ['alertname=~"KubePod.*"'],
             "equal": ["node"]}
ROUTES = [
    {"matchers": ['severity="page"', 'team="serving"'], "policy": "serving-oncall"},
    {"matchers": ['severity="page"', 'team="gpu-infra"'], "policy": "gpu-infra-oncall"},
    {"matchers": ['severity="warning"'], "policy": None},
]


def node(name: str = "n1", **extra: str) -> dict[str, str]:
    return {"alertname": "KubeNodeNotReady", "severity": "page", "team": "gpu-infra", "node": name, **extra}


def pod(name: str, node_name: str | None = "n1", **extra: str) -> dict[str, str]:
    labels = {"alertname": "KubePodNotReady", "severity": "page", "team": "serving", "pod": name, **extra}
    return labels if node_name is None else {**labels, "node": node_name}


def pager_with(*rules: dict[str, Any], group_by: list[str] | None = None) -> tuple[simpy.Environment, Any, Recorder]:
    return make(routing={"group_by": group_by or ["team"], "group_wait": "30s", "routes": ROUTES,
                         "inhibit_rules": list(rules)})


def fire(pager: Any, labels: dict[str, str]) -> None:
    pager.alert_firing(labels["alertname"], labels, {"summary": labels["alertname"]})


def resolve(pager: Any, labels: dict[str, str]) -> None:
    pager.alert_resolved(labels["alertname"], labels)


def paged(rec: Recorder) -> list[tuple[float, str, Any]]:
    """(time, kind, alerts) of every page.triggered and page.alert_added."""
    return [(t, kind, data["alerts"] if kind == "page.triggered" else data["labels"])
            for t, kind, data, _ in rec.events if kind in ("page.triggered", "page.alert_added")]


def at(env: simpy.Environment, t: float, action: Any) -> None:
    env.timeout(t - env.now).callbacks.append(lambda _: action())


# semantics ----------------------------------------------------------------------------------------
def test_a_firing_source_mutes_targets_with_equal_labels_only() -> None:
    env, pager, rec = pager_with(NODE_RULE, group_by=["pod"])
    fire(pager, node("n1"))
    fire(pager, pod("p1", "n1"))
    fire(pager, pod("p2", "n2"))
    env.run(until=100)
    assert rec.of("alert.inhibited") == [(0.0, {
        "alertname": "KubePodNotReady", "labels": pod("p1", "n1"), "rule": 0,
        "by": {"alertname": "KubeNodeNotReady", "labels": node("n1")},
    })]
    assert paged(rec) == [(30.0, "page.triggered", ["KubeNodeNotReady"]), (30.0, "page.triggered", ["KubePodNotReady"])]
    assert [data["group"] for _, data in rec.of("page.triggered")] == [{"pod": ""}, {"pod": "p2"}]


def test_a_label_missing_from_both_is_equal_and_from_one_is_not() -> None:
    env, pager, rec = pager_with({**NODE_RULE, "equal": ["node", "cluster"]}, group_by=["pod"])
    fire(pager, node("n1"))  # no cluster label
    fire(pager, pod("p1", "n1"))  # no cluster either: inhibited
    fire(pager, pod("p2", "n1", cluster="eu"))  # has one: not
    fire(pager, pod("p3", None))  # no node, the source has one: not
    env.run(until=100)
    assert [data["labels"]["pod"] for _, data in rec.of("alert.inhibited")] == ["p1"]
    assert sorted(data["group"]["pod"] for _, data in rec.of("page.triggered")) == ["", "p2", "p3"]


def test_an_alert_matching_both_sides_never_inhibits_itself_nor_its_kind() -> None:
    """Alertmanager's excludeTwoSidedMatch: a target that matches the source matchers too is
    muted only by sources that do not match the target matchers."""
    rule = {"source_matchers": ['severity=~"page|critical"'], "target_matchers": ['severity="page"'], "equal": ["team"]}
    env, pager, rec = pager_with(rule, group_by=["alertname"])
    first = {"alertname": "A", "severity": "page", "team": "serving"}
    second = {"alertname": "B", "severity": "page", "team": "serving"}
    fire(pager, first)  # both sides: not muted by itself
    fire(pager, second)  # both sides: not muted by A, which matches both sides too
    env.run(until=100)
    assert rec.of("alert.inhibited") == []
    assert [data["alerts"] for _, data in rec.of("page.triggered")] == [["A"], ["B"]]
    critical = {"alertname": "C", "severity": "critical", "team": "serving"}  # source side only
    third = {"alertname": "D", "severity": "page", "team": "serving"}
    fire(pager, critical)
    fire(pager, third)
    env.run(until=200)
    assert [(data["alertname"], data["by"]["alertname"]) for _, data in rec.of("alert.inhibited")] == [("D", "C")]


def test_any_firing_alert_can_inhibit_and_only_alerts_that_would_page_are_recorded() -> None:
    rule = {"source_matchers": ['severity="warning"'], "target_matchers": ['alertname=~"Kube.*"'], "equal": ["node"]}
    env, pager, rec = pager_with(rule, group_by=["alertname"])
    warning = {"alertname": "GPUXidError", "severity": "warning", "team": "gpu-infra", "node": "n1"}
    fire(pager, warning)  # routed to policy null: pages nobody, inhibits all the same
    fire(pager, {"alertname": "KubeQuiet", "severity": "warning", "node": "n1"})  # muted, but would not page
    fire(pager, pod("p1", "n1"))
    env.run(until=100)
    assert [(data["alertname"], data["by"]["alertname"]) for _, data in rec.of("alert.inhibited")] == [
        ("KubePodNotReady", "GPUXidError")]
    assert rec.of("page.triggered") == []


def test_rules_are_tried_in_order_and_sources_in_the_order_they_fired() -> None:
    by_team = {"source_matchers": ['alertname="KubeNodeNotReady"'], "target_matchers": ['severity="page"'],
               "equal": ["cluster"]}
    env, pager, rec = pager_with(NODE_RULE, by_team)
    fire(pager, node("n2", cluster="eu"))
    fire(pager, node("n1", cluster="eu"))
    fire(pager, pod("p1", "n1", cluster="eu"))
    [(_, data)] = rec.of("alert.inhibited")
    assert data["rule"] == 0 and data["by"]["labels"]["node"] == "n1"
    fire(pager, pod("p2", "n3", cluster="eu"))
    assert rec.of("alert.inhibited")[1][1]["rule"] == 1 and rec.of("alert.inhibited")[1][1]["by"]["labels"]["node"] == "n2"


def test_a_source_firing_during_group_wait_mutes_the_waiting_alert_at_the_flush() -> None:
    """Alertmanager checks inhibition when it notifies a group, not when an alert arrives."""
    env, pager, rec = pager_with(NODE_RULE)
    fire(pager, pod("p1", "n1"))
    fire(pager, pod("p2", "n2"))
    at(env, 10, lambda: fire(pager, node("n1")))
    env.run(until=100)
    assert [(t, data["labels"]["pod"]) for t, data in rec.of("alert.inhibited")] == [(30.0, "p1")]
    triggered = rec.of("page.triggered")
    assert [(t, data["alerts"], data["group"]) for t, data in triggered] == [
        (30.0, ["KubePodNotReady"], {"team": "serving"}), (40.0, ["KubeNodeNotReady"], {"team": "gpu-infra"})]
    assert [p.alerts for p in pager.pages][0] == {("KubePodNotReady", tuple(sorted(pod("p2", "n2").items()))): pod("p2", "n2")}


def test_a_group_whose_alerts_are_all_held_back_pages_nobody_and_is_not_withheld() -> None:
    env, pager, rec = pager_with(NODE_RULE)
    fire(pager, node("n1"))
    fire(pager, pod("p1", "n1"))
    env.run(until=100)
    assert [data["policy"] for _, data in rec.of("page.triggered")] == ["gpu-infra-oncall"]
    assert rec.of("page.withheld") == [] and len(rec.of("alert.inhibited")) == 1


def test_an_alert_already_paged_stays_on_its_page_when_its_source_fires() -> None:
    env, pager, rec = pager_with(NODE_RULE)
    fire(pager, pod("p1", "n1"))
    env.run(until=100)
    fire(pager, node("n1"))
    env.run(until=200)
    assert rec.of("alert.inhibited") == []
    assert pager.pages[0].open and len(pager.pages[0].alerts) == 1


# when the source resolves --------------------------------------------------------------------------
def test_a_held_back_alert_pages_the_instant_its_source_resolves() -> None:
    env, pager, rec = pager_with(NODE_RULE)
    fire(pager, node("n1"))
    fire(pager, pod("p1", "n1"))
    env.run(until=500)
    resolve(pager, node("n1"))
    env.run(until=600)
    assert paged(rec) == [(30.0, "page.triggered", ["KubeNodeNotReady"]), (500.0, "page.triggered", ["KubePodNotReady"])]
    assert rec.of("page.triggered")[1][1]["group"] == {"team": "serving"}


def test_released_within_group_wait_it_pages_with_its_group_at_the_end_of_the_wait() -> None:
    env, pager, rec = pager_with(NODE_RULE)
    fire(pager, node("n1"))
    fire(pager, pod("p1", "n1"))
    at(env, 10, lambda: resolve(pager, node("n1")))
    env.run(until=100)
    assert len(rec.of("alert.inhibited")) == 1
    assert paged(rec) == [(30.0, "page.triggered", ["KubePodNotReady"])]
    assert rec.of("page.withheld") == [(30.0, {
        "policy": "gpu-infra-oncall", "group": {"team": "gpu-infra"}, "alerts": ["KubeNodeNotReady"],
        "reason": "resolved_before_group_wait", "group_wait": 30.0})]


def test_released_into_an_open_page_it_joins_it_at_once() -> None:
    env, pager, rec = pager_with(NODE_RULE)
    fire(pager, pod("p0", "n0"))
    env.run(until=100)  # P1 is open for team serving
    fire(pager, node("n1"))
    fire(pager, pod("p1", "n1"))
    env.run(until=300)
    assert paged(rec)[-1][1] == "page.triggered"  # the node's page, nothing for p1
    resolve(pager, node("n1"))
    assert paged(rec)[-1] == (300.0, "page.alert_added", pod("p1", "n1"))
    assert rec.of("page.alert_added")[-1][1]["page"] == "P1"


def test_it_stays_held_while_another_source_mutes_it_and_never_pages_if_it_resolves_first() -> None:
    env, pager, rec = pager_with(NODE_RULE, group_by=["pod"])
    fire(pager, node("n1"))
    fire(pager, node("n1", instance="other"))
    fire(pager, pod("p1", "n1"))
    fire(pager, pod("p2", "n1"))
    env.run(until=100)
    assert len(rec.of("alert.inhibited")) == 2
    resolve(pager, node("n1"))
    env.run(until=200)
    assert [data["alerts"] for _, data in rec.of("page.triggered")] == [["KubeNodeNotReady"]]
    resolve(pager, pod("p2", "n1"))  # resolves while held back: it never pages
    env.run(until=300)
    resolve(pager, node("n1", instance="other"))
    env.run(until=400)
    assert paged(rec)[-1] == (300.0, "page.triggered", ["KubePodNotReady"])
    assert rec.of("page.triggered")[-1][1]["group"] == {"pod": "p1"} and len(rec.of("page.triggered")) == 2
    assert len(rec.of("alert.inhibited")) == 2  # recorded once per hold


def test_without_rules_nothing_is_tracked() -> None:
    env, pager, rec = make()
    fire(pager, node("n1"))
    fire(pager, pod("p1", "n1"))
    env.run(until=100)
    assert pager.inhibitor.rules == [] and pager.inhibitor._firing == {} and pager._held == {}
    assert rec.of("alert.inhibited") == []


# the drill ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def loaded() -> LoadedScenario:
    return load_scenario(FIXTURE)


@pytest.fixture(scope="module")
def drill(loaded: LoadedScenario, tmp_path_factory: pytest.TempPathFactory) -> Drill:
    path = tmp_path_factory.mktemp("inhibition") / "timeline.jsonl"
    return run_headless(loaded, make_responder(str(BYSTANDER), loaded), until=UNTIL, timeline_path=path,
                        responder_name="bystander")


def fired(drill: Drill, alertname: str) -> list[tuple[float, dict[str, str]]]:
    return [(e.t, e.data["labels"]) for e in drill.timeline.events
            if e.kind == "alert.firing" and e.data["alertname"] == alertname]


def pod_pages(drill: Drill) -> dict[str, float]:
    """When each pod's KubePodNotReady paged (the fixture pages them one page per pod)."""
    return {e.data["group"]["pod"]: e.t for e in drill.timeline.events
            if e.kind == "page.triggered" and e.data["alerts"] == ["KubePodNotReady"]}


def test_the_pod_alert_on_the_notready_node_is_inhibited_and_pages_nobody(drill: Drill) -> None:
    [(t_node, node_labels)] = fired(drill, "KubeNodeNotReady")
    assert node_labels["node"] == "gpu-serve-2" and t_node == 2760.0
    on_node = [(t, labels) for t, labels in fired(drill, "KubePodNotReady") if labels.get("node") == "gpu-serve-2"]
    [(t_early, crash_looping), (t_late, healthy)] = on_node
    inhibited = [e for e in drill.timeline.events if e.kind == "alert.inhibited"]
    assert [(e.t, e.data) for e in inhibited] == [(t_node, {
        "alertname": "KubePodNotReady", "labels": healthy, "rule": 0,
        "by": {"alertname": "KubeNodeNotReady", "labels": node_labels}})]
    assert t_late == t_node  # they fire at the same evaluation; the node's rule comes first in its group
    pages = pod_pages(drill)
    assert healthy["pod"] not in pages
    assert pages[crash_looping["pod"]] == t_early + 30  # the same alert paged before the node failed
    assert not any(e.kind == "page.alert_added" and e.data["labels"] == healthy for e in drill.timeline.events)
    node_page = next(e for e in drill.timeline.events if e.kind == "page.triggered" and e.data["alerts"] == ["KubeNodeNotReady"])
    assert node_page.t == t_node + 30


def test_without_the_rule_the_same_alert_pages(loaded: LoadedScenario, drill: Drill) -> None:
    routing = loaded.scenario.routing.model_copy(update={"inhibit_rules": []})
    plain = dataclasses.replace(loaded, scenario=loaded.scenario.model_copy(update={"routing": routing}))
    without = run_headless(plain, make_responder(str(BYSTANDER), plain), until=UNTIL)
    [(_, healthy)] = [(e.t, e.data["labels"]) for e in drill.timeline.events if e.kind == "alert.inhibited"]
    [(t_node, _)] = fired(drill, "KubeNodeNotReady")
    assert pod_pages(without)[healthy["pod"]] == t_node + 30
    assert not any(e.kind == "alert.inhibited" for e in without.timeline.events)
    # inhibition changes who is paged, not what happens: the same alerts fire at the same times
    assert [(e.t, e.data) for e in without.timeline.events if e.kind.startswith("alert.") and e.kind != "alert.inhibited"] \
        == [(e.t, e.data) for e in drill.timeline.events if e.kind.startswith("alert.") and e.kind != "alert.inhibited"]


def test_the_drill_replays_byte_for_byte(loaded: LoadedScenario, drill: Drill, tmp_path: Path) -> None:
    assert drill.timeline.path is not None
    recorded = read_timeline(drill.timeline.path)
    assert any(e.kind == "alert.inhibited" for e in recorded.events)
    assert first_difference(recorded, replay_timeline(loaded, recorded, tmp_path / "replayed.jsonl")) is None
