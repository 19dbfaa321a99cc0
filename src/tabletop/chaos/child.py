"""``python -m tabletop.chaos.child``: run one Chaos Toolkit experiment with chaoslib.

chaoslib installs signal handlers, so it must own a main thread: the drill starts this module
as a subprocess (in its own session, so a terminal's Ctrl-C reaches only tabletop, which then
asks here to stop). It runs the experiment with the tabletop control streaming progress to the
file descriptor ``--events-fd`` and the rollback strategy ``always``, writes the journal, and
ends with one ``experiment.ended`` line. SIGUSR1 interrupts the experiment the Chaos Toolkit
way: the current activity stops, the rollbacks are played; it sends itself one if tabletop
dies without asking.

With ``--dry`` it is a Chaos Toolkit dry run (``Dry.ACTIVITIES``): no activity is called, and
nothing that could call out on its own stays in the experiment (activity-level ``dry`` keys,
controls, dynamic configuration and secrets from outside the environment).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_BROKEN = 0, 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tabletop.chaos.child")
    parser.add_argument("--experiment", required=True, type=Path)
    parser.add_argument("--journal", required=True, type=Path)
    parser.add_argument("--events-fd", required=True, type=int)
    parser.add_argument("--dry", action="store_true")
    parser.add_argument("--log", type=Path)
    args = parser.parse_args(argv)

    from tabletop.chaos import control  # before the signal: the flag lives there

    signal.signal(signal.SIGUSR1, lambda _sig, _frame: control.interrupted.set())
    _interrupt_when_orphaned()
    control.open_stream(args.events_fd)
    _log_to(args.log)
    try:
        experiment = json.loads(args.experiment.read_text(encoding="utf-8"))
        if args.dry:
            experiment = dry_copy(experiment)
        journal = _run(experiment, args.events_fd, args.dry)
    except Exception as error:  # what goes wrong here must reach the drill, not vanish in a log
        logging.getLogger("chaostoolkit").exception("the experiment could not run")
        control.emit("experiment.ended", status="error", deviated=False, journal=None,
                     reason=f"{type(error).__name__}: {error}")
        return EXIT_BROKEN
    args.journal.parent.mkdir(parents=True, exist_ok=True)
    args.journal.write_text(json.dumps(journal, indent=2, default=str) + "\n", encoding="utf-8")
    control.emit("experiment.ended", status=journal.get("status"), deviated=bool(journal.get("deviated")),
                 journal=str(args.journal), reason="interrupted by tabletop" if control.interrupted.is_set() else None)
    return EXIT_OK


def _run(experiment: dict[str, Any], fd: int, dry: bool) -> dict[str, Any]:
    from chaoslib.control import load_global_controls
    from chaoslib.experiment import run_experiment
    from chaoslib.types import Dry, Strategy

    from tabletop.chaos import control

    settings: dict[str, Any] = {
        "runtime": {"rollbacks": {"strategy": "always"}},
        "controls": {"tabletop": {"provider": {"type": "python", "module": "tabletop.chaos.control", "arguments": {"fd": fd}}}},
    }
    load_global_controls(settings)
    if dry:
        experiment["dry"] = Dry.ACTIVITIES
    if control.interrupted.is_set():  # asked to stop before anything ran
        return {"status": "interrupted", "deviated": False, "run": [], "rollbacks": [], "experiment": experiment}
    journal = run_experiment(experiment, settings=settings, strategy=Strategy.DEFAULT)
    if isinstance(journal.get("experiment"), dict) and isinstance(journal["experiment"].get("dry"), Dry):
        journal["experiment"]["dry"] = journal["experiment"]["dry"].value
    return journal


def dry_copy(experiment: dict[str, Any]) -> dict[str, Any]:
    """The experiment with nothing left that would act in a dry run."""
    experiment = json.loads(json.dumps(experiment))
    experiment.pop("controls", None)
    experiment.pop("extensions", None)
    configuration = experiment.get("configuration")
    if isinstance(configuration, dict):
        experiment["configuration"] = {k: v for k, v in configuration.items()
                                       if not isinstance(v, dict) or v.get("type") == "env"}
    secrets = experiment.get("secrets")
    if isinstance(secrets, dict):
        experiment["secrets"] = {scope: {k: v for k, v in values.items() if not isinstance(v, dict) or v.get("type") == "env"}
                                 for scope, values in secrets.items() if isinstance(values, dict)}
    hypothesis = experiment.get("steady-state-hypothesis")
    groups = [experiment.get("method"), experiment.get("rollbacks"), hypothesis.get("probes") if isinstance(hypothesis, dict) else None]
    for group in groups:
        for activity in group or []:
            if isinstance(activity, dict):
                activity.pop("dry", None)
                activity.pop("controls", None)
                if isinstance(activity.get("tolerance"), dict):
                    activity["tolerance"] = True  # a probe as tolerance would run; a dry run checks no tolerance
    return experiment


def _interrupt_when_orphaned(every: float = 0.5) -> None:
    """If tabletop dies without asking (SIGKILL, a crash), interrupt the experiment as it would
    have: SIGUSR1 to ourselves, once, so the rollbacks still run."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os.kill(os.getpid(), signal.SIGUSR1)

    threading.Thread(target=watch, name="tabletop-parent-watch", daemon=True).start()


def _log_to(path: Path | None) -> None:
    logger = logging.getLogger("chaostoolkit")
    logger.setLevel(logging.DEBUG)
    handler: logging.Handler = logging.FileHandler(path, encoding="utf-8") if path else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)


if __name__ == "__main__":
    sys.exit(main())
