"""PodDisruptionBudgets: evictions and drains wait on a deployment's budget, deletions do not."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tabletop.drill.engine import Drill
from tabletop.scenario.loader import load_scenario
from tabletop.scenario.problems import InputError
from tabletop.sim.disruption import REFUSED, budget_status
from tests.twin.live import BUNDLED, with_fleet

BUDGET = "The disruption budget ranker needs 4 healthy pods and has 4 currently"


@pytest.fixture
def drill() -> Drill:
    """The bundled drill at T+5m (every replica Ready), ranker's 4 replicas all required."""
    loaded = with_fleet(load_scenario(BUNDLED), {"ranker": {"disruption_budget": {"min_available": 4}}})
    drill = Drill(loaded, seed=3)
    drill.advance_to(300)
    return drill


def ranker_pod(drill: Drill):  # type: ignore[no-untyped-def]
    return sorted((p for p in drill.fleet.deployments["ranker"].pods if p.alive), key=lambda p: p.name)[0]


def test_a_drain_evicts_what_the_budget_allows_and_retries_the_rest_until_it_can(drill: Drill) -> None:
    pod = ranker_pod(drill)
    node = pod.node
    assert node is not None
    held = [p for p in node.pods if p.alive and p.owner.name == "ranker"]
    others = [p for p in node.pods if p.alive and p.owner.name != "ranker"]
    result = drill.execute("alice", f"mitigate drain node/{node.name}")
    assert result.ok, result.message
    assert (f"{len(held)} pod(s) wait on their disruption budget ({BUDGET}): tried again every 5 s, "
            "as kubectl drain does") in result.message
    assert node.cordoned and all(p.alive for p in held)
    assert not any(p.alive for p in others)  # no budget: evicted at once

    drill.advance_to(drill.now + 120)
    assert all(p.alive and p.node is node for p in held), "the budget still holds them"
    refused = drill.execute("alice", f"mitigate evict pod/{pod.name}")
    assert not refused.ok and REFUSED in refused.message and BUDGET in refused.message

    assert drill.execute("alice", "mitigate scale deployment/ranker replicas=5").ok
    ranker = drill.fleet.deployments["ranker"]
    for _ in range(120):  # 60 minutes: each eviction waits for a replacement to turn Ready elsewhere
        drill.advance_to(drill.now + 30)
        status = budget_status(ranker)
        assert status is not None and status.current_healthy >= 4, "a drain never takes the deployment below its budget"
    assert not any(p.alive for p in held), "one by one, as replacements turned Ready, the drain's retries evicted them"
    evicted = [e for e in drill.timeline.events if e.kind == "fleet.event" and e.data["reason"] == "Evicted"
               and e.data["object"] in {p.ref for p in held}]
    assert len(evicted) == len(held) and all(f"(drain {node.name})" in e.data["message"] for e in evicted)
    assert len({e.t for e in evicted}) == len(held), "never two at once: each took the only disruption allowed"


def test_deleting_a_pod_ignores_the_budget(drill: Drill) -> None:
    pod = ranker_pod(drill)
    assert drill.execute("alice", f"mitigate delete_pod pod/{pod.name}").ok
    assert not pod.alive


def test_percentages_round_up_and_unready_pods_go_while_the_budget_is_met() -> None:
    loaded = with_fleet(load_scenario(BUNDLED), {"chat-llm": {"disruption_budget": {"max_unavailable": "25%"}}})
    drill = Drill(loaded, seed=3)
    drill.advance_to(300)
    status = budget_status(drill.fleet.deployments["chat-llm"])
    assert status is not None and (status.expected, status.desired_healthy) == (6, 4)  # 25% of 6 = 1.5 -> 2 may go
    assert status.disruptions_allowed == status.current_healthy - 4


def test_a_budget_needs_exactly_one_bound(tmp_path: Path) -> None:
    data = yaml.safe_load(BUNDLED.read_text())
    ranker = next(d for d in data["fleet"]["deployments"] if d["name"] == "ranker")
    ranker["disruption_budget"] = {"min_available": 2, "max_unavailable": "10%"}
    (tmp_path / "runbooks").symlink_to(BUNDLED.parents[1] / "runbooks")
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert any("exactly one of 'min_available' or 'max_unavailable'" in p.format() for p in caught.value.problems)
