"""Tabletop rubric files: weighted criteria, each measured from the timeline and rated P/S/M/U.

HSEEP ratings: P performed without challenges, S performed with some challenges, M performed
with major challenges, U unable to be performed. A criterion earns ``points[rating]`` percent
of its weight; the total is scaled to 0-100. A criterion that cannot apply to the drill (no
page to acknowledge, no runbook to follow, no hand-off to judge) is rated N/A and left out of
the total, so a drill is scored only on what it asked of the team.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from tabletop.scenario.oncall import Role
from tabletop.scenario.types import Duration, Model

Rating = Literal["P", "S", "M", "U", "N/A"]
RATINGS: tuple[str, ...] = ("P", "S", "M", "U")
"""The ratings that earn points; N/A (not applicable) is outside the total."""
NOT_APPLICABLE: Rating = "N/A"


class CriterionBase(Model):
    id: str
    title: str
    weight: Annotated[float, Field(ge=0)]
    """0 switches the criterion off for a scenario (``rubric.overrides.<id>.weight: 0``): rated N/A."""
    why: str = ""
    """What the criterion teaches; shown next to its rating."""


class _Timed(CriterionBase):
    """P within ``target``, S within target×bands[0], M within target×bands[1], else U."""

    target: Duration
    bands: tuple[float, float] = (2.0, 4.0)
    """Multiples of target that still earn S and M."""

    @model_validator(mode="after")
    def _bands_grow(self) -> "_Timed":
        if not 1 <= self.bands[0] <= self.bands[1]:
            raise ValueError("bands must be two growing multiples of target, e.g. [2, 4]")
        return self


class TimeToAcknowledge(_Timed):
    """From the first page to its acknowledgement."""

    measure: Literal["time_to_acknowledge"]


class TimeToMitigate(_Timed):
    """From the start of customer impact to its lasting end."""

    measure: Literal["time_to_mitigate"]


class TimeToResolve(_Timed):
    """From the first page to the incident being resolved."""

    measure: Literal["time_to_resolve"]


class Escalation(CriterionBase):
    """Pages acknowledged at the level that received them, escalations done per policy."""

    measure: Literal["escalation"]


class HandoffNote(CriterionBase):
    """Every hand-off during the incident carries status, actions taken and next steps."""

    measure: Literal["handoff_note"]
    min_words: Annotated[int, Field(ge=1)] = 3
    """Words each part of the note needs to count."""


class RolesAssigned(CriterionBase):
    measure: Literal["roles_assigned"]
    roles: Annotated[list[Role], Field(min_length=1)] = ["incident_commander", "ops", "comms", "scribe"]
    within: Duration = 900.0
    """Time after the first acknowledgement by which each role should be held."""


class StatusUpdates(CriterionBase):
    """Status updates from acknowledgement to resolution, no gap longer than ``interval``."""

    measure: Literal["status_updates"]
    interval: Duration = 900.0
    bands: tuple[float, float] = (1.5, 2.0)


class Hypothesis(CriterionBase):
    """The right root cause (fault kind and object) stated, and how soon after the page."""

    measure: Literal["hypothesis"]
    target: Duration = 1200.0


class RunbookSteps(CriterionBase):
    """Runbook steps done; ``ordered`` lists step numbers that must be done in that order."""

    measure: Literal["runbook_steps"]
    runbook: str | None = None
    """Runbook id (file stem); the scenario's first runbook when absent."""
    required: list[int] | None = None
    """Steps that count (all when absent)."""
    ordered: list[int] = []


class HarmfulActions(CriterionBase):
    """Actions the ground truth lists as harmful: none P, one S, two M, more U."""

    measure: Literal["harmful_actions"]


class ErrorBudget(CriterionBase):
    """Share of the SLOs' error budget burned during the drill."""

    measure: Literal["error_budget"]
    target_percent: Annotated[float, Field(gt=0)] = 5.0
    bands: tuple[float, float] = (2.0, 4.0)


Criterion = Annotated[
    Union[
        TimeToAcknowledge, TimeToMitigate, TimeToResolve, Escalation, HandoffNote, RolesAssigned,
        StatusUpdates, Hypothesis, RunbookSteps, HarmfulActions, ErrorBudget,
    ],
    Field(discriminator="measure"),
]


class Points(Model):
    P: float = 100.0
    S: float = 75.0
    M: float = 40.0
    U: float = 0.0


class Rubric(Model):
    api_version: Annotated[Literal["tabletop/v1"], Field(alias="apiVersion")]
    kind: Literal["Rubric"]
    id: str
    title: str
    points: Points = Points()
    """Percent of a criterion's weight earned by each rating."""
    criteria: Annotated[list[Criterion], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_ids(self) -> "Rubric":
        seen: set[str] = set()
        for criterion in self.criteria:
            if criterion.id in seen:
                raise ValueError(f"criterion id {criterion.id!r} is used twice")
            seen.add(criterion.id)
        return self
