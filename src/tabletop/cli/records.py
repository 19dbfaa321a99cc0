"""Reading recorded drills: `score`, `postmortem` and `replay` a timeline."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tabletop.cli.common import EXIT_BAD_INPUT, emit, recorded_drill


@click.command()
@click.argument("timeline", type=click.Path(path_type=Path))
@click.option("--scenario", type=click.Path(path_type=Path), help="Scenario file (default: the one the timeline names).")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write here instead of standard output.")
def score(timeline: Path, scenario: Path | None, fmt: str, out: Path | None) -> None:
    """Score a recorded drill against its rubric."""
    import json

    from tabletop.scoring.score import render_markdown, score_drill

    recorded, loaded = recorded_drill(timeline, scenario)
    result = score_drill(loaded.scenario, list(loaded.runbooks), loaded.rubric, recorded.events)
    text = render_markdown(result) if fmt == "md" else json.dumps(result.to_json(), indent=2)
    emit(text, out)


@click.command()
@click.argument("timeline", type=click.Path(path_type=Path))
@click.option("--scenario", type=click.Path(path_type=Path), help="Scenario file (default: the one the timeline names).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="File to write (default postmortems/<scenario>-<date>.md).")
def postmortem(timeline: Path, scenario: Path | None, out: Path | None) -> None:
    """Write a postmortem draft for a recorded drill."""
    from tabletop.postmortem.draft import write_postmortem
    from tabletop.scoring.score import score_drill

    recorded, loaded = recorded_drill(timeline, scenario)
    runbooks = list(loaded.runbooks)
    result = score_drill(loaded.scenario, runbooks, loaded.rubric, recorded.events)
    text = write_postmortem(loaded.scenario, runbooks, recorded.events, result, recorded.header)
    day = recorded.header.start[:10]
    target = out or Path("postmortems") / f"{loaded.scenario.metadata.id}-{day}-seed{recorded.header.seed}.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {target}")


@click.command()
@click.argument("timeline", type=click.Path(path_type=Path))
@click.option("--verify", is_flag=True, help="Fail unless the replay reproduces the timeline byte for byte.")
@click.option("--scenario", type=click.Path(path_type=Path), help="Scenario file (default: the one the timeline names).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Also write the replayed timeline here.")
def replay(timeline: Path, verify: bool, scenario: Path | None, out: Path | None) -> None:
    """Re-run a recorded drill with its recorded commands."""
    from tabletop.drill.replay import first_difference, replay_timeline

    recorded, loaded = recorded_drill(timeline, scenario)
    replayed = replay_timeline(loaded, recorded, out)
    difference = first_difference(recorded, replayed)
    if difference is None:
        click.echo(f"replay of {timeline}: identical ({len(recorded.events)} events)")
        return
    click.echo(f"replay of {timeline}: differs at {difference}", err=True)
    if verify:
        sys.exit(EXIT_BAD_INPUT)
