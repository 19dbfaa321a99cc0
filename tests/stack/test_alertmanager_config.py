"""alertmanager.yml for drills, checked by the real amtool (Debian ``prometheus-alertmanager``).

``amtool check-config`` must accept every config written, and ``amtool config routes test``
(the real routing tree) must send each sample alert to the receivers the headless pager's
``route`` picks.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tabletop.pager.routing import route
from tabletop.scenario.loader import load_scenario
from tabletop.scenario.oncall import Routing
from tabletop.scenario.problems import InputError
from tabletop.stack.alertmanager_config import (
    RECORD_ONLY, ScaleError, dump, from_routing, from_user_file, receivers, scaled,
)
from tests.prometheus_binaries import amtool

__all__ = ["amtool"]  # the fixture, imported for pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
USER_FILE = Path(__file__).parent / "fixtures" / "alertmanager.yml"
HOOK = "http://127.0.0.1:9999/alertmanager"

CUSTOM = Routing.model_validate({
    "policy": "fallback-oncall",
    "group_by": ["alertname", "team"],
    "group_wait": "45s",
    "routes": [
        {"matchers": ['severity="page"', 'team=~"serving|gpu-.*"'], "policy": "serving-oncall", "continue": True},
        {"matchers": ['severity="page"', 'team="gpu-infra"'], "policy": "gpu-infra-oncall", "group_by": ["node"]},
        {"matchers": ['severity="page"', 'team!="serving"'], "policy": "platform-oncall", "continue": True},
        {"matchers": ['severity!~"page|critical"'], "policy": None},
        {"matchers": ['owner=""'], "policy": "platform-oncall"},  # the label is missing
        {"matchers": ['note="say \\"hi\\"\\\\n"'], "policy": "serving-oncall"},
    ],
})
SAMPLES: list[dict[str, str]] = [
    {"alertname": "A", "severity": "page", "team": team} for team in
    ("serving", "gpu-infra", "gpu-storage", "training", "ranking", "feature-platform", "risk",
     "training-infra", "hpc-storage", "nobody")
] + [
    {"alertname": "B", "severity": "warning", "team": "serving"},
    {"alertname": "C", "severity": "info", "team": "training"},
    {"alertname": "D", "severity": "critical", "team": "serving", "owner": "me"},
    {"alertname": "E", "severity": "critical", "owner": "me", "note": 'say "hi"\\n'},
    {"alertname": "F", "owner": "me"},
]


def write(tmp_path: Path, config: dict[str, Any], name: str = "alertmanager.yml") -> Path:
    path = tmp_path / name
    path.write_text(dump(config))
    return path


def check_config(amtool: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True, timeout=30)


def amtool_receivers(amtool: str, path: Path, labels: dict[str, str]) -> list[str]:
    """The receivers the real routing tree picks for an alert with ``labels``, in order."""
    quote = lambda value: value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")  # noqa: E731
    args = [f'{name}="{quote(value)}"' for name, value in labels.items()]
    result = subprocess.run([amtool, "config", "routes", "test", f"--config.file={path}", *args],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().split(",")


def headless_receivers(labels: dict[str, str], routing: Routing) -> list[str]:
    return [RECORD_ONLY if d.policy is None else d.policy for d in route(labels, routing)]


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_amtool_accepts_every_bundled_scenario_and_routes_as_the_pager_does(amtool: str, tmp_path: Path, path: Path) -> None:
    routing = load_scenario(path).scenario.routing
    config = from_routing(routing, webhook_url=HOOK, speed=60)
    file = write(tmp_path, config)
    checked = check_config(amtool, file)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert config["route"]["group_wait"] == "500ms"  # 30s at 60x
    assert (config["route"]["group_interval"], config["route"]["repeat_interval"]) == ("5s", "4m")
    assert config["global"]["resolve_timeout"] == "5s"
    for labels in SAMPLES[:12]:
        assert amtool_receivers(amtool, file, labels) == headless_receivers(labels, routing), labels


def test_continue_regexes_missing_labels_and_record_only_route_as_the_pager_does(amtool: str, tmp_path: Path) -> None:
    config = from_routing(CUSTOM, webhook_url=HOOK + "/", speed=90)
    file = write(tmp_path, config)
    checked = check_config(amtool, file)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    picked = {}
    for labels in SAMPLES:
        picked[labels["alertname"] + labels.get("team", "")] = expected = headless_receivers(labels, CUSTOM)
        assert amtool_receivers(amtool, file, labels) == expected, labels
    # the samples reach every kind of route: continue, several, record-only, missing label, default
    assert picked["Agpu-infra"] == ["serving-oncall", "gpu-infra-oncall"]
    assert picked["Agpu-storage"] == ["serving-oncall", "platform-oncall", "platform-oncall"]
    assert picked["Bserving"] == [RECORD_ONLY]
    assert picked["Dserving"] == ["fallback-oncall"] and picked["Anobody"] == ["platform-oncall", "platform-oncall"]
    assert picked["E"] == ["serving-oncall"] and picked["F"] == [RECORD_ONLY]
    route_ = config["route"]
    assert route_["group_wait"] == "500ms" and route_["group_by"] == ["alertname", "team"]
    assert route_["routes"][0] == {"receiver": "serving-oncall", "matchers": ['severity="page"', 'team=~"serving|gpu-.*"'],
                                   "continue": True}
    assert route_["routes"][1]["group_by"] == ["node"] and "group_by" not in route_["routes"][2]
    assert receivers(config) == ["fallback-oncall", "serving-oncall", "gpu-infra-oncall", "platform-oncall", RECORD_ONLY]
    assert config["receivers"][4] == {"name": RECORD_ONLY, "webhook_configs": [
        {"url": f"{HOOK}/{RECORD_ONLY}", "send_resolved": True}]}


def test_the_routings_inhibit_rules_are_written_and_checked(amtool: str, tmp_path: Path) -> None:
    routing = CUSTOM.model_copy(update={"inhibit_rules": Routing.model_validate({"inhibit_rules": [
        {"source_matchers": ['alertname="KubeNodeNotReady"'], "target_matchers": ['alertname=~"KubePod.*"'],
         "equal": ["node"]},
        {"source_matchers": ['severity="page"', 'note="say \\"hi\\"\\\\n"'], "target_matchers": ['severity!="page"']},
        {"equal": ["team", "namespace"]},
    ]}).inhibit_rules})
    config = from_routing(routing, webhook_url=HOOK, speed=1)
    assert config["inhibit_rules"] == [
        {"source_matchers": ['alertname="KubeNodeNotReady"'], "target_matchers": ['alertname=~"KubePod.*"'],
         "equal": ["node"]},
        {"source_matchers": ['severity="page"', 'note="say \\"hi\\"\\\\n"'], "target_matchers": ['severity!="page"']},
        {"equal": ["team", "namespace"]},
    ]
    assert config["route"]["group_wait"] == "45s" and config["route"]["repeat_interval"] == "4h"
    checked = check_config(amtool, write(tmp_path, config))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "3 inhibit rules" in checked.stdout
    assert "inhibit_rules" not in from_routing(CUSTOM, webhook_url=HOOK, speed=1)


def test_scaled_durations_keep_milliseconds_and_refuse_zero() -> None:
    assert scaled(30, 60, "group_wait") == "500ms"
    assert scaled(4 * 3600, 7, "repeat_interval") == "34m17s143ms"
    assert scaled(0, 60, "group_wait") == "0s"
    with pytest.raises(ScaleError, match=r"group_wait 30s at speed 100000x would last 0.3 ms .* at most 30000x"):
        from_routing(CUSTOM.model_copy(update={"group_wait": 30.0}), webhook_url=HOOK, speed=100_000)
    with pytest.raises(ValueError, match="speed must be a positive number"):
        from_routing(CUSTOM, webhook_url=HOOK, speed=0)


def test_a_user_file_notifies_only_the_drill_with_its_routing_and_timings_scaled(amtool: str, tmp_path: Path) -> None:
    config = from_user_file(USER_FILE, webhook_url=HOOK, speed=60)
    file = write(tmp_path, config)
    checked = check_config(amtool, file)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    names = ["slack-ml-infra", "pagerduty-serving", "pagerduty-training", "pagerduty-gpu", "blackhole"]
    assert receivers(config) == names
    assert config["receivers"] == [{"name": n, "webhook_configs": [{"url": f"{HOOK}/{n}", "send_resolved": True}]}
                                   for n in names]
    # nothing in the drill's copy can reach beyond the drill's webhook
    text = file.read_text()
    for outside in ("slack.example", "pagerduty.example", "proxy", "example.com", "gpu-bot", "routing_key"):
        assert outside not in text
    assert config["global"] == {"resolve_timeout": "10s"}
    root = config["route"]
    assert (root["group_wait"], root["group_interval"], root["repeat_interval"]) == ("1s", "5s", "4m")
    pages, warnings, infos = root["routes"]
    assert pages["group_interval"] == "10s" and "group_wait" not in pages and "repeat_interval" not in pages
    training, gpu, gpu_slack = pages["routes"]
    assert (training["group_wait"], training["repeat_interval"]) == ("2s", "1m") and "group_interval" not in training
    assert gpu == {"matchers": ['team="gpu-infra"'], "receiver": "pagerduty-gpu", "continue": True}
    assert gpu_slack["receiver"] == "slack-ml-infra" and warnings["repeat_interval"] == "12m"
    assert infos == {"matchers": ['severity="info"'], "receiver": "blackhole"}
    assert config["inhibit_rules"] == yaml.safe_load(USER_FILE.read_text())["inhibit_rules"]
    assert config["templates"] == [str(USER_FILE.parent / "templates" / "*.tmpl")]
    # the routing tree is the user's own: amtool routes every sample the same in both files
    for labels in SAMPLES:
        assert amtool_receivers(amtool, file, labels) == amtool_receivers(amtool, USER_FILE, labels), labels
    assert amtool_receivers(amtool, file, SAMPLES[1]) == ["pagerduty-gpu", "slack-ml-infra"]


def test_a_bad_user_file_gets_amtools_message_at_its_line(amtool: str, tmp_path: Path) -> None:
    bad = tmp_path / "alertmanager.yml"
    bad.write_text("route:\n  receiver: pager\n  group_wait: 30s\nreceivers:\n  - name: slack\n")
    with pytest.raises(InputError) as raised:
        from_user_file(bad, webhook_url=HOOK, speed=60)
    (problem,) = raised.value.problems
    assert problem.format() == f'{bad}:2:13: amtool check-config: undefined receiver "pager" used in route'
    bad.write_text("route:\n  receiver: slack\n  group_wait: 30s\n  colour: blue\nreceivers:\n  - name: slack\n")
    with pytest.raises(InputError, match=rf"{bad}:4:1: amtool check-config: yaml: unmarshal errors: line 4: field colour not found"):
        from_user_file(bad, webhook_url=HOOK, speed=60)
    with pytest.raises(InputError, match=rf"{tmp_path / 'none.yml'}:1:1: file not found"):
        from_user_file(tmp_path / "none.yml", webhook_url=HOOK, speed=60)


def test_a_user_file_with_time_intervals_or_too_short_timings_is_refused_where_it_says_so(amtool: str, tmp_path: Path) -> None:
    user = tmp_path / "alertmanager.yml"
    user.write_text(
        "route:\n"
        "  receiver: slack\n"
        "  routes:\n"
        "    - receiver: slack\n"
        "      group_wait: 1ms\n"
        "      mute_time_intervals: [nights]\n"
        "time_intervals:\n"
        "  - name: nights\n"
        "    time_intervals: [{times: [{start_time: '20:00', end_time: '23:59'}]}]\n"
        "receivers:\n"
        "  - name: slack\n")
    with pytest.raises(InputError) as raised:
        from_user_file(user, webhook_url=HOOK, speed=60)
    first, second = (p.format() for p in raised.value.problems)
    assert first.startswith(f"{user}:5:19: route.routes[0].group_wait: group_wait 1ms at speed 60x would last")
    assert second.startswith(f"{user}:6:7: route.routes[0].mute_time_intervals: time intervals follow the real clock")
    user.write_text(user.read_text().replace("      group_wait: 1ms\n      mute_time_intervals: [nights]\n", ""))
    config = from_user_file(user, webhook_url=HOOK, speed=60)
    assert config["time_intervals"][0]["name"] == "nights"  # kept: no route uses them
