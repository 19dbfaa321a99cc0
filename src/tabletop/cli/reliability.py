"""`tabletop reliability`: many runs of a training fleet, interruptions, MTTF, goodput and ETTR."""

from __future__ import annotations

from pathlib import Path

import click

from tabletop.cli.common import default_scenario, fail, fail_with_problems, scenario_label

MAX_DAYS = 3650


def default_fleet() -> Path:
    """The bundled fleet of a source checkout: Llama 3 405B pre-training."""
    return default_scenario().parent / "fleets" / "llama3-405b.yaml"


@click.command()
@click.argument("fleet", required=False, type=click.Path(path_type=Path))
@click.option("--days", type=float, help="Days to simulate (default: the fleet file's).")
@click.option("--runs", type=click.IntRange(1, 1_000_000), default=100, show_default=True, help="Runs to simulate.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the first run; run i uses seed + i.")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Write reliability.md and reliability.json in this folder instead of printing.")
def reliability(fleet: Path | None, days: float | None, runs: int, seed: int, fmt: str, out: Path | None) -> None:
    """Simulate the training job of FLEET (a ReliabilityFleet file; default: the bundled Llama 3
    405B run) many times: interruptions by cause, job MTTF, goodput and ETTR with their spread,
    beside the closed forms."""
    import json

    from tabletop.reliability.fleet import load_fleet
    from tabletop.reliability.report import markdown, summarize
    from tabletop.reliability.run import simulate_runs
    from tabletop.scenario.problems import InputError

    if days is not None and not 0 < days <= MAX_DAYS:
        fail(f"--days: expected a number of days greater than 0 and at most {MAX_DAYS}, got {days:g}")
    path = fleet or default_fleet()
    try:
        loaded = load_fleet(path)
    except InputError as error:
        fail_with_problems(error)
    days = loaded.days if days is None else days
    rows = simulate_runs(loaded, runs=runs, seed=seed, days=days)
    summary = summarize(loaded, rows, days=days, seed=seed, file=scenario_label(path))
    texts = {"md": markdown(summary, loaded), "json": json.dumps(summary, indent=2)}
    if out is None:
        click.echo(texts[fmt])
        return
    out.mkdir(parents=True, exist_ok=True)
    for suffix, text in texts.items():
        target = out / f"reliability.{suffix}"
        target.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {target}")
