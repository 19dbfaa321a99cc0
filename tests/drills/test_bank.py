"""The drill bank (``scenarios/``) a facilitator picks from: enough drills, across every fault kind
and the three levels, each complete, each valid without warnings, each separating a good response
from a poor one on seeds 1-5, each replaying byte for byte and each with a facilitator's guide.

The Chaos Toolkit demo is a bank entry too, but its faults come from an experiment that only runs
paced (a headless run records it as not run), so the headless checks here leave it out; the chaos
tests (``tests/chaos``) run it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from tabletop.brief.handout import write_brief
from tabletop.drill.outputs import build_outputs
from tabletop.drill.replay import first_difference, replay_timeline
from tabletop.drill.responders import make_responder
from tabletop.drill.run import run_headless
from tabletop.drill.timeline_reader import read_timeline
from tabletop.faults.catalog import CATALOG
from tabletop.scenario.library import find_scenarios
from tabletop.scenario.loader import LoadedScenario
from tabletop.scoring.score import Score

ROOT = Path(__file__).resolve().parents[2]
ENTRIES, BROKEN = find_scenarios([ROOT / "scenarios"])
DRILLS = [e for e in ENTRIES if not e.loaded.scenario.experiments]
BY_ID = {e.id: e.loaded for e in DRILLS}
SEEDS = (1, 2, 3, 4, 5)


def test_every_scenario_of_the_bank_loads() -> None:
    assert not BROKEN, [f"{b.path}: {b.errors} error(s)" for b in BROKEN]


def test_the_bank_has_twelve_drills_across_every_fault_kind_level_and_workload() -> None:
    assert len(DRILLS) >= 12
    kinds = {getattr(f, "kind") for loaded in BY_ID.values() for f in loaded.scenario.faults}
    assert kinds == set(CATALOG)
    assert {loaded.scenario.metadata.difficulty for loaded in BY_ID.values()} == {"beginner", "intermediate", "advanced"}
    fleets = [loaded.scenario.fleet for loaded in BY_ID.values()]
    assert any(f.deployments for f in fleets) and any(f.training_jobs for f in fleets)
    assert any(f.feature_pipelines or f.feature_stores for f in fleets)


@pytest.mark.parametrize("drill", sorted(BY_ID))
def test_each_drill_is_complete_and_valid_without_warnings(drill: str) -> None:
    loaded = BY_ID[drill]
    scenario = loaded.scenario
    assert not loaded.warnings, [p.message for p in loaded.warnings]
    assert [r.path.stem for r in loaded.runbooks] == [drill], "each drill has its own runbook, runbooks/<id>.md"
    assert loaded.runbooks[0].steps[-1].commands and "tabletop resolve" in loaded.runbooks[0].steps[-1].text
    assert len(scenario.metadata.learning_objectives) >= 2
    assert scenario.participants and scenario.rotas and scenario.escalation_policies and scenario.routing.routes
    assert scenario.injects
    assert scenario.slos or not scenario.fleet.deployments or scenario.fleet.training_jobs, "a serving drill has SLOs"
    truth = scenario.ground_truth
    assert truth.fixes and truth.harmful and truth.contributing_factors
    assert any(rule.annotations.get("runbook_url", "").endswith(f"{drill}.md") for g in loaded.rule_groups
               for rule in g.rules if rule.alert), "an alert links the drill's runbook"


@cache
def score(drill: str, responder: str, seed: int) -> Score:
    loaded = BY_ID[drill]
    run = run_headless(loaded, make_responder(responder, loaded), seed=seed)
    return build_outputs(loaded, run.timeline.header, run.timeline.events).score


def fair(result: Score) -> None:
    for criterion in result.criteria:
        if criterion.rating == "P":
            assert criterion.evidence, f"{criterion.id} is P with no evidence: {criterion.summary}"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("drill", sorted(BY_ID))
def test_the_expert_scores_at_least_85(drill: str, seed: int) -> None:
    result = score(drill, "expert", seed)
    fair(result)
    assert result.total >= 85, {c.id: f"{c.rating}: {c.summary}" for c in result.criteria if c.rating not in ("P", "N/A")}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("drill", sorted(BY_ID))
def test_the_novice_scores_at_most_60(drill: str, seed: int) -> None:
    result = score(drill, "novice", seed)
    fair(result)
    assert result.total <= 60, {c.id: f"{c.rating}: {c.summary}" for c in result.criteria if c.rating in ("P", "S")}


@pytest.mark.parametrize("drill", sorted(BY_ID))
def test_each_drill_replays_byte_for_byte(drill: str, tmp_path: Path) -> None:
    loaded: LoadedScenario = BY_ID[drill]
    path = tmp_path / "timeline.jsonl"
    run_headless(loaded, make_responder("novice", loaded), seed=2, timeline_path=path)
    recorded = read_timeline(path)
    replayed = tmp_path / "replayed.jsonl"
    assert first_difference(recorded, replay_timeline(loaded, recorded, replayed)) is None
    assert replayed.read_bytes() == path.read_bytes()


@pytest.mark.parametrize("drill", sorted(BY_ID))
def test_each_drill_has_a_facilitators_guide(drill: str) -> None:
    loaded = BY_ID[drill]
    text = write_brief(loaded)
    assert text.startswith(f"# Facilitator's guide: {loaded.scenario.metadata.title}")
    happening = text.split("## What will happen, and when", 1)[1].split("\n## ", 1)[0]
    root = loaded.scenario.ground_truth.root_cause.fault
    assert f"fault {root} injected" in happening
    for fix in loaded.scenario.ground_truth.fixes:
        assert f"`{fix.action} {fix.target}`" in text
