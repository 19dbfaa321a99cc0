"""The files a finished drill leaves behind, and the summary printed after a headless run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tabletop.drill.timeline import Event, Header
from tabletop.durations import format_duration
from tabletop.postmortem.draft import write_postmortem
from tabletop.scenario.loader import LoadedScenario
from tabletop.scoring.score import Score, render_markdown, score_drill

if TYPE_CHECKING:
    from tabletop.drill.engine import Drill


@dataclass
class Outputs:
    score: Score
    score_markdown: str
    postmortem: str
    files: list[Path]
    """Where they were written (empty when kept in memory)."""

    def summary(self, drill: "Drill", elapsed: float) -> str:
        events = drill.timeline.events
        count = lambda kind: sum(1 for e in events if e.kind == kind)  # noqa: E731
        ended = next((e for e in reversed(events) if e.kind == "drill.ended"), None)
        failed = sum(ended.data["failed_requests"].values()) if ended else 0
        header = drill.timeline.header
        return "\n".join([
            f"Drill {header.scenario_id} (seed {header.seed}, responder {header.responder}): "
            f"{format_duration(drill.now)} simulated in {elapsed:.2f} s",
            f"  faults injected {count('fault.injected')}, alerts fired {count('alert.firing')}, "
            f"pages {count('page.triggered')}, commands {count('command')}, failed requests {failed:,}",
            f"  score {self.score.total:.1f}/100  ({', '.join(f'{r} {n}' for r, n in self.score.counts().items())})",
            f"  wrote {', '.join(str(f) for f in self.files)}",
        ])


def build_outputs(loaded: LoadedScenario, header: Header, events: list[Event]) -> Outputs:
    """Score and postmortem draft of a drill, in memory."""
    runbooks = list(loaded.runbooks)
    score = score_drill(loaded.scenario, runbooks, loaded.rubric, events)
    return Outputs(score, render_markdown(score), write_postmortem(loaded.scenario, runbooks, events, score, header), [])


def write_outputs(loaded: LoadedScenario, header: Header, events: list[Event], folder: Path) -> Outputs:
    """Score and postmortem draft written beside the drill's timeline.jsonl in ``folder``."""
    outputs = build_outputs(loaded, header, events)
    folder.mkdir(parents=True, exist_ok=True)
    outputs.files = [folder / "timeline.jsonl", folder / "score.json", folder / "score.md", folder / "postmortem.md"]
    outputs.files[1].write_text(json.dumps(outputs.score.to_json(), indent=2) + "\n", encoding="utf-8")
    outputs.files[2].write_text(outputs.score_markdown + "\n", encoding="utf-8")
    outputs.files[3].write_text(outputs.postmortem, encoding="utf-8")
    return outputs
