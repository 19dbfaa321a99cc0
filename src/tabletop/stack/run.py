"""A paced drill with the live stack: ``tabletop run SCENARIO --stack``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import ExitStack, closing
from pathlib import Path

from tabletop.drill.engine import Drill
from tabletop.drill.pacing import pace
from tabletop.drill.responders.base import Responder
from tabletop.scenario.loader import LoadedScenario
from tabletop.signals.metrics_server import MetricsServer
from tabletop.stack.session import LiveStack


def run_with_stack(loaded: LoadedScenario, responder: Responder, *, folder: Path, seed: int = 0, speed: float = 1.0,
                   alertmanager_config: Path | None = None, timeline_path: Path | None = None,
                   scenario_label: str | None = None, responder_name: str | None = None, until: float | None = None,
                   on_ready: Callable[[LiveStack], None] | None = None,
                   stop: threading.Event | None = None) -> Drill:
    """A paced drill whose pages come from a real Alertmanager fed by a real Prometheus.

    The stack starts (in ``folder``) before the drill's clock runs; ``on_ready`` gets it once the
    clock runs. Raises what starting the stack raises (MissingBinary, ServerError, InputError,
    TimescaleError) before the drill's first step; the stack is stopped however the drill ends."""
    with ExitStack() as stack:
        metrics = stack.enter_context(closing(MetricsServer("127.0.0.1", 0)))
        metrics.start()
        live = LiveStack(loaded, metrics, speed=speed, folder=folder, alertmanager_config=alertmanager_config)
        stack.callback(live.close)
        live.start()
        drill = Drill(loaded, seed=seed, responder=responder_name or responder.name, timeline_path=timeline_path,
                      scenario_label=scenario_label, paging="alertmanager")
        stack.callback(lambda: drill.ended or drill.end("aborted"))
        responder.attach(drill)
        started = live.begin(drill)
        if on_ready is not None:
            on_ready(live)
        pace(drill, live.speed, until=until, tick=live.tick, on_step=live.step, stop=stop, wake=live.webhook.arrived,
             started=started)
    return drill
