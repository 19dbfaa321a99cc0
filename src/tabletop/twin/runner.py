"""A paced drill with its twin: the Kubernetes API (and optionally /metrics) while the drill runs."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from contextlib import ExitStack, closing
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tabletop.drill.engine import Drill
from tabletop.drill.pacing import pace
from tabletop.scenario.loader import LoadedScenario
from tabletop.twin.twin import Twin, listen

if TYPE_CHECKING:
    from tabletop.drill.responders.base import Responder


class Companion(Protocol):
    """Something working the drill beside the twin, in the drill's thread (e.g. the Chaos Toolkit
    runner): attached once the twin serves, stepped after each pacing step, finished before the
    drill ends (``serve`` keeps the twin answering meanwhile), closed on the way out, whatever happened."""

    def attach(self, drill: Drill, twin: Twin) -> None: ...

    def step(self) -> None: ...

    def finish(self, reason: str, serve: Callable[[], None]) -> None: ...

    def close(self) -> None: ...


SWITCH_INTERVAL = 0.001
"""Seconds a busy thread keeps the GIL while another waits (Python's default is 5 ms): a large
fleet's scrape keeps the drill thread busy for a while, and the API's threads should not queue
behind it for long."""


def run_twin(loaded: LoadedScenario, *, seed: int = 0, speed: float = 1.0, host: str = "127.0.0.1", port: int = 0,
             token: str | None = None, actor: str | None = None, kubeconfig_path: Path | None = None,
             timeline_path: Path | None = None, scenario_label: str | None = None,
             responder: "Responder | None" = None, responder_name: str | None = None, until: float | None = None,
             metrics_host: str = "127.0.0.1", metrics_port: int | None = None,
             on_ready: Callable[[Twin], None] | None = None, on_metrics: Callable[[int], None] | None = None,
             stop: threading.Event | None = None,
             companions: "tuple[Companion, ...]" = (), without_faults: bool = False) -> Drill:
    """Run the scenario paced at ``speed`` with its fleet served as a Kubernetes API; returns the ended drill.

    The API (and the metrics server, with ``metrics_port``) bind before the drill starts, so a
    busy port raises OSError, a wrong ``actor`` ValueError and a ``token`` without openssl
    TlsError before any timeline is written. With a token the API speaks HTTPS (kubectl sends
    tokens only over TLS) with a self-signed certificate the kubeconfig trusts.
    ``kubeconfig_path`` gets a kubeconfig for the twin; ``on_ready`` gets the serving twin, ``on_metrics`` the metrics server's port. A
    ``responder`` (scripted) may work the drill too. The drill ends at its duration (or
    ``until``), or "aborted" on Ctrl-C, SIGTERM or ``stop``."""
    participants = {p.id for p in loaded.scenario.participants}
    if actor is not None and actor not in participants:
        raise ValueError(f"{actor!r} is not a participant of {loaded.scenario.metadata.id} "
                         f"(participants: {', '.join(sorted(participants))})")
    with ExitStack() as stack:
        stack.callback(sys.setswitchinterval, sys.getswitchinterval())
        sys.setswitchinterval(SWITCH_INTERVAL)
        server = listen(host, port, token)
        stack.callback(server.server_close)
        metrics = None
        if metrics_port is not None:
            from tabletop.signals.metrics_server import MetricsServer

            metrics = stack.enter_context(closing(MetricsServer(metrics_host, metrics_port)))
        name = responder_name or (responder.name if responder is not None else "twin")
        drill = Drill(loaded, seed=seed, responder=name, timeline_path=timeline_path, scenario_label=scenario_label,
                      without_faults=without_faults)
        stack.callback(lambda: drill.ended or drill.end("aborted"))
        if responder is not None:
            responder.attach(drill)
        twin = stack.enter_context(closing(Twin(drill, token=token, actor=actor, server=server)))
        steps: list[Callable[[], None]] = [twin.serve]
        if metrics is not None:
            from tabletop.drill.live import start_publishing

            steps.append(start_publishing(metrics, drill, on_metrics))
        if kubeconfig_path is not None:
            twin.write_kubeconfig(kubeconfig_path)
        twin.start()
        for companion in companions:
            stack.callback(companion.close)
            companion.attach(drill, twin)
            steps.append(companion.step)
        if on_ready is not None:
            on_ready(twin)

        def step() -> None:
            for action in steps:
                action()

        def finish(reason: str) -> None:
            for companion in companions:
                companion.finish(reason, step)

        pace(drill, speed, until=until, on_step=step, stop=stop, wake=twin.wake, before_end=finish)
    return drill
