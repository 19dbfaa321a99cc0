"""The same sweep on a real Dask ``LocalCluster`` (two worker processes, started here) gives the
same rows, summary and tables as on the local process pool."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sweep.helpers import ESCALATION, parquet_rows, tabletop, write

distributed = pytest.importorskip("distributed")


def test_a_dask_cluster_gives_the_same_rows_as_the_local_pool(tmp_path: Path) -> None:
    spec = write(tmp_path, ESCALATION)
    local = tabletop("sweep", str(spec), "--out", str(tmp_path / "local"), "--workers", "2")
    assert local.returncode == 0, local.stderr
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = tabletop("sweep", str(spec), "--out", str(tmp_path / "dask"), "--dask", cluster.scheduler_address)
        assert remote.returncode == 0, remote.stderr
        assert f"on Dask scheduler {cluster.scheduler_address}" in remote.stderr
    rows = parquet_rows(tmp_path / "dask" / "runs.parquet")
    assert len(rows) == 4
    assert rows == parquet_rows(tmp_path / "local" / "runs.parquet")
    for name in ("runs.csv", "summary.json", "summary.md"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name


def test_no_scheduler_at_the_address_is_a_clear_error(tmp_path: Path) -> None:
    spec = write(tmp_path, ESCALATION)
    result = tabletop("sweep", str(spec), "--out", str(tmp_path / "out"), "--dask", "scheduler.example")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: --dask: 'scheduler.example' is not a scheduler address such as "
                                    "tcp://10.0.0.5:8786")
    both = tabletop("sweep", str(spec), "--out", str(tmp_path / "out"), "--dask", "tcp://127.0.0.1:8786", "--workers", "2")
    assert both.returncode == 1
    assert "give --workers or --dask, not both" in both.stderr
