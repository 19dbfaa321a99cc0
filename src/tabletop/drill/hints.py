"""The facilitator's hint: the next thing a team that follows its runbook would do."""

from __future__ import annotations

from fnmatch import fnmatch
from typing import TYPE_CHECKING

from tabletop.drill.events import responder_mitigations

if TYPE_CHECKING:
    from tabletop.drill.engine import Drill


def next_hint(drill: "Drill") -> str:
    """The first runbook step not done yet; then a fix not applied yet; then resolving."""
    for runbook in drill.runbooks.values():
        done = set(drill.incident.steps_done.get(runbook.id, []))
        for step in runbook.steps:
            if step.number not in done:
                return f"Runbook step {step.number}: {step.title}."
    applied = [e.data for e in responder_mitigations(drill.timeline.events)]
    for fix in drill.scenario.ground_truth.fixes:
        if not any(a["action"] == fix.action and fnmatch(a["target"], fix.target) for a in applied):
            return f"Have you thought about: {fix.action} {fix.target}?"
    if not drill.incident.resolved:
        return "Watch the alerts and the error ratio; resolve once they are clear."
    return "The incident is resolved; write down what you learned."
