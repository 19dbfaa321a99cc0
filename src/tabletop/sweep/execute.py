"""Running a sweep's runs: on a local process pool (every core by default), or on an existing
Dask distributed scheduler. Both call the same ``run_one`` with the same arguments, so the same
seeds give the same rows; each row is handed to ``on_row`` as soon as its run finishes.

With Dask, each grid point's target is scattered to the cluster once and the runs refer to it;
the workers need tabletop installed (the same version), nothing of the sweep's files.
"""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from tabletop.sweep.plan import Run
from tabletop.sweep.run import Target, run_one

OnRow = Callable[[dict[str, Any]], None]
DASK_TIMEOUT = 10.0
"""Seconds to wait for the scheduler to answer."""
PARENT_POLL = 1.0
"""Seconds between a pool worker's checks that the sweep still runs."""


class RunFailed(Exception):
    """A run raised: a bug of the engine (the rows finished before it are kept)."""

    def __init__(self, run: Run, detail: str) -> None:
        self.run = run
        self.detail = detail
        super().__init__(f"the run {run.parameters} seed {run.seed} failed")


class SchedulerUnreachable(Exception):
    """``--dask ADDRESS`` named no scheduler that answered."""


def execute(pending: Sequence[tuple[Run, Target]], on_row: OnRow, *, workers: int = 1, dask: str | None = None) -> None:
    """Run each (run, target) and pass its row to ``on_row`` as it finishes."""
    if dask is not None:
        _on_dask(pending, on_row, dask)
    elif workers == 1:
        for run, target in pending:
            on_row(_guarded(run, target))
    else:
        _on_pool(pending, on_row, workers)


def _guarded(run: Run, target: Target) -> dict[str, Any]:
    try:
        return run_one(target, run.parameters, run.seed)
    except Exception as error:
        raise RunFailed(run, traceback.format_exc()) from error


_targets: list[Target] = []
"""A pool worker's copy of the sweep's targets, shipped once when it starts (see ``_on_pool``)."""


def _worker_start(parent: int, targets: list[Target]) -> None:
    """Pool workers leave Ctrl-C to the sweep, which stops them (no traceback from each), and
    exit when the sweep is gone (killed with SIGKILL, it cannot stop them)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True, name="exit-with-sweep").start()
    _targets[:] = targets
    gc.freeze()  # what the worker inherited and the targets: never garbage, no need to scan them


def _run_target(index: int, parameters: dict[str, Any], seed: int) -> dict[str, Any]:
    return run_one(_targets[index], parameters, seed)


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL)
    os._exit(1)


def _on_pool(pending: Sequence[tuple[Run, Target]], on_row: OnRow, workers: int) -> None:
    """Each worker gets the targets once, when it starts; a run names its target by index (a
    scenario pickled with every run would cost the parent and the workers a few ms each)."""
    index: dict[int, int] = {}
    targets: list[Target] = []
    for _, target in pending:
        if id(target) not in index:
            index[id(target)] = len(targets)
            targets.append(target)
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_start, initargs=(os.getpid(), targets))
    try:
        futures = {pool.submit(_run_target, index[id(target)], run.parameters, run.seed): run for run, target in pending}
        _collect(futures, as_completed(futures), on_row)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _on_dask(pending: Sequence[tuple[Run, Target]], on_row: OnRow, address: str) -> None:
    from distributed import Client
    from distributed import as_completed as dask_completed
    from distributed.comm import get_address_host_port, parse_address

    try:
        if parse_address(address)[0] != "inproc":  # an in-process cluster's address has no port
            get_address_host_port(address)
    except ValueError as error:
        raise SchedulerUnreachable(f"--dask: {address!r} is not a scheduler address such as tcp://10.0.0.5:8786 "
                                   f"({error})") from None
    try:
        client = Client(address, timeout=DASK_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise SchedulerUnreachable(f"--dask: no Dask scheduler answered at {address!r} within "
                                   f"{DASK_TIMEOUT:g} s ({error})") from None
    with client:
        shared: dict[int, Any] = {}
        futures: dict[Any, Run] = {}
        for run, target in pending:
            if id(target) not in shared:
                shared[id(target)] = client.scatter(target, hash=False)
            futures[client.submit(run_one, shared[id(target)], run.parameters, run.seed, pure=False)] = run
        try:
            _collect(futures, dask_completed(list(futures), loop=client.loop), on_row)
        finally:
            client.cancel(list(futures))


def _collect(futures: dict[Any, Run], finished: Any, on_row: OnRow) -> None:
    for future in finished:
        try:
            row = future.result()
        except Exception as error:
            raise RunFailed(futures[future], "".join(traceback.format_exception(error))) from error
        on_row(row)
