"""A whole drill played through the console's keys and dialogs gives the timeline of the same
command lines run headless, at the same virtual times, by the same people."""

from __future__ import annotations

from tabletop.drill.engine import Drill
from tabletop.drill.responders.scripted import ScriptResponder
from tabletop.drill.script import ResponderScript
from tabletop.scenario.loader import LoadedScenario
from tabletop.tui.dialogs.choice import ChoiceDialog
from tabletop.tui.dialogs.confirm import ConfirmDialog
from tabletop.tui.dialogs.handoff import HandoffDialog
from tabletop.tui.dialogs.hypothesis import HypothesisDialog
from tabletop.tui.dialogs.palette import MitigationPalette
from tabletop.tui.dialogs.params import ParamsDialog
from tabletop.tui.dialogs.text import TextDialog
from tabletop.tui.screens.main import MainScreen

from .conftest import console, new_session, paste, run, started, type_text, wait_for

EXPECTED = [
    (17 * 60, "alice", "ack"),
    (17 * 60, "alice", "assign incident_commander alice"),
    (18 * 60, "alice", 'query sum(rate(http_requests_total{job="chat-llm", status="5xx"}[5m]))'),
    (19 * 60, "alice", "hypothesis gpu_xid node/gpu-serve-2 'Xid 79 in the kernel log'"),
    (20 * 60, "alice", "step 3"),
    (20 * 60, "alice", "step 5 node=gpu-serve-2"),
    (21 * 60, "alice", "status 'Errors on the assistant; one GPU failed; cordoned its node'"),
    (23 * 60, "alice", "handoff bob --status 'one replica down' --actions 'cordoned gpu-serve-2' --next 'replace the pod'"),
    (36 * 60, "bob", "reply support-asks 'Yes, an incident: one GPU failed, capacity is being restored'"),
    (37 * 60, "bob", "mitigate scale deployment/chat-llm replicas=7"),
    (45 * 60, "bob", "resolve 'capacity restored'"),
    (45 * 60, "bob", "note 'all clear'"),
]


def headless_timeline(loaded: LoadedScenario, commands: list[tuple[float, str, str]], until: float) -> list[str]:
    script = ResponderScript.model_validate({
        "apiVersion": "tabletop/v1", "kind": "ResponderScript", "name": "console",
        "commands": [{"at": t, "as": actor, "run": line} for t, actor, line in commands],
    })
    drill = Drill(loaded, seed=4, responder="console", scenario_label="scenarios/serving-gpu-node-failure.yaml")
    ScriptResponder(script).attach(drill)
    drill.advance_to(until)
    return drill.timeline.lines()


def test_a_drill_played_through_the_console_equals_the_headless_run(loaded: LoadedScenario) -> None:
    session = new_session(loaded)

    async def play() -> None:
        app = console(session)
        async with app.run_test(size=(100, 30)) as pilot:
            await started(pilot)
            app.advance_to(17 * 60)
            await pilot.press("a")  # acknowledge
            await pilot.press("o")  # take the incident commander role
            await wait_for(pilot, lambda: app.screen.__class__.__name__ == "AssignDialog")
            await pilot.press("ctrl+s")

            app.advance_to(18 * 60)  # size the impact with PromQL
            await pilot.press("slash")
            await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "promql-input")
            await paste(pilot, 'sum(rate(http_requests_total{job="chat-llm", status="5xx"}[5m]))')
            await pilot.press("enter", "escape")
            assert "1 series" in str(app.screen.query_one("#promql-status").render())
            assert app.screen.query_one("#promql-table").row_count == 1

            app.advance_to(19 * 60)  # hypothesis: cause, target, reasoning
            await pilot.press("y")
            await wait_for(pilot, lambda: isinstance(app.screen, HypothesisDialog))
            await pilot.press("enter")
            await type_text(pilot, "gpu_xid")
            await pilot.press("enter", "tab")
            await paste(pilot, "node/gpu-serve-2")
            await pilot.press("tab")
            await paste(pilot, "Xid 79 in the kernel log")
            await pilot.press("enter")

            app.advance_to(20 * 60)  # runbook: step 3 (a view), then step 5 (cordon: asks, confirms)
            await pilot.press("k")
            await pilot.press("down", "down", "enter")
            await pilot.press("down", "down", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ParamsDialog))
            await pilot.press("enter")
            await type_text(pilot, "gpu-serve-2")
            await pilot.press("enter", "ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

            app.advance_to(21 * 60)  # status update
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
            await paste(pilot, "Errors on the assistant; one GPU failed; cordoned its node")
            await pilot.press("enter")

            app.advance_to(23 * 60)  # hand off to bob with a note (status, actions, next)
            await pilot.press("h")
            await wait_for(pilot, lambda: isinstance(app.screen, HandoffDialog))
            await paste(pilot, "one replica down")
            await pilot.press("enter")
            await paste(pilot, "cordoned gpu-serve-2")
            await pilot.press("enter")
            await paste(pilot, "replace the pod")
            await pilot.press("enter")

            await pilot.press("p")  # bob takes over the keyboard
            await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
            await pilot.press("down", "enter")
            assert app.acting_as == "bob"

            app.advance_to(36 * 60)  # two messages wait: pick the support lead's, answer it
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
            await paste(pilot, "Yes, an incident: one GPU failed, capacity is being restored")
            await pilot.press("enter")

            app.advance_to(37 * 60)  # a free mitigation from the palette: scale up, confirmed
            await pilot.press("m")
            await wait_for(pilot, lambda: isinstance(app.screen, MitigationPalette))
            await paste(pilot, "scale chat-llm")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ParamsDialog))
            await type_text(pilot, "7")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("enter")

            app.advance_to(45 * 60)  # resolve, and a last note from the command bar
            await pilot.press("x")
            await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
            await paste(pilot, "capacity restored")
            await pilot.press("enter")
            await pilot.press("colon")
            await paste(pilot, "note 'all clear'")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            app.advance_to(50 * 60)
            await pilot.pause()

    run(play)
    commands = [(e.t, e.actor, e.data["line"]) for e in session.drill.timeline.events if e.kind == "command"]
    assert commands == EXPECTED
    assert all(e.data["ok"] for e in session.drill.timeline.events if e.kind == "command"), [
        e.data for e in session.drill.timeline.events if e.kind == "command" and not e.data["ok"]]
    assert session.drill.timeline.lines() == headless_timeline(loaded, commands, 50 * 60)
