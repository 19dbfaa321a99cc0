"""The bank of drills: every scenario in a folder, summarised so a facilitator can pick one.

``find_scenarios`` reads each ``*.yaml`` of the folders it is given that is a tabletop
Scenario and checks it fully (as ``tabletop validate`` does); files that are something else
(responder scripts, rubrics, rule files) are passed over, and broken scenarios are reported
with the number of their problems instead of stopping the listing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tabletop.durations import format_duration
from tabletop.scenario.loader import LoadedScenario, load_scenario
from tabletop.scenario.problems import InputError

DIFFICULTIES = ("beginner", "intermediate", "advanced")


@dataclass(frozen=True)
class Entry:
    """One drill of the bank."""

    path: Path
    loaded: LoadedScenario

    @property
    def id(self) -> str:
        return self.loaded.scenario.metadata.id

    @property
    def fault_kinds(self) -> list[str]:
        scenario = self.loaded.scenario
        kinds = [getattr(f, "kind") for f in scenario.faults]
        kinds += ["chaos_experiment"] * bool(scenario.experiments)
        return list(dict.fromkeys(kinds))

    def to_json(self) -> dict[str, Any]:
        meta = self.loaded.scenario.metadata
        return {
            "id": meta.id, "title": meta.title, "path": str(self.path), "difficulty": meta.difficulty,
            "duration": format_duration(meta.duration), "duration_seconds": meta.duration, "tags": list(meta.tags),
            "fault_kinds": self.fault_kinds, "learning_objectives": list(meta.learning_objectives),
            "summary": " ".join(meta.summary.split()),
        }


@dataclass(frozen=True)
class Broken:
    """A scenario file of the folder that does not load."""

    path: Path
    errors: int


def _is_scenario(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as handle:
            head = yaml.safe_load(handle)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return path.suffix.lower() in (".yaml", ".yml")  # unreadable: let the loader say why
    return isinstance(head, dict) and head.get("kind") == "Scenario"


def scenario_files(places: Iterable[Path]) -> list[Path]:
    """The scenario files among ``places`` (files, or folders read one level deep), sorted."""
    found: list[Path] = []
    for place in places:
        if place.is_dir():
            candidates = sorted(p for p in place.iterdir() if p.suffix.lower() in (".yaml", ".yml") and p.is_file())
            found += [p for p in candidates if _is_scenario(p)]
        else:
            found.append(place)
    return found


def find_scenarios(places: Iterable[Path]) -> tuple[list[Entry], list[Broken]]:
    entries: list[Entry] = []
    broken: list[Broken] = []
    for path in scenario_files(places):
        try:
            entries.append(Entry(path, load_scenario(path)))
        except InputError as error:
            broken.append(Broken(path, sum(1 for p in error.problems if p.severity == "error")))
    entries.sort(key=lambda e: (DIFFICULTIES.index(e.loaded.scenario.metadata.difficulty), e.id))
    return entries, broken


def select(entries: Sequence[Entry], tags: Sequence[str] = (), difficulty: str | None = None) -> list[Entry]:
    """The entries carrying every tag in ``tags`` (or a fault kind of that name) at ``difficulty``."""
    chosen: list[Entry] = []
    for entry in entries:
        meta = entry.loaded.scenario.metadata
        labels = set(meta.tags) | set(entry.fault_kinds)
        if difficulty is not None and meta.difficulty != difficulty:
            continue
        if all(tag in labels for tag in tags):
            chosen.append(entry)
    return chosen
