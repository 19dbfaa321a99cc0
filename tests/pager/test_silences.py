"""Silences in a headless drill: the `silence` command mutes matching alerts in tabletop's own
pager as Alertmanager would; they page once the silence ends or is expired. (The real
Alertmanager side is tests/stack/test_stack_silences.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tabletop.drill.engine import Drill
from tabletop.drill.replay import first_difference, replay_timeline
from tabletop.drill.timeline_reader import read_timeline
from tabletop.pager.silences import Silence, api_matchers, from_api_matchers
from tabletop.scenario.loader import load_scenario

BUNDLED = Path(__file__).resolve().parents[2] / "scenarios" / "serving-gpu-node-failure.yaml"
"""Its first page: ChatLLMLatencyHigh fires at 960 (team serving), paged at 990 after group_wait."""


@pytest.fixture(scope="module")
def loaded():
    return load_scenario(BUNDLED)


def kinds(drill: Drill, *wanted: str):
    return [e for e in drill.timeline.events if e.kind in wanted]


def test_a_silenced_alert_pages_nobody_until_its_silence_ends(loaded) -> None:
    drill = Drill(loaded)
    drill.submit(60, "alice", "silence alertname=ChatLLMLatencyHigh --duration 30m --comment 'known: p99'")
    drill.advance_to(1900)
    [created] = kinds(drill, "silence.created")
    assert created.data["matchers"] == ['alertname="ChatLLMLatencyHigh"'] and created.data["ends_at"] == 1860
    [held] = kinds(drill, "alert.silenced")
    assert (held.t, held.data["alertname"], held.data["silence"]) == (960, "ChatLLMLatencyHigh", "S1")
    pages = kinds(drill, "page.triggered")
    assert pages[0].data["alerts"] == ["ChatLLMHighErrorRate"]  # the error-rate alert pages the team instead
    assert not [e for e in kinds(drill, "page.alert_added") if e.t < 1860 and e.data["alertname"] == "ChatLLMLatencyHigh"]
    [expired] = kinds(drill, "silence.expired")
    assert (expired.t, expired.data["reason"]) == (1860, "ended")
    # the moment the silence ends, the still-firing latency alert pages (with the error-rate alert,
    # which fired again at 1830 after P1 resolved at 1620)
    paged = [e for e in kinds(drill, "page.triggered") if "ChatLLMLatencyHigh" in e.data["alerts"]]
    assert [e.t for e in paged] == [1860]


def test_unsilence_releases_at_once_and_replays(loaded, tmp_path: Path) -> None:
    path = tmp_path / "timeline.jsonl"
    drill = Drill(loaded, timeline_path=path)
    drill.submit(60, "alice", 'silence alertname=~"ChatLLM.*" team=serving')
    drill.submit(1200, "bob", "unsilence S1")
    drill.advance_to(1300)
    drill.end("facilitator")
    assert {e.data["alertname"] for e in kinds(drill, "alert.silenced")} == {"ChatLLMLatencyHigh", "ChatLLMHighErrorRate"}
    assert [e.t for e in kinds(drill, "page.triggered")][:1] == [1200]  # both page, grouped, once S1 is expired
    recorded = read_timeline(path)
    assert first_difference(recorded, replay_timeline(loaded, recorded)) is None


def test_what_a_silence_matches() -> None:
    silence = Silence("S1", ['team="serving"', 'alertname=~"Chat.*"', 'severity!="info"'], 0, 100, "alice", "")
    assert silence.mutes({"team": "serving", "alertname": "ChatLLMLatencyHigh", "severity": "page"}, 50)
    assert not silence.mutes({"team": "serving", "alertname": "XChat", "severity": "page"}, 50)  # anchored
    assert not silence.mutes({"team": "serving", "alertname": "ChatX", "severity": "info"}, 50)
    assert not silence.mutes({"team": "serving", "alertname": "ChatX"}, 100)  # ended
    matchers = ['team="serving"', 'alertname=~"Chat.*"', 'severity!="info"', 'gpu!~"[0-3]"']
    assert from_api_matchers(api_matchers(matchers)) == matchers


@pytest.mark.parametrize("line, said", [
    ("silence", "name at least one matcher"),
    ('silence alertname=~"("', "not a matcher"),
    ("silence team=serving --duration 0s", "longer than 0s"),
    ("unsilence S7", "there is no silence S7"),
])
def test_bad_silence_commands_say_why(loaded, line: str, said: str) -> None:
    result = Drill(loaded).execute("alice", line)
    assert not result.ok and said in result.message, result.message
