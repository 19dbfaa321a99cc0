"""Render the facilitator's guide from a scenario and two headless runs of it: one where nobody
responds (what will happen, and when) and one by the built-in expert (a strong response)."""

from __future__ import annotations

from datetime import timedelta
from importlib.resources import files
from typing import Any

from tabletop.brief.facilitation import debrief_questions, hints
from tabletop.brief.moments import moments
from tabletop.drill.responders.expert import ExpertResponder
from tabletop.drill.responders.unattended import Unattended
from tabletop.drill.run import run_headless
from tabletop.durations import format_duration
from tabletop.markdown import environment
from tabletop.pager.rota import on_call, shift_changes
from tabletop.pager.routing import route
from tabletop.postmortem.facts import Clock
from tabletop.scenario.chaos import root_cause
from tabletop.scenario.loader import LoadedScenario
from tabletop.scoring.context import Context
from tabletop.scoring.milestones import LABELS
from tabletop.scoring.score import score_drill


def write_brief(loaded: LoadedScenario, seed: int = 1) -> str:
    """The handout's Markdown. ``seed`` is that of both runs behind it."""
    scenario = loaded.scenario
    runbooks = list(loaded.runbooks)
    unattended = run_headless(loaded, Unattended(), seed=seed, scrape_all=False).timeline.events
    expert = run_headless(loaded, ExpertResponder(), seed=seed, scrape_all=False).timeline.events
    score = score_drill(scenario, runbooks, loaded.rubric, expert)
    root = root_cause(scenario)
    clock = Clock(scenario.metadata.start)
    happening, left_out = moments(unattended)
    strong = Context(scenario, runbooks, expert).milestones
    template = files("tabletop.brief").joinpath("templates/brief.md.j2").read_text(encoding="utf-8")
    return environment(span=format_duration).from_string(template).render(
        scenario=scenario,
        meta=scenario.metadata,
        path=loaded.path,
        sha=loaded.sha256[:12],
        seed=seed,
        clock=clock,
        kinds=sorted({f.kind for f in scenario.faults}),
        runbooks=runbooks,
        alerts=_alerts(loaded),
        people=_people(loaded),
        shift_changes=_shift_changes(loaded, clock),
        roles=_roles(loaded),
        happening=happening,
        left_out=left_out,
        unattended_milestones=Context(scenario, runbooks, unattended).milestones,
        root=root,
        hints=hints(scenario, loaded.rubric, runbooks, root, unattended),
        strong=[(LABELS[name], clock.at(mark.t)) for name, mark in strong.reached()],
        commands=[(clock.at(e.t), e.actor, e.data.get("line", "")) for e in expert if e.kind == "command" and e.data.get("ok")],
        score=score,
        questions=debrief_questions(scenario, root),
    )


def _alerts(loaded: LoadedScenario) -> list[tuple[Any, str]]:
    """(alerting rule, the escalation policies its labels route to, or "no page")."""
    rows = []
    for group in loaded.rule_groups:
        for rule in group.rules:
            if rule.alert:
                policies = [d.policy for d in route(rule.labels, loaded.scenario.routing) if d.policy]
                rows.append((rule, ", ".join(dict.fromkeys(policies)) or "no page"))
    return rows


def _people(loaded: LoadedScenario) -> list[tuple[Any, str]]:
    """(participant, rotas on call at T+0)."""
    start = loaded.scenario.metadata.start
    return [(p, ", ".join(r.id for r in loaded.scenario.rotas if on_call(r, start) == p.id))
            for p in loaded.scenario.participants]


def _shift_changes(loaded: LoadedScenario, clock: Clock) -> list[tuple[Any, str, str, str]]:
    """(when, rota, from, to) of every hand-over inside the drill."""
    meta = loaded.scenario.metadata
    end = meta.start + timedelta(seconds=meta.duration)
    changes = []
    for rota in loaded.scenario.rotas:
        for moment in shift_changes(rota, meta.start, end):
            before = on_call(rota, moment - timedelta(seconds=1))
            changes.append((clock.at((moment - meta.start).total_seconds()), rota.id, before, on_call(rota, moment)))
    return sorted(changes, key=lambda c: c[0].t)


def _roles(loaded: LoadedScenario) -> tuple[list[str], float] | None:
    """The roles the rubric expects, and how soon after the first acknowledgement."""
    criterion = next((c for c in loaded.rubric.criteria if c.measure == "roles_assigned" and c.weight > 0), None)
    return (list(getattr(criterion, "roles")), float(getattr(criterion, "within"))) if criterion else None

