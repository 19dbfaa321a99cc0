"""`tabletop sweep`: a scenario or fleet run over a grid of parameter values and seeds."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tabletop.cli.common import fail, fail_with_problems


@click.command()
@click.argument("spec", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--out", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder of the rows, summary, plots and report; run again with the same folder to continue.")
@click.option("--workers", type=click.IntRange(min=1), help="Local worker processes (default: every core).")
@click.option("--dask", "dask", metavar="ADDRESS",
              help="Run on this Dask distributed scheduler (e.g. tcp://10.0.0.5:8786) instead; its workers "
                   "need tabletop installed.")
def sweep(spec: Path, out: Path, workers: int | None, dask: str | None) -> None:
    """Run the sweep in SPEC (kind: Sweep): its scenario or fleet once per grid point and seed.

    Writes OUT/runs.jsonl as runs finish, then runs.parquet, runs.csv, summary.md, summary.json
    (mean and 95% confidence interval of each metric per parameter value), plots/*.png and
    report.html. A sweep stopped early continues where it stopped when run again."""
    from tabletop.scenario.problems import InputError, format_problems
    from tabletop.sweep.execute import RunFailed, SchedulerUnreachable
    from tabletop.sweep.store import ForeignFolder
    from tabletop.sweep.summary import render_markdown
    from tabletop.sweep.sweep import Interrupted, run_sweep

    if dask is not None and workers is not None:
        fail("--workers: the Dask cluster has its own workers; give --workers or --dask, not both")
    try:
        result = run_sweep(spec, out, workers=workers, dask=dask, progress=None)
    except InputError as error:
        fail_with_problems(error)
    except (ForeignFolder, SchedulerUnreachable) as error:
        fail(str(error))
    except Interrupted as error:
        click.echo(f"sweep: stopped after {error.done} of {error.total} runs; their rows are in {out / 'runs.jsonl'}. "
                   f"Run the same command again to continue.", err=True)
        sys.exit(128 + error.signum)
    except RunFailed as error:
        click.echo(error.detail.rstrip(), err=True)
        fail(f"{error}; the rows finished before it are in {out / 'runs.jsonl'}")
    plan = result.plan
    if plan.warnings:
        click.echo(format_problems(plan.warnings), err=True)
    rate = f", {result.new / result.seconds:.1f} runs/s" if result.new and result.seconds > 0 else ""
    click.echo(f"sweep: {len(result.rows)} runs ({result.new} run now, {len(result.rows) - result.new} already in "
               f"{out / 'runs.jsonl'}) in {result.seconds:.1f} s on {result.where}{rate}", err=True)
    click.echo(render_markdown(result.summary, brief=True).rstrip())
    click.echo(f"\nwrote {out}/: runs.jsonl, runs.parquet, runs.csv, summary.md, summary.json, "
               f"{sum(1 for f in result.files if f.suffix == '.png')} plots, report.html")
