"""Running a scenario's Chaos Toolkit experiments beside a paced drill.

``ChaosRunner`` is the drill's chaos port and a companion of ``run_twin``: when an
experiment's time comes (``chaos.experiment.started``, recorded by the drill), it decides
whether the experiment may act (``tabletop.chaos.safety``), writes it to
``OUT/chaos/<id>.experiment.json`` and starts ``python -m tabletop.chaos.child`` on it, which
runs it with chaoslib and streams each activity back as JSON lines over a pipe. A reader
thread queues the lines; the drill's thread records them (``step``) as ``chaos.activity.*``
and ``chaos.experiment.ended`` events at the drill time they arrive, so they interleave with
everything else. The Chaos Toolkit journal is saved beside the timeline
(``OUT/chaos/<id>.journal.json``), chaoslib's log beside it (``<id>.log``).

Before the drill ends (its duration, the facilitator, Ctrl-C, SIGTERM or ``stop``), ``finish``
sends SIGUSR1 to every experiment still running, so chaoslib interrupts it and plays the
rollbacks, and keeps the drill (and its twin) serving, without moving the clock, until they
are done (at most ``finish_timeout`` wall seconds, then the process is killed). So the
timeline holds every activity and ``chaos.experiment.ended`` before ``drill.ended``.

``run_chaos_drill`` puts it together: against the twin (context ``twin``) the drill runs with
its Kubernetes API and the experiments act on the simulated fleet through it (their writes are
commands on the timeline in the name of ``chaostoolkit``, by an identity token in the kubeconfig
they get: faults injected, which scoring never counts as a responder's mitigations); against a
real cluster the drill runs paced without a twin.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tabletop.chaos.child import dry_copy
from tabletop.chaos.experiments import LoadedExperiment
from tabletop.chaos.safety import Decision, decide
from tabletop.drill.command_line import CHAOS
from tabletop.drill.engine import Drill
from tabletop.drill.live import start_publishing
from tabletop.drill.pacing import pace
from tabletop.scenario.chaos import TWIN
from tabletop.scenario.loader import LoadedScenario
from tabletop.signals.metrics_server import MetricsServer

if TYPE_CHECKING:
    from tabletop.drill.responders.base import Responder
    from tabletop.twin.twin import Twin

log = logging.getLogger(__name__)

FINISH_TIMEOUT = 120.0
"""Wall seconds an interrupted experiment gets to play its rollbacks before it is killed."""
CHAOS_DIR = "chaos"


@dataclass
class _Run:
    experiment: LoadedExperiment
    decision: Decision
    process: subprocess.Popen[bytes] | None = None
    reader: threading.Thread | None = None
    journal: Path | None = None
    log: Path | None = None
    ended: bool = False
    interrupted: str | None = None
    """Why tabletop interrupted it (None: it was not)."""
    done: threading.Event = field(default_factory=threading.Event)


class ChaosRunner:
    """Runs the experiments of a paced drill in chaoslib subprocesses (see the module's docstring).

    ``notify`` gets one-line messages for the person running the drill (a refusal and its dry
    run, an experiment's end)."""

    def __init__(self, loaded: LoadedScenario, out_dir: Path, *, live: bool = False, allow_process: bool = False,
                 notify: Callable[[str], None] | None = None, finish_timeout: float = FINISH_TIMEOUT,
                 python: str | None = None) -> None:
        self.loaded = loaded
        self.target = loaded.scenario.kubernetes
        self.out_dir = Path(out_dir)
        self.folder = self.out_dir / CHAOS_DIR
        self.live = live
        self.allow_process = allow_process
        self.notify = notify or (lambda _message: None)
        self.finish_timeout = finish_timeout
        self.python = python or sys.executable
        self.drill: Drill | None = None
        self.twin: "Twin | None" = None
        self.wake = threading.Event()
        self.runs: dict[str, _Run] = {}
        self._inbox: queue.SimpleQueue[tuple[str, str, dict[str, Any]]] = queue.SimpleQueue()
        self._kubeconfig: Path | None = None
        self._identity: str | None = None
        self.decisions: dict[str, Decision] = {}
        """Per experiment: may it act (decided once, before the drill starts)."""

    # companion of run_twin / a paced drill ------------------------------------------------------------------
    def attach(self, drill: Drill, twin: "Twin | None" = None) -> None:
        self.drill = drill
        self.twin = twin
        if twin is not None:
            self.wake = twin.wake
        drill.chaos = self
        for experiment in self.loaded.experiments:
            self.decisions[experiment.id] = self.decide(experiment)

    def decide(self, experiment: LoadedExperiment) -> Decision:
        return decide(self.target, experiment, default_namespaces=self._fleet_namespaces(),
                      scenario_path=self.loaded.path, live=self.live, allow_process=self.allow_process)

    def start(self, drill: Drill, experiment: LoadedExperiment) -> None:
        """At the experiment's time (the drill's thread): decide, then start its process; never blocks."""
        decision = self.decisions.get(experiment.id) or self.decide(experiment)
        run = self.runs[experiment.id] = _Run(experiment, decision)
        self.notify(decision.message(experiment.id))
        if decision.refused:
            self._inbox.put((experiment.id, "chaos.experiment.refused", {
                "experiment": experiment.id, "context": decision.context, "reasons": decision.reasons,
                "fix": decision.fix, "dry_run": True,
            }))
        try:
            self._spawn(run)
        except OSError as error:
            run.done.set()
            self._inbox.put((experiment.id, "chaos.experiment.ended", self._ended(run, {
                "status": "error", "deviated": False, "journal": None,
                "reason": f"could not start the Chaos Toolkit process: {error}"})))
        self.wake.set()

    def step(self) -> None:
        """In the drill's thread: record what the experiments reported since the last step."""
        drill = self.drill
        if drill is None or drill.ended:
            return
        while True:
            try:
                experiment, kind, data = self._inbox.get_nowait()
            except queue.Empty:
                return
            run = self.runs.get(experiment)
            if kind == "exit":
                if run is not None and not run.ended:
                    run.ended = True
                    code = data.get("returncode")
                    drill.record("chaos.experiment.ended", self._ended(run, {
                        "status": "error", "deviated": False, "journal": None,
                        "reason": f"the Chaos Toolkit process ended with code {code} without a result; see {self._shown(run.log)}"}))
                continue
            if kind == "chaos.experiment.ended":
                if run is None or run.ended:
                    continue
                run.ended = True
                self.notify(f"experiment {experiment}: {data.get('status')}" + (" (deviated)" if data.get("deviated") else "")
                            + (" (dry run: nothing was touched)" if data.get("mode") == "dry-run" else "")
                            + (f"; journal {data['journal']}" if data.get("journal") else ""))
            elif kind == "chaos.activity.started" and data.get("dry"):
                self.notify(f"  dry run: would run {would_run(data)}")
            drill.record(kind, data)

    def finish(self, reason: str, serve: Callable[[], None]) -> None:
        """Before the drill ends: interrupt what still runs (rollbacks are played), record it all."""
        running = [run for run in self.runs.values() if run.process is not None and not run.done.is_set()]
        for run in running:
            run.interrupted = f"the drill ended ({reason})"
            self._signal(run, signal.SIGUSR1)
        deadline = time.monotonic() + self.finish_timeout
        while any(not run.done.is_set() for run in running) and time.monotonic() < deadline:
            serve()
            self.wake.wait(0.05)
            self.wake.clear()
        for run in running:
            if not run.done.is_set():
                self._signal(run, signal.SIGKILL)
                run.done.wait(5)
                if not run.ended and self.drill is not None and not self.drill.ended:
                    run.ended = True
                    self.drill.record("chaos.experiment.ended", self._ended(run, {
                        "status": "aborted", "deviated": False, "journal": None,
                        "reason": f"killed: its rollbacks did not finish within {self.finish_timeout:g} s of the drill's end"}))
        serve()
        self.step()

    def close(self) -> None:
        """On the way out, whatever happened: no experiment process outlives the drill."""
        for run in self.runs.values():
            if run.process is not None and run.process.poll() is None:
                self._signal(run, signal.SIGUSR1)
                try:
                    run.process.wait(10)
                except subprocess.TimeoutExpired:
                    self._signal(run, signal.SIGKILL)
                    run.process.wait(5)
            if run.reader is not None:
                run.reader.join(5)

    # the child process -------------------------------------------------------------------------------------
    def _spawn(self, run: _Run) -> None:
        experiment = run.experiment
        self.folder.mkdir(parents=True, exist_ok=True)
        dry = run.decision.mode == "dry-run"
        document = dry_copy(experiment.document) if dry else experiment.document
        path = self.folder / f"{experiment.id}.experiment.json"
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        run.journal = self.folder / f"{experiment.id}.journal.json"
        run.log = self.folder / f"{experiment.id}.log"
        read_end, write_end = os.pipe()
        command = [self.python, "-m", "tabletop.chaos.child", "--experiment", str(path), "--journal", str(run.journal),
                   "--events-fd", str(write_end), "--log", str(run.log)] + (["--dry"] if dry else [])
        try:
            with run.log.open("ab") as log_file:
                run.process = subprocess.Popen(command, env=self._environment(run.decision), pass_fds=(write_end,),
                                               stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
                                               start_new_session=True, cwd=self.loaded.path.parent)
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        run.reader = threading.Thread(target=self._read, args=(run, read_end), name=f"chaos-{experiment.id}", daemon=True)
        run.reader.start()

    def _environment(self, decision: Decision) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("KUBERNETES_", "TABLETOP_")) and k not in ("KUBECONFIG", "CHAOSTOOLKIT_IN_POD")}
        src = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join([src] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        if decision.mode == "twin":
            env["KUBECONFIG"] = str(self._twin_kubeconfig())
            env["KUBERNETES_CONTEXT"] = self.loaded.scenario.metadata.id
            env.update(self._twin_access())
        elif decision.mode == "live":
            kubeconfig = self.target.kubeconfig
            if kubeconfig is not None:
                env["KUBECONFIG"] = str((self.loaded.path.parent / kubeconfig).resolve())
            elif os.environ.get("KUBECONFIG"):
                env["KUBECONFIG"] = os.environ["KUBECONFIG"]
            env["KUBERNETES_CONTEXT"] = decision.context
        else:  # a dry run calls nothing; and if something slipped through, it finds no cluster
            env["KUBECONFIG"] = str(self.folder / "no-cluster.kubeconfig")
            env["KUBERNETES_HOST"] = "http://127.0.0.1:9"
        return env

    def _twin_kubeconfig(self) -> Path:
        if self._kubeconfig is None:
            if self.twin is None:
                raise OSError("no twin serves this drill")
            self._kubeconfig = self.twin.write_kubeconfig(self.folder / "twin.kubeconfig", as_actor=CHAOS)
        return self._kubeconfig

    def _token(self) -> str:
        """The experiments' identity token: what they do is on the timeline as ``chaostoolkit``."""
        assert self.twin is not None
        if self._identity is None:
            self._identity = self.twin.identity_token(CHAOS)
        return self._identity

    def _twin_access(self) -> dict[str, str]:
        """Where the simulation provider (``tabletop.chaos.sim``) finds the drill: the twin's URL,
        token and certificate, as ``TABLETOP_URL``, ``TABLETOP_TOKEN`` and ``TABLETOP_CA_FILE``."""
        twin = self.twin
        if twin is None:
            return {}
        access = {"TABLETOP_URL": twin.url, "TABLETOP_TOKEN": self._token()}
        if twin.server.certificate is not None:
            ca = self.folder / "twin-ca.pem"
            ca.write_bytes(twin.server.certificate.pem)
            access["TABLETOP_CA_FILE"] = str(ca)
        return access

    def _read(self, run: _Run, fd: int) -> None:
        """Reader thread: lines from the child, as (experiment, kind, data) for the drill's thread."""
        experiment = run.experiment.id
        try:
            with os.fdopen(fd, "r", encoding="utf-8", errors="replace") as stream:
                for line in stream:
                    try:
                        message = json.loads(line)
                    except ValueError:
                        continue
                    item = self._translate(run, message)
                    if item is not None:
                        self._inbox.put((experiment, *item))
                        self.wake.set()
        finally:
            process = run.process
            code = process.wait() if process is not None else None
            self._inbox.put((experiment, "exit", {"returncode": code}))
            run.done.set()
            self.wake.set()

    def _translate(self, run: _Run, message: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        event = message.pop("event", None)
        experiment = run.experiment.id
        if event in ("activity.started", "activity.ended"):
            return f"chaos.{event}", {"experiment": experiment, **message}
        if event == "experiment.ended":
            return "chaos.experiment.ended", self._ended(run, message)
        return None

    def _ended(self, run: _Run, data: dict[str, Any]) -> dict[str, Any]:
        journal = data.get("journal")
        reason = data.get("reason")
        if run.interrupted and data.get("status") in ("interrupted", "aborted"):
            reason = run.interrupted
        return {"experiment": run.experiment.id, "status": data.get("status"), "deviated": bool(data.get("deviated")),
                "mode": run.decision.mode, "journal": self._shown(Path(journal)) if journal else None, "reason": reason}

    def _shown(self, path: Path | None) -> str | None:
        """A path relative to the drill's output folder (as the timeline names its files)."""
        if path is None:
            return None
        try:
            return Path(path).resolve().relative_to(self.out_dir.resolve()).as_posix()
        except ValueError:
            return str(path)

    @staticmethod
    def _signal(run: _Run, sig: int) -> None:
        if run.process is not None and run.process.poll() is None:
            try:
                run.process.send_signal(sig)
            except ProcessLookupError:
                pass

    def _fleet_namespaces(self) -> list[str]:
        return sorted({d.namespace for d in self.loaded.scenario.fleet.deployments}) or ["default"]


def would_run(activity: dict[str, Any]) -> str:
    """``method action drain-a-node: chaosk8s.node.actions.drain_nodes(name='gpu-serve-2')``."""
    provider = activity.get("provider") or {}
    arguments = provider.get("arguments")
    shown = ", ".join(f"{k}={v!r}" for k, v in arguments.items()) if isinstance(arguments, dict) else repr(arguments or "")
    if provider.get("type") == "python":
        call = f"{provider.get('module')}.{provider.get('func')}({shown})"
    elif provider.get("type") == "http":
        call = f"HTTP {provider.get('method', 'GET')} {provider.get('url')}"
    else:
        call = f"{provider.get('type')} {provider.get('path')} {shown}".rstrip()
    return f"{activity.get('phase')} {activity.get('type')} {activity.get('activity')}: {call}"


def run_chaos_drill(loaded: LoadedScenario, *, out_dir: Path, seed: int = 0, speed: float = 1.0, live: bool = False,
                    allow_process: bool = False, responder: "Responder | None" = None, responder_name: str | None = None,
                    actor: str | None = None, until: float | None = None, stop: threading.Event | None = None,
                    notify: Callable[[str], None] | None = None, scenario_label: str | None = None,
                    timeline_path: Path | None = None, finish_timeout: float = FINISH_TIMEOUT,
                    twin_options: dict[str, Any] | None = None,
                    on_ready: Callable[[Any], None] | None = None, metrics_host: str = "127.0.0.1",
                    metrics_port: int | None = None, on_metrics: Callable[[int], None] | None = None) -> Drill:
    """A paced drill that runs the scenario's experiments; returns the ended drill.

    Against the twin (``kubernetes.context: twin``) this is ``run_twin`` (``twin_options``:
    host, port, token, kubeconfig_path, metrics_host, metrics_port) with the runner as its
    companion; the experiments' writes are recorded as ``chaostoolkit``; ``actor`` (default: the
    first participant) is who kubectl's writes are recorded as. Against a real cluster, the drill runs paced on its own,
    serving its metrics when ``metrics_port`` is given (``on_metrics`` gets the bound port). The timeline
    goes to ``timeline_path`` (default OUT/timeline.jsonl), the journals to OUT/chaos/."""
    runner = ChaosRunner(loaded, out_dir, live=live, allow_process=allow_process, notify=notify,
                         finish_timeout=finish_timeout)
    timeline_path = timeline_path or Path(out_dir) / "timeline.jsonl"
    name = responder_name or (responder.name if responder is not None else "chaos")
    if loaded.scenario.kubernetes.context == TWIN:
        from tabletop.twin.runner import run_twin

        participants = [p.id for p in loaded.scenario.participants]
        return run_twin(loaded, seed=seed, speed=speed, actor=actor or participants[0], timeline_path=timeline_path,
                        scenario_label=scenario_label, responder=responder, responder_name=name, until=until,
                        on_ready=on_ready, stop=stop, companions=(runner,), **(twin_options or {}))
    with ExitStack() as stack:
        server = stack.enter_context(closing(MetricsServer(metrics_host, metrics_port))) if metrics_port is not None else None
        drill = Drill(loaded, seed=seed, responder=name, timeline_path=timeline_path, scenario_label=scenario_label)
        stack.callback(lambda: drill.ended or drill.end("aborted"))
        stack.callback(runner.close)
        if responder is not None:
            responder.attach(drill)
        runner.attach(drill)
        publish = start_publishing(server, drill, on_metrics) if server is not None else None

        def step() -> None:
            runner.step()
            if publish is not None:
                publish()

        if on_ready is not None:
            on_ready(None)
        pace(drill, speed, until=until, on_step=step, stop=stop, wake=runner.wake,
             before_end=lambda reason: runner.finish(reason, step))
    return drill
