"""Scoring a drill: every criterion of the rubric rated from the timeline, with its evidence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tabletop.drill.timeline import Event
from tabletop.durations import format_clock
from tabletop.scenario.model import Scenario
from tabletop.scenario.runbook import Runbook
from tabletop.scoring.context import Assessment, Context
from tabletop.scoring.describe import describe
from tabletop.scoring.measures import assess
from tabletop.scoring.rubric import NOT_APPLICABLE, Rating, Rubric

RATING_MEANING: dict[str, str] = {
    "P": "performed without challenges",
    "S": "performed with some challenges",
    "M": "performed with major challenges",
    "U": "unable to be performed",
    "N/A": "not applicable to this drill, left out of the total",
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

    @property
    def applicable(self) -> bool:
        """False for N/A: the criterion's weight is left out of the total."""
        return self.rating != NOT_APPLICABLE

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "measure": self.measure, "weight": self.weight,
            "rating": self.rating, "applicable": self.applicable, "points": round(self.points, 3), "value": self.value,
            "summary": self.summary, "why": self.why, "evidence": [e.to_json() for e in self.evidence],
        }


@dataclass(frozen=True)
class Score:
    scenario_id: str
    rubric_id: str
    rubric_title: str
    total: float
    """0-100, one decimal: points earned over the weight of the criteria that applied."""
    criteria: tuple[CriterionScore, ...]

    def criterion(self, criterion_id: str) -> CriterionScore:
        return next(c for c in self.criteria if c.id == criterion_id)

    @property
    def not_applicable(self) -> list[CriterionScore]:
        return [c for c in self.criteria if not c.applicable]

    @property
    def weight_counted(self) -> float:
        return sum(c.weight for c in self.criteria if c.applicable)

    def counts(self) -> dict[str, int]:
        """Rating → how many criteria got it (N/A only when some did)."""
        found = {r: sum(1 for c in self.criteria if c.rating == r) for r in ("P", "S", "M", "U")}
        if self.not_applicable:
            found[NOT_APPLICABLE] = len(self.not_applicable)
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario_id, "rubric": {"id": self.rubric_id, "title": self.rubric_title},
            "total": self.total, "weight_counted": self.weight_counted,
            "weight_total": sum(c.weight for c in self.criteria), "criteria": [c.to_json() for c in self.criteria],
        }


def score_drill(scenario: Scenario, runbooks: Sequence[Runbook], rubric: Rubric, events: Sequence[Event]) -> Score:
    ctx = Context(scenario, runbooks, events)
    by_seq = {e.seq: e for e in events}
    scored: list[CriterionScore] = []
    for criterion in rubric.criteria:
        found = assess(criterion, ctx) if criterion.weight > 0 else Assessment(
            NOT_APPLICABLE, None, "Switched off for this scenario (weight 0 in its rubric).", [])
        earned = 0.0 if found.rating == NOT_APPLICABLE else criterion.weight * getattr(rubric.points, found.rating) / 100
        evidence = tuple(
            Evidence(e.seq, e.t, e.kind, describe(e)) for e in (by_seq[s] for s in sorted(set(found.evidence)))
        )
        scored.append(CriterionScore(
            criterion.id, criterion.title, criterion.measure, criterion.weight, found.rating, earned,
            found.value, found.summary, criterion.why, evidence,
        ))
    weights = sum(c.weight for c in scored if c.applicable)
    total = round(sum(c.points for c in scored) / weights * 100, 1) if weights else 0.0
    return Score(scenario.metadata.id, rubric.id, rubric.title, total, tuple(scored))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(score: Score) -> str:
    """The score as Markdown: a table of criteria, then each criterion's explanation and evidence."""
    headline = f"{score.total:.1f} / 100" if score.weight_counted else "none (no criterion applied: nothing in this drill asked anything of the team)"
    lines = [
        f"# Drill score: {headline}",
        "",
        f"Scenario `{score.scenario_id}`, rubric \"{score.rubric_title}\" (`{score.rubric_id}`).",
        "Ratings: " + "; ".join(f"{r} {meaning}" for r, meaning in RATING_MEANING.items()) + ".",
        "",
        "| Criterion | Rating | Points | Evidence |",
        "|---|:-:|--:|---|",
    ]
    for c in score.criteria:
        refs = ", ".join(f"#{e.seq} {format_clock(e.t)}" for e in c.evidence) or "none"
        points = f"{c.points:.1f} / {c.weight:g}" if c.applicable else f"not counted ({c.weight:g})"
        lines.append(f"| {_cell(c.title)} | {c.rating} | {points} | {refs} |")
    lines += [f"| **Total** | | **{score.total:.1f} / 100** | |", ""]
    skipped = score.not_applicable
    if skipped:
        weight = sum(c.weight for c in skipped)
        lines += [
            f"Not applicable to this drill, so left out of the total ({weight:g} of "
            f"{weight + score.weight_counted:g} weight points; the total is the share earned of the "
            f"{score.weight_counted:g} that applied):",
            "",
            *(f"- {c.title}: {c.summary}" for c in skipped),
            "",
        ]
    for c in score.criteria:
        lines += [f"## {c.title}: {c.rating} ({RATING_MEANING[c.rating]})", "", c.summary, ""]
        if c.why:
            lines += [f"Why it matters: {c.why}", ""]
        lines += [f"- #{e.seq} {format_clock(e.t)} `{e.kind}`: {e.text}" for e in c.evidence]
        lines += [""] if c.evidence else []
    return "\n".join(lines).rstrip() + "\n"
