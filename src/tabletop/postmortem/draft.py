"""The postmortem draft: a blameless, Google-SRE style Markdown document from scenario + timeline + score."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from importlib.resources import files

from tabletop.drill.timeline import Event, Header
from tabletop.markdown import environment
from tabletop.postmortem.actions import action_items
from tabletop.postmortem.facts import Facts, span
from tabletop.postmortem.lessons import lessons
from tabletop.scenario.model import Scenario
from tabletop.scenario.runbook import Runbook
from tabletop.scoring.context import Context
from tabletop.scoring.diagnosis import verdict
from tabletop.scoring.score import Score

_VERDICTS = {"correct": "matches the root cause", "kind": "right fault kind, wrong object", "wrong": "not the root cause"}


def write_postmortem(
    scenario: Scenario, runbooks: Sequence[Runbook], events: Sequence[Event], score: Score, header: Header | None = None,
) -> str:
    """Render the draft. ``header`` (the timeline's) adds the scenario hash and seed when given."""
    ctx = Context(scenario, runbooks, events)
    start = datetime.fromisoformat(header.start.replace("Z", "+00:00")) if header else scenario.metadata.start
    facts = Facts(scenario, events, ctx.milestones, start)
    template = files("tabletop.postmortem").joinpath("templates/postmortem.md.j2").read_text(encoding="utf-8")
    return environment(span=span).from_string(template).render(
        scenario=scenario,
        header=header,
        score=score,
        facts=facts,
        date=start.strftime("%Y-%m-%d"),
        summary=_summary(facts, score),
        hypotheses=[(facts.clock.at(e.t), facts.who(e.actor), e.data, _VERDICTS[verdict(e, ctx)]) for e in facts.hypotheses()],
        root_fault=ctx.root_fault,
        runbooks=runbooks,
        items=action_items(facts, score),
        lessons=lessons(facts, score),
    )


def _summary(facts: Facts, score: Score) -> str:
    """A few sentences: what broke, for how long, how it was found and ended."""
    m = facts.milestones
    truth = facts.scenario.ground_truth
    parts = [_first_sentence(truth.root_cause.summary)]
    duration = facts.impact_duration()
    if m.impact_start and duration is not None:
        parts.append(f"Customer impact lasted {span(duration)}, from {facts.clock.at(m.impact_start.t).clock}.")
    elif m.impact_start:
        parts.append(f"Customer impact began at {facts.clock.at(m.impact_start.t).clock} and had not ended when the drill stopped.")
    failed, exact = facts.failed_requests()
    if failed:
        total = sum(f.requests for f in failed)
        parts.append(f"{'' if exact else 'At least '}{total:,} requests failed.")
    alert = facts.first_alert()
    if alert:
        parts.append(f"The first alert, {alert.data.get('alertname')}, fired at {facts.clock.at(alert.t).clock}.")
    ack = facts.first_ack()
    if ack:
        parts.append(f"{facts.who(str(ack.data.get('by')))} acknowledged the page at {facts.clock.at(ack.t).clock}.")
    resolved = facts.resolution()
    parts.append(f"The incident was resolved at {facts.clock.at(resolved.t).clock}." if resolved else "The incident was not resolved during the drill.")
    parts.append(f"The drill scored {score.total:.1f} / 100.")
    return " ".join(parts)


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s+", " ".join(text.split()), maxsplit=1)[0]
