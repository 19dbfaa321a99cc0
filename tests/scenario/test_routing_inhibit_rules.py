"""``routing.inhibit_rules``: Alertmanager's format, checked where it is written, in the schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tabletop.scenario.loader import load_scenario
from tabletop.scenario.schema import json_schema

from .conftest import Drill

FIXTURE = Path(__file__).resolve().parents[1] / "pager" / "fixtures" / "node-inhibits-pods.yaml"
ROUTES_END = "    - matchers: ['severity=\"warning\"']\n      policy: null\n"


def add_inhibit_rules(drill: Drill, text: str) -> None:
    """``text`` as the scenario's routing.inhibit_rules, after its routes."""
    drill.replace(ROUTES_END, ROUTES_END + "  inhibit_rules:\n" + text)


def test_inhibit_rules_load_in_alertmanagers_format(drill: Drill) -> None:
    add_inhibit_rules(drill, (
        "    - source_matchers: ['alertname=\"KubeNodeNotReady\"']\n"
        "      target_matchers: ['severity=\"warning\"', 'team=~\"serving|gpu-infra\"']\n"
        "      equal: [node]\n"
        "    - {}\n"))
    assert drill.problems() == []
    first, empty = load_scenario(drill.scenario).scenario.routing.inhibit_rules
    assert first.source_matchers == ['alertname="KubeNodeNotReady"'] and first.equal == ["node"]
    assert first.target_matchers == ['severity="warning"', 'team=~"serving|gpu-infra"']
    assert (empty.source_matchers, empty.target_matchers, empty.equal) == ([], [], [])  # as Alertmanager allows
    assert load_scenario(FIXTURE).scenario.routing.inhibit_rules[0].equal == ["node"]


def test_every_problem_of_an_inhibit_rule_at_its_line(drill: Drill) -> None:
    add_inhibit_rules(drill, (
        "    - source_matchers: ['alertname=KubeNodeNotReady']\n"
        "      target_matchers: severity=\"warning\"\n"
        "      equal: [node, 'host-name']\n"
        "    - source_match: {alertname: KubeNodeNotReady}\n"))
    where = drill.where
    assert drill.problems() == [
        f"{where('source_matchers: [')}: routing.inhibit_rules[0].source_matchers: 'alertname=KubeNodeNotReady' is not "
        "a matcher (expected e.g. severity=\"page\" or team=~\"ml|infra\")",
        f"{where('severity=' + chr(34) + 'warning' + chr(34) + chr(10), at='severity')}: "
        "routing.inhibit_rules[0].target_matchers: expected a list, got 'severity=\"warning\"'",
        f"{where('equal: [node, ')}: routing.inhibit_rules[0].equal: 'host-name' is not a label name (letters, "
        "digits and _, not starting with a digit)",
        f"{where('source_match:')}: routing.inhibit_rules[1].source_match: unknown key 'source_match' (did you mean "
        "'source_matchers'?); allowed keys: source_matchers, target_matchers, equal",
    ]


def test_the_schema_describes_inhibit_rules_and_the_fixture_matches_it() -> None:
    schema = json_schema("scenario")
    definitions = schema["$defs"]
    assert definitions["Routing"]["properties"]["inhibit_rules"]["items"] == {"$ref": "#/$defs/InhibitRule"}
    rule = definitions["InhibitRule"]
    assert rule["additionalProperties"] is False
    assert sorted(rule["properties"]) == ["equal", "source_matchers", "target_matchers"]
    assert rule["properties"]["equal"]["description"].startswith("Labels whose values must be the same")
    assert rule["description"].startswith("Alertmanager's inhibit rule")
    jsonschema = pytest.importorskip("jsonschema")
    data = json.loads(json.dumps(yaml.safe_load(FIXTURE.read_text()), default=str))
    jsonschema.Draft202012Validator(schema).validate(data)
