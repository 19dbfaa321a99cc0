"""A headless drill scrapes only the series it can read, and its timeline does not change.

Sweeps run thousands of headless drills, so ``run_headless(scrape_all=False)`` leaves out of
the scrape every series no rule, condition, runbook query or scripted query selects. These
tests hold it to its promise: the same timeline byte for byte on every bundled scenario, and a
loud error rather than silently empty data when an expression was missed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tabletop.drill.reads import EVERYTHING, unread_series
from tabletop.drill.responders import make_responder
from tabletop.drill.responders.scripted import ScriptResponder
from tabletop.drill.responders.unattended import Unattended
from tabletop.drill.run import run_headless
from tabletop.drill.script import ResponderScript
from tabletop.scenario.loader import LoadedScenario, load_scenario
from tabletop.signals.scraper import series_names
from tabletop.signals.store import SeriesStore, UnscrapedRead

ROOT = Path(__file__).resolve().parents[2]
BANK = sorted((ROOT / "scenarios").glob("*.yaml"))
BUNDLED = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"


@pytest.fixture(scope="module")
def bundled() -> LoadedScenario:
    return load_scenario(BUNDLED)


def script(*lines: tuple[float, str]) -> ScriptResponder:
    return ScriptResponder(ResponderScript.model_validate({
        "apiVersion": "tabletop/v1", "kind": "ResponderScript", "name": "scripted",
        "commands": [{"at": at, "as": "alice", "run": line} for at, line in lines],
    }))


def both_ways(loaded: LoadedScenario, responder_factory) -> tuple[list[str], list[str], frozenset[str]]:
    full = run_headless(loaded, responder_factory(), seed=5)
    scoped = run_headless(loaded, responder_factory(), seed=5, scrape_all=False)
    return full.timeline.lines(), scoped.timeline.lines(), scoped.store.unscraped


@pytest.mark.parametrize("path", BANK, ids=lambda p: p.stem)
def test_every_bundled_scenario_gives_the_same_timeline_with_a_scoped_scrape(path: Path) -> None:
    loaded = load_scenario(path)
    full, scoped, left_out = both_ways(loaded, lambda: make_responder("novice", loaded))
    assert scoped == full
    if not loaded.experiments:
        assert left_out, "a drill without experiments reads only some of the exporters' series"


@pytest.mark.parametrize("responder", ["expert", "unattended"])
def test_the_bundled_scenario_gives_the_same_timeline_for_other_responders(bundled: LoadedScenario, responder: str) -> None:
    factory = Unattended if responder == "unattended" else (lambda: make_responder(responder, bundled))
    full, scoped, left_out = both_ways(bundled, factory)
    assert scoped == full
    assert "DCGM_FI_DEV_GPU_TEMP" in left_out


def test_a_scripted_query_is_scraped_and_answers_as_with_a_full_scrape(bundled: LoadedScenario) -> None:
    query = 'query max by (Hostname) (DCGM_FI_DEV_GPU_TEMP)'
    full, scoped, left_out = both_ways(bundled, lambda: script((1200.0, query), (1500.0, "query up")))
    assert scoped == full
    assert "DCGM_FI_DEV_GPU_TEMP" not in left_out and "up" not in left_out
    answer = next(line for line in scoped if "DCGM_FI_DEV_GPU_TEMP" in line and '"command"' in line)
    assert "Hostname" in answer, "the query's answer (one series per node) is on the timeline"


def test_what_is_read_comes_from_rules_conditions_runbooks_and_commands(bundled: LoadedScenario) -> None:
    left_out = unread_series(bundled, [])
    read = series_names() - left_out
    rule_names = {name for group in bundled.rule_groups for rule in group.rules for name in _names(rule.expr)}
    assert rule_names & series_names() <= read
    assert "node_load1" in left_out
    assert "node_load1" not in unread_series(bundled, ["query avg(node_load1)"])


def test_nothing_is_left_out_when_an_expression_may_read_any_name(bundled: LoadedScenario) -> None:
    assert unread_series(bundled, ['query {job="nvidia-dcgm-exporter"}']) == EVERYTHING
    assert unread_series(bundled, ['query {__name__=~"DCGM_.*"}']) == EVERYTHING
    assert unread_series(bundled, ["query rate(x[<window>])"]) == EVERYTHING, "an unreadable query"
    assert unread_series(bundled, None) == EVERYTHING, "commands not known in advance (a person at the console)"


def test_nothing_is_left_out_for_chaos_toolkit_experiments() -> None:
    loaded = load_scenario(ROOT / "scenarios" / "chaos-serving-replicas.yaml")
    assert loaded.experiments
    assert unread_series(loaded, []) == EVERYTHING


def test_reading_a_left_out_name_is_an_error_not_empty_data() -> None:
    store = SeriesStore(unscraped=frozenset({"node_load1"}))
    with pytest.raises(UnscrapedRead, match="node_load1"):
        store.with_name("node_load1")
    with pytest.raises(UnscrapedRead):
        list(store.all_series())
    assert store.with_name("up") == []


def _names(expr: str) -> frozenset[str]:
    from tabletop.signals.promql import parse_query

    return parse_query(expr).metric_names()
