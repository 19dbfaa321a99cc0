"""A sweep's folder: ``runs.jsonl`` as runs finish, ``sweep.json``, and the tables at the end.

``runs.jsonl`` gets one JSON object per finished run, written and flushed at once, so a killed
sweep loses at most the runs in flight (and a last line cut short, which is dropped). Run again
with the same folder, a sweep skips the (parameters, seed) keys already there. ``sweep.json``
keeps what those rows depend on (the scenario or fleet and every file it refers to, the
responder, the parameter paths, the metrics, the days); when any of it changed, old rows would
be wrong and the sweep refuses the folder. Changing the values or the seeds is fine: new keys
are run, and rows whose key left the spec stay in ``runs.jsonl`` but out of the tables.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from tabletop import __version__
from tabletop.scenario.problems import InputError, Problem

RUNS = "runs.jsonl"
MANIFEST = "sweep.json"
_WHAT = {
    "kind": "what is swept (a scenario or a fleet)",
    "document_sha256": "the {kind} file or a file it refers to",
    "responder": "the responder",
    "parameters": "the parameter names or paths",
    "metrics": "the metrics",
    "days": "the days simulated",
}


class ForeignFolder(Exception):
    """The folder holds rows of a sweep that differs in a way that makes them wrong here."""


def check_folder(folder: Path, identity: dict[str, Any]) -> None:
    """Refuse a folder whose ``sweep.json`` says its rows came from another sweep; write it otherwise."""
    manifest = folder / MANIFEST
    if manifest.exists():
        try:
            recorded = json.loads(manifest.read_text(encoding="utf-8")).get("identity", {})
        except (OSError, ValueError, AttributeError) as error:
            raise ForeignFolder(f"{manifest}: cannot be read ({error}); use another --out or delete the folder") from None
        changed = [_WHAT[key].format(kind=identity["kind"]) for key in _WHAT if recorded.get(key) != identity.get(key)]
        if changed:
            raise ForeignFolder(f"{folder} holds runs of another sweep: {', '.join(changed)} changed since "
                                f"(see {manifest}); its rows would be wrong here. Use another --out, or delete "
                                f"{folder / RUNS} to start over")
    elif (folder / RUNS).exists():
        raise ForeignFolder(f"{folder / RUNS} has no {MANIFEST} beside it, so its rows cannot be trusted for this "
                            f"sweep; use another --out")
    folder.mkdir(parents=True, exist_ok=True)
    write_json(manifest, {"tabletop": __version__, "identity": identity})


def read_rows(folder: Path) -> list[dict[str, Any]]:
    """The rows of ``runs.jsonl`` (none when it is not there). A last line cut short by a kill is
    dropped from the file; any other line that is not a JSON object is a located error."""
    path = folder / RUNS
    if not path.exists():
        return []
    data = path.read_bytes()
    complete = data.rfind(b"\n") + 1
    if complete < len(data):
        with path.open("r+b") as handle:
            handle.truncate(complete)
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for number, line in enumerate(data[:complete].decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as error:
            problems.append(Problem(str(path), number, getattr(error, "colno", 1), "", f"not a JSON object: {error}"))
            continue
        if not isinstance(row, dict) or "seed" not in row:
            problems.append(Problem(str(path), number, 1, "", "expected a row of the sweep (a JSON object with a seed)"))
            continue
        rows.append(row)
    if problems:
        raise InputError(problems)
    return rows


class RunLog:
    """``runs.jsonl`` opened for appending: each row is written and flushed as it comes."""

    def __init__(self, folder: Path) -> None:
        self.handle: IO[str] = (folder / RUNS).open("a", encoding="utf-8")

    def append(self, row: dict[str, Any]) -> None:
        self.handle.write(json.dumps(row, separators=(",", ":"), allow_nan=False, default=str) + "\n")
        self.handle.flush()

    def close(self) -> None:
        os.fsync(self.handle.fileno())
        self.handle.close()


def write_tables(folder: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> list[Path]:
    """``runs.parquet`` (pyarrow) and ``runs.csv``, one row per run in ``columns`` order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = [_array(pa, [row.get(c) for row in rows]) for c in columns]
    parquet, text = folder / "runs.parquet", folder / "runs.csv"
    pq.write_table(pa.table(arrays, names=list(columns)), parquet)
    with text.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows([_cell(row.get(c)) for c in columns] for row in rows)
    return [parquet, text]


def _array(pa: Any, values: list[Any]) -> Any:
    """One column: numbers, text or booleans as they are; a column mixing them (a parameter
    given ``[3, 5m]``) or holding lists or mappings, as JSON text."""
    kinds = {_kind(v) for v in values if v is not None}
    if len(kinds) <= 1 and kinds <= {"number", "text", "bool"}:
        return pa.array(values)
    return pa.array([None if v is None else v if isinstance(v, str) else json.dumps(v) for v in values], pa.string())


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "text" if isinstance(value, str) else "json"


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def run_key(parameters: dict[str, Any], seed: int) -> str:
    """A run's identity in ``runs.jsonl``: its parameter values and seed."""
    return json.dumps([parameters, seed], sort_keys=True, separators=(",", ":"), default=str)


def keys_of(rows: Iterable[dict[str, Any]], parameters: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Rows by run key (the last row of a key wins)."""
    return {run_key({p: row.get(p) for p in parameters}, row["seed"]): row for row in rows}
