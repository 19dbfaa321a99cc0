"""The built-in responders separate a good response from a poor one on drills they were not
written for: on every fault kind's small scenario (``scenarios/<kind>.yaml``) and the beginner
drill written from the docs alone (``docs_only/ranker-leak.yaml``), on several seeds, the expert
scores at least 85 and the novice at most 60.

Scoring is also fair on each of those runs: a criterion rated P always cites the events that
earned it (nothing gets full points for what never happened), and a criterion rated N/A is
left out of the total.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from tabletop.drill.outputs import build_outputs
from tabletop.drill.responders import make_responder
from tabletop.drill.run import run_headless
from tabletop.scenario.loader import LoadedScenario, load_scenario
from tabletop.scoring.score import Score

HERE = Path(__file__).parent
DRILLS = sorted((HERE / "scenarios").glob("*.yaml")) + [HERE / "docs_only" / "ranker-leak.yaml"]
SEEDS = (1, 2, 3)
EXPERT_AT_LEAST = 85.0
NOVICE_AT_MOST = 60.0


@cache
def loaded(path: Path) -> LoadedScenario:
    return load_scenario(path)


def score(path: Path, responder: str, seed: int) -> Score:
    scenario = loaded(path)
    drill = run_headless(scenario, make_responder(responder, scenario), seed=seed)
    return build_outputs(scenario, drill.timeline.header, drill.timeline.events).score


def test_every_fault_kind_has_a_separation_drill() -> None:
    kinds = {getattr(f, "kind") for path in DRILLS for f in loaded(path).scenario.faults}
    assert kinds == {"gpu_xid", "hbm_ecc", "gpu_thermal", "node_not_ready", "memory_leak", "bad_rollout",
                     "feature_drift", "feature_store_outage", "traffic_surge", "nccl_hang", "checkpoint_storage_full"}


def fair(result: Score) -> None:
    for criterion in result.criteria:
        if criterion.rating == "P":
            assert criterion.evidence, f"{criterion.id} is P with no evidence: {criterion.summary}"
    counted = [c for c in result.criteria if c.applicable]
    assert result.weight_counted == sum(c.weight for c in counted)
    assert result.total == round(sum(c.points for c in counted) / result.weight_counted * 100, 1)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("path", DRILLS, ids=lambda p: p.stem)
def test_the_expert_scores_at_least_85(path: Path, seed: int) -> None:
    result = score(path, "expert", seed)
    fair(result)
    weak = {c.id: f"{c.rating}: {c.summary}" for c in result.criteria if c.rating not in ("P", "N/A")}
    assert result.total >= EXPERT_AT_LEAST, weak


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("path", DRILLS, ids=lambda p: p.stem)
def test_the_novice_scores_at_most_60(path: Path, seed: int) -> None:
    result = score(path, "novice", seed)
    fair(result)
    strong = {c.id: f"{c.rating}: {c.summary}" for c in result.criteria if c.rating in ("P", "S")}
    assert result.total <= NOVICE_AT_MOST, strong
