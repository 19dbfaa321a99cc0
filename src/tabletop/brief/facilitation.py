"""Hints to give at the moments a team usually stalls, and questions for the debrief."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from tabletop.drill.timeline import Event
from tabletop.faults.signals import TELLTALE
from tabletop.pager.rota import on_call
from tabletop.scenario.faults import FaultBase
from tabletop.scenario.model import Scenario
from tabletop.scenario.oncall import EscalationPolicy
from tabletop.scenario.runbook import Runbook
from tabletop.scoring.rubric import Rubric


@dataclass(frozen=True)
class Hint:
    t: float | None
    """Drill seconds from which the hint applies; None: whenever it fits."""
    when: str
    say: str


def hints(scenario: Scenario, rubric: Rubric, runbooks: Sequence[Runbook], root: FaultBase,
          unattended: Sequence[Event]) -> list[Hint]:
    """Hints in drill order, timed from a run in which nobody responds."""
    found: list[Hint] = []
    first_page = next((e for e in unattended if e.kind == "page.triggered"), None)
    first_signal = next((e for e in unattended if e.kind in ("alert.firing", "slo.breach_start")), None)
    if first_page:
        policy = next((p for p in scenario.escalation_policies if p.id == first_page.data.get("policy")), None)
        wait = policy.levels[0].ack_timeout if policy else 300.0
        who = _first_notified(scenario, policy, first_page.t)
        found.append(Hint(first_page.t + wait, "if nobody has acknowledged the first page",
                          f"Ask who is on call right now{f' ({who})' if who else ''} and what they do first "
                          f"when paged; the page escalates at this point."))
    elif first_signal:
        found.append(Hint(first_signal.t + 300.0, "if nobody has noticed (no alert pages anyone in this drill)",
                          "Ask the team what their dashboards show: the first signal "
                          f"({_signal(first_signal)}) pages nobody."))
    start = (first_page or first_signal)
    target = _criterion(rubric, "hypothesis", "target", 1200.0)
    if start:
        metrics = ", ".join(f"`{m}`" for m in TELLTALE.get(root.kind, ())[:3])
        found.append(Hint(start.t + target, "if there is no hypothesis yet",
                          f"Point them at the signals of the cause: {metrics}; and at the logs of {root.target}."))
    for event in unattended:
        if event.kind == "inject.delivered":
            found.append(Hint(event.t, f"when {event.data.get('from')} writes in {event.data.get('channel')}",
                              "Expect a reply with the impact, what is being done and when the next update comes."
                              if event.data.get("expects_reply") else "Nobody needs to reply; see whether it changes the plan."))
        elif event.kind == "rota.shift_change":
            found.append(Hint(event.t, f"at the shift change of {event.data.get('rota')} "
                                       f"({event.data.get('from')} → {event.data.get('to')})",
                              "Make the outgoing on-call hand over with the status, the actions taken and what comes next."))
    for harmful in scenario.ground_truth.harmful:
        found.append(Hint(None, f"if someone proposes `{harmful.action} {harmful.target}`",
                          f"Ask what it would do before they run it. {harmful.why}".strip()))
    if runbooks:
        found.append(Hint(None, "if the team is stuck",
                          f"Send them to the runbook ({', '.join(r.title for r in runbooks)}); in the console the "
                          "facilitator's `hint` gives the next step not yet done."))
    return sorted(found, key=lambda h: (h.t is None, h.t or 0.0))


def debrief_questions(scenario: Scenario, root: FaultBase) -> list[str]:
    """Open questions: the objectives first, then detection, the cause, the factors, the process."""
    questions = [f"{objective.rstrip('.')}: what did we do towards it, and what would we do differently?"
                 for objective in scenario.metadata.learning_objectives]
    questions.append("When did we first know something was wrong, and from which signal? Which signal would have told us sooner?")
    questions.append(f"How did we get from the first alert to {root.kind} on {root.target}? Which hypotheses did we drop, and why?")
    questions += [f"What would have prevented or softened this: {factor.rstrip('.')}?"
                  for factor in scenario.ground_truth.contributing_factors]
    questions.append("Which action did we hesitate over, and what would have made us confident (a runbook step, a dashboard, a second opinion)?")
    questions.append("Did every stakeholder hear from us in time? What would the next status update have said?")
    questions.append("Which alert was noisy, late or missing? What change to a rule or a runbook do we take away?")
    return questions


def _criterion(rubric: Rubric, measure: str, field: str, default: float) -> float:
    criterion = next((c for c in rubric.criteria if c.measure == measure), None)
    return float(getattr(criterion, field, default)) if criterion else default


def _first_notified(scenario: Scenario, policy: EscalationPolicy | None, t: float) -> str | None:
    """Who the first level of ``policy`` reaches at drill second ``t``."""
    if policy is None:
        return None
    moment = scenario.metadata.start + timedelta(seconds=t)
    rotas = {r.id: r for r in scenario.rotas}
    names = {p.id: p.name for p in scenario.participants}
    people = []
    for target in policy.levels[0].notify:
        kind, _, ident = target.partition("/")
        person = on_call(rotas[ident], moment) if kind == "rota" and ident in rotas else ident
        people.append(names.get(person, person))
    return ", ".join(people)


def _signal(event: Event) -> str:
    if event.kind == "alert.firing":
        return f"alert {event.data.get('alertname')}"
    return f"SLO {event.data.get('slo')} breached"
