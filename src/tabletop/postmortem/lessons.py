"""Lessons learned: what went well (P), what went wrong (M/U), where we got lucky."""

from __future__ import annotations

from dataclasses import dataclass

from tabletop.drill.events import responder_mitigations
from tabletop.postmortem.facts import Facts
from tabletop.scoring.score import Score


@dataclass(frozen=True)
class Lessons:
    went_well: list[str]
    went_wrong: list[str]
    lucky: list[str]


def lessons(facts: Facts, score: Score) -> Lessons:
    well = [f"{c.title}: {c.summary}" for c in score.criteria if c.rating == "P"]
    wrong = [f"{c.title} ({c.rating}): {c.summary}" for c in score.criteria if c.rating in ("M", "U")]
    return Lessons(well, wrong, _lucky(facts))


def _lucky(facts: Facts) -> list[str]:
    """Faults that never coincided with an SLO breach, and impact that ended before any mitigation."""
    found = []
    if facts.scenario.slos:
        windows = facts.breach_windows()
        ends = {str(e.data.get("fault")): e.t for e in facts.events if e.kind == "fault.ended"}
        for fault in facts.faults():
            start, end = fault.t, ends.get(str(fault.data.get("fault")), facts.last_t)
            if not any(a <= end and start <= b for a, b in windows):
                found.append(
                    f"Fault {fault.data.get('fault')} ({fault.data.get('kind')} on {fault.data.get('target')}, "
                    f"{facts.clock.at(fault.t).clock}) never coincided with an SLO breach."
                )
    first_fix = next((e.t for e in responder_mitigations(facts.events)), None)
    for event in facts.events:
        if event.kind in ("slo.breach_end", "fault.mitigated") and (first_fix is None or event.t < first_fix):
            what = f"The breach of SLO {event.data.get('slo')}" if event.kind == "slo.breach_end" else f"The impact of fault {event.data.get('fault')}"
            found.append(f"{what} ended at {facts.clock.at(event.t).clock} before any mitigation was applied.")
    return found
