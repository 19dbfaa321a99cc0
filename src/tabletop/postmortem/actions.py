"""Action items: ground-truth fixes (mitigate), contributing factors (prevent), rubric misses (process)."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from tabletop.postmortem.facts import Facts, Mitigation
from tabletop.scoring.score import CriterionScore, Score

_PROCESS: dict[str, str] = {
    "time_to_acknowledge": "Check that pages reach the on-call and practise acknowledging them at once",
    "time_to_mitigate": "Practise mitigating first: restore service, then look for the full root cause",
    "time_to_resolve": "Agree when an incident is resolved and close it once the alerts have cleared",
    "escalation": "Make sure the first escalation level is reachable and owns its pages",
    "handoff_note": "Practise hand-offs with status, actions taken and next steps",
    "roles_assigned": "Assign the incident roles early in every incident",
    "status_updates": "Post stakeholder status updates on a fixed cadence",
    "hypothesis": "Practise correlating symptoms with fault signals and stating a hypothesis before acting",
    "runbook_steps": "Walk through the runbook step by step in the next drill and fix steps that did not fit",
    "harmful_actions": "Warn in the runbook against the actions that made this incident worse",
    "error_budget": "Review the error budget policy and what made this incident burn so much of it",
}
"""Measure → the process item a rating below P calls for."""


@dataclass(frozen=True)
class ActionItem:
    type: str
    """mitigate, prevent or process."""
    item: str
    owner: str
    priority: str
    source: str


def _fix_done(action: str, target: str, applied: list[Mitigation]) -> Mitigation | None:
    return next((m for m in applied if m.action == action and fnmatchcase(m.target, target)), None)


def action_items(facts: Facts, score: Score) -> list[ActionItem]:
    team = facts.owner_team()
    applied = facts.mitigations()
    items = []
    for fix in facts.scenario.ground_truth.fixes:
        done = _fix_done(fix.action, fix.target, applied)
        status = f" (done at {done.when.clock} by {done.who})" if done else " (not done during the drill)"
        text = f"{fix.action} {fix.target}" + (f": {fix.why}" if fix.why else "") + status
        owner = facts.team_of_target(fix.target) or team
        items.append(ActionItem("mitigate", text, owner, "P1" if done else "P0", "ground truth fix"))
    for factor in facts.scenario.ground_truth.contributing_factors:
        items.append(ActionItem("prevent", f"Remove the contributing factor: {factor}", team, "P1", "contributing factor"))
    lead = facts.role_holder("incident_commander") or team
    items += [_process(c, lead) for c in score.criteria if c.rating not in ("P", "N/A")]
    return items


def _process(criterion: CriterionScore, owner: str) -> ActionItem:
    text = _PROCESS[criterion.measure]
    priority = "P2" if criterion.rating == "S" else "P1"
    return ActionItem("process", text, owner, priority, f"rubric: {criterion.title} ({criterion.rating})")
