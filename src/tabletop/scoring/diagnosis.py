"""Measures of what responders concluded and did: hypothesis, runbook, harmful actions."""

from __future__ import annotations

from fnmatch import fnmatchcase

from tabletop.drill.events import responder_mitigations
from tabletop.drill.timeline import Event
from tabletop.scenario.model import ActionRef
from tabletop.scenario.runbook import Runbook
from tabletop.scoring.context import Assessment, Context, clock, not_applicable, plural, span, start_label, took
from tabletop.scoring.rubric import HarmfulActions, Hypothesis, Rating, RunbookSteps


def verdict(event: Event, ctx: Context) -> str:
    """``correct``, ``kind`` (right fault kind, wrong object) or ``wrong`` for a hypothesis event."""
    fault = ctx.root_fault
    cause, target = event.data.get("cause"), str(event.data.get("target") or "")
    if cause != fault.kind:
        return "wrong"
    same = target == fault.target or ("/" not in target and target == fault.target_name)
    return "correct" if same else "kind"


def hypothesis(criterion: Hypothesis, ctx: Context) -> Assessment:
    fault = ctx.root_fault
    truth = f"{fault.kind} on {fault.target}"
    stated = ctx.of_kind("hypothesis")
    if not stated and ctx.incident_start is None:
        return not_applicable(f"No fault was injected and no page was sent, so there was no cause to find (it would have been {truth}).")
    if not stated:
        return Assessment("U", None, f"No hypothesis was stated; the root cause was {truth}.", [])
    verdicts = [verdict(e, ctx) for e in stated]
    if "correct" not in verdicts:
        if "kind" in verdicts:
            near = stated[verdicts.index("kind")]
            summary = f"The fault kind {fault.kind} was named ({clock(near.t)}) but on {near.data.get('target')}, not {fault.target}."
            return Assessment("M", None, summary, [near.seq])
        summary = f"None of the {plural(len(stated), 'hypothesis', 'hypotheses')} matched the root cause {truth}."
        return Assessment("U", None, summary, [e.seq for e in stated])
    index = verdicts.index("correct")
    right, wrong = stated[index], stated[:index]
    start = ctx.incident_start
    delay = took(start.t, right.t) if start else None
    evidence = [e.seq for e in wrong] + [right.seq]
    rating: Rating
    if len(wrong) >= 2:
        rating = "M"
    elif wrong or delay is None or delay > criterion.target + 1e-9:
        rating = "S"
    else:
        rating = "P"
    since = start_label(start).partition(" (")[0] if start is not None else ""
    details = [f"{span(abs(delay))} {'after' if delay >= 0 else 'before'} {since}"] if delay is not None else []
    if wrong:
        details.append(f"after {plural(len(wrong), 'wrong hypothesis', 'wrong hypotheses')}")
    named = f"{clock(right.t)}, " + " and ".join(details) if details else clock(right.t)
    summary = f"The root cause {truth} was named at {named} (target {span(criterion.target)})."
    return Assessment(rating, delay, summary, evidence)


def _runbook(criterion: RunbookSteps, ctx: Context) -> Runbook | None:
    if criterion.runbook is None:
        return ctx.runbooks[0] if ctx.runbooks else None
    found = next((r for r in ctx.runbooks if r.id == criterion.runbook), None)
    if found is None:
        raise ValueError(f"criterion {criterion.id}: runbook {criterion.runbook!r} is not one of the scenario's runbooks")
    return found


def runbook_steps(criterion: RunbookSteps, ctx: Context) -> Assessment:
    runbook = _runbook(criterion, ctx)
    if runbook is None:
        return not_applicable("The scenario has no runbook, so there were no steps to follow.")
    if ctx.incident_start is None and not ctx.of_kind("runbook.step"):
        return not_applicable("No fault was injected and no page was sent, so the runbook was not needed.")
    required = criterion.required or [s.number for s in runbook.steps]
    done: dict[int, Event] = {}
    for event in ctx.of_kind("runbook.step"):
        if event.data.get("runbook") == runbook.id:
            done.setdefault(int(event.data.get("step", 0)), event)
    did = [n for n in required if n in done]
    ordered = [n for n in criterion.ordered if n in done]
    swapped = [(a, b) for a, b in zip(ordered, ordered[1:]) if done[a].seq > done[b].seq]
    percent = round(100 * len(did) / len(required), 1)
    rating: Rating
    if len(did) == len(required) and not swapped:
        rating = "P"
    elif percent >= 75:
        rating = "S"
    elif percent >= 40:
        rating = "M"
    else:
        rating = "U"
    parts = [f"{len(did)} of {len(required)} required steps of '{runbook.title}' were done"]
    missing = [n for n in required if n not in done]
    if missing:
        parts.append("not done: " + ", ".join(_step_name(runbook, n) for n in missing))
    if swapped:
        parts.append("out of order: " + ", ".join(f"step {b} before step {a}" for a, b in swapped))
    evidence = sorted(done[n].seq for n in did)
    return Assessment(rating, percent, "; ".join(parts) + ".", evidence)


def _step_name(runbook: Runbook, number: int) -> str:
    step = runbook.step(number)
    return f"{number} ({step.title})" if step else str(number)


def _harm(event: Event, harmful: list[ActionRef]) -> ActionRef | None:
    action, target = event.data.get("action"), str(event.data.get("target") or "")
    return next((h for h in harmful if h.action == action and fnmatchcase(target, h.target)), None)


def harmful_actions(criterion: HarmfulActions, ctx: Context) -> Assessment:
    applied = responder_mitigations(ctx.events)
    offending = [(e, ref) for e in applied if (ref := _harm(e, ctx.scenario.ground_truth.harmful))]
    if not applied:
        return not_applicable("No mitigation was applied, so no action could be judged harmful or safe.")
    if not offending:
        summary = f"None of the mitigations applied ({len(applied)}) is on the ground truth's list of harmful actions."
        return Assessment("P", 0, summary, [e.seq for e in applied])
    hurt = {e.seq: breach for e, _ in offending if (breach := _breach_set_off(e, ctx))}
    weight = len(offending) + bool(hurt)
    rating: Rating = ("S", "M")[weight - 1] if weight <= 2 else "U"
    details = "; ".join(
        f"{e.data.get('action')} {e.data.get('target')} at {clock(e.t)}" + (f": {ref.why}" if ref.why else "")
        + (f" (SLO {hurt[e.seq].data.get('slo')} breached {span(took(e.t, hurt[e.seq].t))} later)" if e.seq in hurt else "")
        for e, ref in offending
    )
    summary = f"{plural(len(offending), 'harmful action')}: {details}"
    summary = summary if summary.endswith(".") else summary + "."
    evidence = [e.seq for e, _ in offending] + [b.seq for b in hurt.values()]
    return Assessment(rating, len(offending), summary, sorted(evidence))


SET_OFF_WITHIN = 600.0
"""A breach starting this soon after a harmful action, while none was open, counts as its doing."""


def _breach_set_off(action: Event, ctx: Context) -> Event | None:
    """The SLO breach a harmful action visibly set off, if any: the rating drops one more step."""
    open_slos: set[str] = set()
    for event in ctx.events:
        if event.kind == "slo.breach_start":
            if event.seq > action.seq and not open_slos and event.t - action.t <= SET_OFF_WITHIN:
                return event
            open_slos.add(str(event.data.get("slo")))
        elif event.kind == "slo.breach_end":
            open_slos.discard(str(event.data.get("slo")))
        if event.t > action.t + SET_OFF_WITHIN:
            break
    return None
