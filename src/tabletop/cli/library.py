"""The drill bank: `list` the scenarios a facilitator can pick, `brief` one as a handout."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any

import click

from tabletop.cli.common import default_scenario, emit, fail, load

DIFFICULTIES = ("beginner", "intermediate", "advanced")


def bank_folders(places: tuple[Path, ...]) -> list[Path]:
    """What to list: the places given, else ./scenarios when there is one, else the bundled bank."""
    if places:
        return list(places)
    here = Path("scenarios")
    return [here] if here.is_dir() else [default_scenario().parent]


def _table(entries: list[Any], width: int) -> str:
    """id, title, difficulty, duration, fault kinds, then the objectives wrapped under each row."""
    rows = [(e.id, e.loaded.scenario.metadata.difficulty, _duration(e), ", ".join(e.fault_kinds)) for e in entries]
    heads = ("ID", "LEVEL", "LENGTH", "FAULTS")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(heads, widths)).rstrip()]
    indent = " " * 4
    for entry, row in zip(entries, rows):
        meta = entry.loaded.scenario.metadata
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        lines += textwrap.wrap(meta.title, width, initial_indent=indent, subsequent_indent=indent)
        for objective in meta.learning_objectives:
            lines += textwrap.wrap(objective, width, initial_indent=indent + "- ", subsequent_indent=indent + "  ")
    return "\n".join(lines)


def _duration(entry: Any) -> str:
    from tabletop.durations import format_duration

    return format_duration(entry.loaded.scenario.metadata.duration)


def load_bank(places: tuple[Path, ...]) -> list[Any]:
    """Every scenario of the bank; broken ones are named on stderr, not listed."""
    from tabletop.scenario.library import find_scenarios

    folders = bank_folders(places)
    for place in folders:
        if not place.exists():
            fail(f"{place}: no such file or folder")
    entries, broken = find_scenarios(folders)
    for item in broken:
        click.echo(f"warning: {item.path}: not listed, {item.errors} error(s); see `tabletop validate {item.path}`", err=True)
    return entries


@click.command("list")
@click.argument("places", nargs=-1, type=click.Path(path_type=Path))
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Only drills with this tag or fault kind (repeat for all of several).")
@click.option("--difficulty", type=click.Choice(DIFFICULTIES), help="Only drills of this level.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def list_drills(places: tuple[Path, ...], tags: tuple[str, ...], difficulty: str | None, fmt: str) -> None:
    """List the drills in PLACES (scenario files or folders; default ./scenarios, else the bundled bank)."""
    from tabletop.scenario.library import select

    entries = select(load_bank(places), tags, difficulty)
    if fmt == "json":
        click.echo(json.dumps([e.to_json() for e in entries], indent=2))
        return
    if not entries:
        wanted = " and ".join([f"tag {t!r}" for t in tags] + ([f"difficulty {difficulty}"] if difficulty else []))
        click.echo(f"no drill matches {wanted}" if wanted else "no drills found")
        return
    click.echo(_table(entries, max(40, shutil.get_terminal_size((100, 24)).columns - 6)))
    click.echo(f"\n{len(entries)} drill(s). Run one: tabletop drill {entries[0].path}")


def pick_scenario() -> Path:
    """The scenario of a `tabletop drill` given none: chosen from the bank in a terminal, else the default."""
    default = default_scenario()
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return default
    entries = load_bank(())
    if len(entries) < 2:
        return default
    click.echo(_numbered(entries))
    paths = [e.path for e in entries]
    fallback = next((i for i, p in enumerate(paths, 1) if p.resolve() == default.resolve()), 1)
    choice = click.prompt("Drill", type=click.IntRange(1, len(entries)), default=fallback)
    return paths[choice - 1]


def _numbered(entries: list[Any]) -> str:
    lines = ["Drills in the bank:"]
    for number, entry in enumerate(entries, 1):
        meta = entry.loaded.scenario.metadata
        lines.append(f"{number:>3}. {entry.id} ({meta.difficulty}, {_duration(entry)}): {meta.title}")
    return "\n".join(lines)



@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the two runs the guide is made from.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write here instead of standard output.")
def brief(scenario: Path, seed: int, out: Path | None) -> None:
    """Write the facilitator's guide of SCENARIO (Markdown): setup, roles, what happens when,
    hints, a strong response and debrief questions, generated from the scenario itself."""
    from tabletop.brief.handout import write_brief
    emit(write_brief(load(scenario), seed), out)
