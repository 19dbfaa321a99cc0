"""What one run reports, as flat columns, and which of them a sweep's ``metrics`` name.

A metric name selects the column of that name and every column under it: ``criteria`` gives
``criteria.<id>.points`` and ``criteria.<id>.rating`` for each criterion of the rubric,
``slo_budget_spent`` one ``slo_budget_spent.<slo>`` per SLO, a fleet's ``interruptions`` the
total and ``interruptions.<cause>``; ``criteria.time_to_acknowledge`` or
``slo_budget_spent.chat-llm-latency`` pick one.

Drill timings come from the score's milestones (``tabletop.scoring.milestones``), in seconds;
a milestone the drill never reached (a page nobody acknowledged, an impact that never ended)
leaves the value empty, and the summary counts it as missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tabletop.drill.timeline import Event
from tabletop.scenario.loader import LoadedScenario
from tabletop.scoring.milestones import Mark, find_milestones
from tabletop.scoring.rubric import NOT_APPLICABLE
from tabletop.scoring.score import score_drill

SCENARIO_METRICS: dict[str, str] = {
    "score": "the rubric's total, 0-100",
    "criteria": "each criterion's points (empty when N/A) and rating: criteria.<id>.points, criteria.<id>.rating",
    "time_to_detect": "seconds from the impact's start to the first firing alert (negative: an alert fired first)",
    "time_to_acknowledge": "seconds from the first page to the first acknowledgement",
    "time_to_mitigate": "seconds from the impact's start until it ended for good",
    "time_to_resolve": "seconds from the impact's start until the incident was resolved",
    "slo_budget_spent": "percent of each SLO's error budget burned: slo_budget_spent.<slo>",
    "failed_requests": "requests that failed, every deployment together",
    "gpu_hours_lost": "GPU-hours of work lost to the faults",
    "pages": "pages sent",
    "escalations": "pages escalated because nobody acknowledged them in time",
}
DEFAULT_SCENARIO = ("score", "time_to_acknowledge", "time_to_mitigate", "time_to_resolve", "slo_budget_spent")
FLEET_METRICS = ("goodput", "ettr", "job_mttf_hours", "interruptions", "lost_gpu_hours")
"""Documented in ``tabletop.reliability.run.simulate_fleet``; the fleet's own run says which exist."""
DEFAULT_FLEET = ("goodput", "ettr", "job_mttf_hours", "interruptions")

TIMES = ("time_to_detect", "time_to_acknowledge", "time_to_mitigate", "time_to_resolve")
"""Columns in seconds (written as durations in the summary)."""


def scenario_columns(loaded: LoadedScenario) -> list[str]:
    """Every column a run of ``loaded`` reports, in order."""
    columns = ["score"]
    for criterion in loaded.rubric.criteria:
        columns += [f"criteria.{criterion.id}.points", f"criteria.{criterion.id}.rating"]
    columns += list(TIMES)
    columns += [f"slo_budget_spent.{slo.id}" for slo in loaded.scenario.slos]
    return columns + ["failed_requests", "gpu_hours_lost", "pages", "escalations"]


def scenario_metrics(loaded: LoadedScenario, events: Sequence[Event]) -> dict[str, Any]:
    """Every column of one finished drill (``scenario_columns`` order)."""
    score = score_drill(loaded.scenario, list(loaded.runbooks), loaded.rubric, events)
    row: dict[str, Any] = {"score": score.total}
    for criterion in score.criteria:
        applies = criterion.rating != NOT_APPLICABLE
        row[f"criteria.{criterion.id}.points"] = round(criterion.points, 3) if applies else None
        row[f"criteria.{criterion.id}.rating"] = criterion.rating
    marks = find_milestones(events, loaded.scenario.ground_truth.root_cause.fault)
    row["time_to_detect"] = _between(marks.impact_start, marks.detected)
    row["time_to_acknowledge"] = _between(marks.paged, marks.acknowledged)
    row["time_to_mitigate"] = _between(marks.impact_start, marks.mitigated)
    row["time_to_resolve"] = _between(marks.impact_start, marks.resolved)
    ended = next((e for e in reversed(events) if e.kind == "drill.ended"), None)
    slos = ended.data.get("slos", {}) if ended else {}
    for slo in loaded.scenario.slos:
        row[f"slo_budget_spent.{slo.id}"] = slos.get(slo.id, {}).get("budget_burned_percent")
    row["failed_requests"] = sum(ended.data.get("failed_requests", {}).values()) if ended else None
    row["gpu_hours_lost"] = ended.data.get("gpu_hours_lost") if ended else None
    row["pages"] = sum(1 for e in events if e.kind == "page.triggered")
    row["escalations"] = sum(1 for e in events if e.kind == "page.escalated" and e.data.get("reason") == "ack_timeout")
    return row


def _between(start: Mark | None, end: Mark | None) -> float | None:
    return round(end.t - start.t, 3) if start is not None and end is not None else None


def selected(name: str, columns: Iterable[str]) -> list[str]:
    """The columns metric ``name`` selects: itself and everything under it."""
    return [c for c in columns if c == name or c.startswith(name + ".")]


def names(columns: Iterable[str]) -> list[str]:
    """The top-level metric names of ``columns`` (``criteria`` for ``criteria.x.points``)."""
    return list(dict.fromkeys(c.split(".", 1)[0] for c in columns))
