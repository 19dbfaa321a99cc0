"""Issue 16's new user: a beginner drill written from README and ``tabletop schema`` alone
(``docs_only/ranker-leak.yaml``: a 4-replica ranker leaking 32 GiB/h from 5m, the upstream
KubePodCrashLooping rule paging on ``severity="page"``, no runbook), run through the CLI as
that user would, seed 1. What went wrong for them must not happen again: the leak healing
itself after one OOM, a page sent for alerts that had already resolved, and full points for
what never happened."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tabletop.cli import main

HERE = Path(__file__).parent
SCENARIO = HERE / "docs_only" / "ranker-leak.yaml"
BACKOFF = re.compile(r"\(OOMKilled, restart (\d+), next try in (\d+)s\)")


def run(tmp_path: Path, responder: str) -> tuple[list[dict[str, Any]], Path]:
    out = tmp_path / responder.replace("/", "_")
    result = CliRunner().invoke(main, ["run", str(SCENARIO), "--headless", "--responder", responder, "--seed", "1",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in (out / "timeline.jsonl").read_text().splitlines()[1:]]
    return events, out


@pytest.fixture(scope="module")
def untouched(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Nobody changes anything: the fault runs its course."""
    script = tmp_path_factory.mktemp("script") / "bystander.yaml"
    script.write_text("apiVersion: tabletop/v1\nkind: ResponderScript\nname: bystander\n"
                      "commands:\n  - {at: 1m, as: ann, run: \"note 'watching, touching nothing'\"}\n")
    return run(tmp_path_factory.mktemp("untouched"), str(script))[0]


def test_it_validates_with_a_located_warning_about_the_missing_runbook() -> None:
    result = CliRunner().invoke(main, ["validate", str(SCENARIO)])
    assert result.exit_code == 0, result.output
    assert (f"{SCENARIO}:3:1: runbooks: warning: the rubric scores following a runbook (runbook_steps, weight 10) "
            "but the scenario has no runbook; add `runbooks: [path/to/runbook.md]`, or set "
            "rubric.overrides.runbook_steps.weight: 0") in result.output


def test_the_leak_keeps_oom_killing_every_pod_with_growing_back_off(untouched: list[dict[str, Any]]) -> None:
    kills: dict[str, list[tuple[float, int, int]]] = {}
    for e in untouched:
        if e["kind"] == "fleet.event" and e["data"]["reason"] == "OOMKilled":
            restart, delay = map(int, BACKOFF.search(e["data"]["message"]).groups())
            kills.setdefault(e["data"]["object"], []).append((e["t"], restart, delay))
    assert len(kills) == 4, "every replica of the leaking version"
    for pod, seen in kills.items():
        assert [r for _, r, _ in seen] == list(range(1, len(seen) + 1)), pod
        assert [d for _, _, d in seen] == [min(10 * 2**i, 300) for i in range(len(seen))], pod
        assert len(seen) >= 6 and seen[-1][0] > 80 * 60, f"{pod} still crash-loops near the end of the drill: {seen}"
    assert not [e for e in untouched if e["kind"] == "fault.mitigated"], "only a rollback ends a leak"


def test_no_page_for_alerts_that_resolved_within_group_wait(untouched: list[dict[str, Any]]) -> None:
    withheld = [e for e in untouched if e["kind"] == "page.withheld"]
    assert withheld and withheld[0]["t"] == 20 * 60, "KubePodCrashLooping fires at 19:30 and resolves at 20:00"
    assert withheld[0]["data"]["reason"] == "resolved_before_group_wait"
    for page in (e for e in untouched if e["kind"] == "page.triggered"):
        gone = [e for e in untouched if e["kind"] == "page.resolved" and e["data"]["page"] == page["data"]["page"]]
        assert not gone or gone[0]["t"] > page["t"], f"page {page['data']['page']} resolved the instant it was sent"


@pytest.mark.parametrize("responder", ["expert", "novice"])
def test_nothing_scores_for_what_never_happened(tmp_path: Path, responder: str) -> None:
    events, out = run(tmp_path, responder)
    failed = [e["data"]["line"] for e in events if e["kind"] == "command" and not e["data"]["ok"]]
    assert not failed, failed
    score = json.loads((out / "score.json").read_text())
    ratings = {c["id"]: c["rating"] for c in score["criteria"]}
    assert ratings["runbook_steps"] == "N/A" and ratings["handoff_note"] == "N/A"
    assert all(c["evidence"] for c in score["criteria"] if c["rating"] == "P")
    text = (out / "score.md").read_text()
    assert "did not happen" not in text
    assert "- Follow the runbook: The scenario has no runbook, so there were no steps to follow." in text
    assert (score["total"] >= 85) if responder == "expert" else (score["total"] <= 60), score["total"]
