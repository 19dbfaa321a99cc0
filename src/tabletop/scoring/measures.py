"""The measure functions, one per ``measure`` of the rubric: ``(criterion, context) -> Assessment``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tabletop.scoring.budget import error_budget
from tabletop.scoring.context import Assessment, Context
from tabletop.scoring.diagnosis import harmful_actions, hypothesis, runbook_steps
from tabletop.scoring.paging import escalation, handoff_note
from tabletop.scoring.rubric import Criterion
from tabletop.scoring.team import roles_assigned, status_updates
from tabletop.scoring.timed import time_to_acknowledge, time_to_mitigate, time_to_resolve

MEASURES: dict[str, Callable[[Any, Context], Assessment]] = {
    "time_to_acknowledge": time_to_acknowledge,
    "time_to_mitigate": time_to_mitigate,
    "time_to_resolve": time_to_resolve,
    "escalation": escalation,
    "handoff_note": handoff_note,
    "roles_assigned": roles_assigned,
    "status_updates": status_updates,
    "hypothesis": hypothesis,
    "runbook_steps": runbook_steps,
    "harmful_actions": harmful_actions,
    "error_budget": error_budget,
}
"""Measure name (a criterion's ``measure``) → its function."""


def assess(criterion: Criterion, ctx: Context) -> Assessment:
    return MEASURES[criterion.measure](criterion, ctx)
