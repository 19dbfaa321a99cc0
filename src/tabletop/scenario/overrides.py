"""A scenario's per-criterion changes to its rubric, each re-validated as a criterion."""

from __future__ import annotations

from tabletop.scenario.model import RubricChoice
from tabletop.scenario.problems import Problem
from tabletop.scenario.raw import Path_
from tabletop.scenario.validation import hint, validate
from tabletop.scenario.yaml_source import Source
from tabletop.scoring.rubric import Criterion, Rubric


def apply_overrides(rubric: Rubric, choice: RubricChoice, source: Source) -> tuple[Rubric | None, list[Problem]]:
    """The rubric with ``rubric.overrides`` applied; each override re-validated as a criterion."""
    ids = [c.id for c in rubric.criteria]
    problems: list[Problem] = []
    criteria = list(rubric.criteria)
    for criterion_id, changes in choice.overrides.items():
        here: Path_ = ("rubric", "overrides", criterion_id)
        if criterion_id not in ids:
            message = f"no criterion {criterion_id!r} in rubric {rubric.id!r}{hint(criterion_id, ids)}; criteria: {', '.join(ids)}"
            problems.append(source.problem(here, message, key=True))
            continue
        if "id" in changes:
            problems.append(source.problem(here + ("id",), "the id of a criterion cannot be overridden", key=True))
            continue
        index = ids.index(criterion_id)
        current = criteria[index]
        merged = {
            (info.alias or name): getattr(current, name)
            for name, info in type(current).model_fields.items()
            if name in current.model_fields_set
        }
        replaced, found = validate(Criterion, source, here, data={**merged, **changes})
        problems += found
        if replaced is not None:
            criteria[index] = replaced
    if problems:
        return None, problems
    return rubric.model_copy(update={"criteria": criteria}), []
