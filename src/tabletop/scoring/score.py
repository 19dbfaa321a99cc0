"""Scoring a drill: every criterion of the rubric rated from the timeline, with its evidence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tabletop.drill.timeline import Event
from tabletop.durations import format_clock
from tabletop.scenario.model import Scenario
from tabletop.scenario.runbook import Runbook
from tabletop.scoring.context import Context
from tabletop.scoring.describe import describe
from tabletop.scoring.measures import assess
from tabletop.scoring.rubric import Rating, Rubric

RATING_MEANING: dict[str, str] = {
    "P": "performed without challenges",
    "S": "performed with some challenges",
    "M": "performed with major challenges",
    "U": "unable to be performed",
}


@dataclass(frozen=True)
class Evidence:
    seq: int
    t: float
    kind: str
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "t": self.t, "kind": self.kind, "text": self.text}


@dataclass(frozen=True)
class CriterionScore:
    id: str
    title: str
    measure: str
    weight: float
    rating: Rating
    points: float
    """Earned: weight × the rubric's points for the rating / 100."""
    value: float | None
    summary: str
    why: str
    evidence: tuple[Evidence, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "measure": self.measure, "weight": self.weight,
            "rating": self.rating, "points": round(self.points, 3), "value": self.value,
            "summary": self.summary, "why": self.why, "evidence": [e.to_json() for e in self.evidence],
        }


@dataclass(frozen=True)
class Score:
    scenario_id: str
    rubric_id: str
    rubric_title: str
    total: float
    """0-100, one decimal."""
    criteria: tuple[CriterionScore, ...]

    def criterion(self, criterion_id: str) -> CriterionScore:
        return next(c for c in self.criteria if c.id == criterion_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario_id, "rubric": {"id": self.rubric_id, "title": self.rubric_title},
            "total": self.total, "criteria": [c.to_json() for c in self.criteria],
        }


def score_drill(scenario: Scenario, runbooks: Sequence[Runbook], rubric: Rubric, events: Sequence[Event]) -> Score:
    ctx = Context(scenario, runbooks, events)
    by_seq = {e.seq: e for e in events}
    scored: list[CriterionScore] = []
    for criterion in rubric.criteria:
        found = assess(criterion, ctx)
        earned = criterion.weight * getattr(rubric.points, found.rating) / 100
        evidence = tuple(
            Evidence(e.seq, e.t, e.kind, describe(e)) for e in (by_seq[s] for s in sorted(set(found.evidence)))
        )
        scored.append(CriterionScore(
            criterion.id, criterion.title, criterion.measure, criterion.weight, found.rating, earned,
            found.value, found.summary, criterion.why, evidence,
        ))
    weights = sum(c.weight for c in scored)
    total = round(sum(c.points for c in scored) / weights * 100, 1)
    return Score(scenario.metadata.id, rubric.id, rubric.title, total, tuple(scored))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(score: Score) -> str:
    """The score as Markdown: a table of criteria, then each criterion's explanation and evidence."""
    lines = [
        f"# Drill score: {score.total:.1f} / 100",
        "",
        f"Scenario `{score.scenario_id}`, rubric \"{score.rubric_title}\" (`{score.rubric_id}`).",
        "Ratings: " + "; ".join(f"{r} {meaning}" for r, meaning in RATING_MEANING.items()) + ".",
        "",
        "| Criterion | Rating | Points | Evidence |",
        "|---|:-:|--:|---|",
    ]
    for c in score.criteria:
        refs = ", ".join(f"#{e.seq} {format_clock(e.t)}" for e in c.evidence) or "none (did not happen)"
        lines.append(f"| {_cell(c.title)} | {c.rating} | {c.points:.1f} / {c.weight:g} | {refs} |")
    lines += [f"| **Total** | | **{score.total:.1f} / 100** | |", ""]
    for c in score.criteria:
        lines += [f"## {c.title}: {c.rating} ({RATING_MEANING[c.rating]})", "", c.summary, ""]
        if c.why:
            lines += [f"Why it matters: {c.why}", ""]
        lines += [f"- #{e.seq} {format_clock(e.t)} `{e.kind}`: {e.text}" for e in c.evidence]
        lines += [""] if c.evidence else []
    return "\n".join(lines).rstrip() + "\n"
