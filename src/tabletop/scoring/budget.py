"""Error budget burned per SLO: exact from ``drill.ended``, estimated from breaches otherwise.

A killed drill has no final SLO summary. Its closed breaches still say how many requests went
bad and at what request rate; the budget is then estimated as if that rate held for the whole
SLO window, which the drill cannot know. Breaches still open when it stopped are not counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tabletop.drill.timeline import Event
from tabletop.scenario.model import Scenario
from tabletop.scoring.context import Assessment, Context, not_applicable, rate
from tabletop.scoring.rubric import ErrorBudget


@dataclass(frozen=True)
class Burn:
    slo: str
    percent: float
    bad: int
    total: int
    estimated: bool
    """True when derived from breach data of a drill that did not end normally."""
    open_breach: bool
    """A breach of this SLO was still open when the drill stopped (its requests are not counted)."""
    evidence: list[int]


def budget_burn(scenario: Scenario, events: Sequence[Event]) -> list[Burn]:
    ended = next((e for e in events if e.kind == "drill.ended"), None)
    if ended is not None:
        return [
            Burn(
                slo, float(v.get("budget_burned_percent", 0.0)), int(v.get("bad", 0)), int(v.get("total", 0)),
                estimated=False, open_breach=False, evidence=[ended.seq],
            )
            for slo, v in (ended.data.get("slos") or {}).items()
        ]
    return [_estimate(slo.id, slo.objective, slo.window, events) for slo in scenario.slos]


def _estimate(slo: str, objective: float, window: float, events: Sequence[Event]) -> Burn:
    bad = total = 0
    seconds = 0.0
    started: Event | None = None
    evidence: list[int] = []
    for event in events:
        if event.data.get("slo") != slo:
            continue
        if event.kind == "slo.breach_start":
            started = event
        elif event.kind == "slo.breach_end" and started is not None:
            bad += int(event.data.get("bad", 0))
            total += int(event.data.get("total", 0))
            seconds += event.t - started.t
            evidence.append(event.seq)
            started = None
    if started is not None:
        evidence.append(started.seq)
    budget = (1 - objective / 100) * (total / seconds) * window if seconds > 0 and total > 0 else 0.0
    percent = round(100 * bad / budget, 3) if budget > 0 else 0.0
    return Burn(slo, percent, bad, total, True, started is not None, evidence)


def error_budget(criterion: ErrorBudget, ctx: Context) -> Assessment:
    burns = budget_burn(ctx.scenario, ctx.events)
    if not burns:
        evidence = [ctx.ended.seq] if ctx.ended else []
        return not_applicable("The scenario has no SLO, so there was no error budget to protect.", evidence)
    worst = max(burns, key=lambda b: b.percent)
    if ctx.incident_start is None and worst.percent == 0 and not worst.estimated:
        return not_applicable(f"No fault was injected and no page was sent, so there was nothing to protect the error "
                              f"budget from ({worst.percent:.2f}% of {worst.slo}'s burned).", sorted({s for b in burns for s in b.evidence}))
    target = criterion.target_percent
    b0, b1 = criterion.bands
    rating = rate(worst.percent, (target, target * b0, target * b1))
    evidence = sorted({seq for b in burns for seq in b.evidence})
    share = f"{worst.percent:.2f}% of the error budget of {worst.slo}"
    if not worst.estimated:
        most = f", the most of its {len(burns)} SLOs" if len(burns) > 1 else ""
        summary = f"The drill burned {share}{most} (target {target:g}%)."
        return Assessment(rating, worst.percent, summary, evidence)
    if not evidence:
        return not_applicable("The drill stopped without its SLO summary and no SLO breach was recorded, so no budget burn is known.")
    still_open = [b.slo for b in burns if b.open_breach]
    caveat = f"; breaches of {', '.join(still_open)} were still open and are not counted" if still_open else ""
    summary = (
        f"The drill stopped without its SLO summary, so this is an estimate from the breaches that ended "
        f"(their request rate taken for the whole SLO window): about {share} (target {target:g}%){caveat}."
    )
    return Assessment(rating, worst.percent, summary, evidence)
