"""A whole sweep, as ``tabletop sweep`` runs it: plan, resume, run, then write what it found.

The folder gets ``runs.jsonl`` as runs finish, then ``runs.parquet``, ``runs.csv``,
``summary.json``, ``summary.md``, ``plots/*.png`` and ``report.html``.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tabletop.sweep.execute import execute
from tabletop.sweep.plan import Plan, plan_sweep
from tabletop.sweep.store import RunLog, check_folder, keys_of, read_rows, run_key, write_json, write_tables


class Interrupted(Exception):
    """Ctrl-C or SIGTERM: the finished rows are in ``runs.jsonl``; the same command continues."""

    def __init__(self, signum: int, done: int, total: int) -> None:
        self.signum, self.done, self.total = signum, done, total
        super().__init__(f"interrupted after {done} of {total} runs")


@dataclass
class Result:
    plan: Plan
    rows: list[dict[str, Any]]
    """One per run of the plan, in plan order (grid point, then seed)."""
    new: int
    """Runs done by this call (the others were already in ``runs.jsonl``)."""
    seconds: float
    where: str
    """``2 workers`` or ``Dask scheduler ADDRESS``."""
    summary: dict[str, Any]
    files: list[Path]


def run_sweep(spec: Path, out: Path, *, workers: int | None = None, dask: str | None = None,
              progress: bool | None = None) -> Result:
    """Plan the sweep in ``spec`` and run what ``out`` does not hold yet.

    Raises InputError (a bad sweep, scenario or fleet), ForeignFolder, Interrupted, RunFailed,
    SchedulerUnreachable. ``progress``: a bar on stderr (default: when stderr is a terminal).
    """
    plan = plan_sweep(spec)
    check_folder(out, plan.identity)
    done = keys_of(read_rows(out), plan.parameters)
    pending = [(run, plan.targets[run.point]) for run in plan.runs if run.key not in done]
    count = workers or os.cpu_count() or 1
    where = f"Dask scheduler {dask}" if dask else f"{count} worker{'s' if count > 1 else ''}"
    shown = sys.stderr.isatty() if progress is None else progress
    stopped = [signal.SIGINT]
    began = time.perf_counter()
    log = RunLog(out)
    with _bar(len(plan.runs), len(plan.runs) - len(pending), where, shown) as advance:

        def finished(row: dict[str, Any]) -> None:
            log.append(row)
            done[run_key({p: row[p] for p in plan.parameters}, row["seed"])] = row
            advance()

        try:
            with _signals_interrupt(stopped):
                execute(pending, finished, workers=min(count, max(1, len(pending))), dask=dask)
        except KeyboardInterrupt:
            raise Interrupted(stopped[0], sum(run.key in done for run in plan.runs), len(plan.runs)) from None
        finally:
            log.close()
    seconds = time.perf_counter() - began
    rows = [done[run.key] for run in plan.runs]
    summary, files = write_results(plan, rows, out)
    return Result(plan, rows, len(pending), seconds, where, summary, files)


def write_results(plan: Plan, rows: list[dict[str, Any]], out: Path) -> tuple[dict[str, Any], list[Path]]:
    """The tables, the summary, the plots and the report of a finished sweep."""
    from tabletop.sweep.plots import make_plots
    from tabletop.sweep.report import render_html
    from tabletop.sweep.summary import render_markdown, summarize

    files = write_tables(out, rows, plan.parameters + ["seed"] + plan.columns)
    summary = summarize(plan, rows)
    files.append(write_json(out / "summary.json", summary))
    markdown = out / "summary.md"
    markdown.write_text(render_markdown(summary), encoding="utf-8")
    pictures = make_plots(summary, rows, out / "plots")
    report = out / "report.html"
    report.write_text(render_html(summary, pictures, plan.spec_text), encoding="utf-8")
    return summary, files + [markdown] + [p.path for p in pictures] + [report]


@contextmanager
def _signals_interrupt(stopped: list[int]) -> Iterator[None]:
    """SIGTERM stops the sweep the way Ctrl-C does; ``stopped[0]`` says which signal did."""

    def stop(signum: int, _frame: Any) -> None:
        stopped[0] = signum
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _bar(total: int, done: int, where: str, shown: bool) -> Iterator[Any]:
    """A rich progress bar on stderr while the runs go (nothing when ``shown`` is false)."""
    if not shown:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn(f"sweep on {where}"), BarColumn(), MofNCompleteColumn(), TextColumn("runs"),
               TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("sweep", total=total, completed=done)
        yield lambda: bar.advance(task)
