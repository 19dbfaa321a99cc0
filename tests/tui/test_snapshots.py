"""Snapshots of the console's screens at the smallest supported terminal (80x24) and a large
one (160x50). The app runs without a live clock and without toasts, so every picture is a
function of the drill's virtual time: the status bar's wall time is the drill world's.

Update after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and look at the SVG files under ``__snapshots__/`` before committing them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tabletop.scenario.loader import LoadedScenario
from tabletop.tui.dialogs.handoff import HandoffDialog
from tabletop.tui.screens.end import EndScreen
from tabletop.tui.screens.facilitator import FacilitatorScreen
from tabletop.tui.screens.help import HelpScreen

from .conftest import console, new_session, paste, started, wait_for

SIZES = {"80x24": (80, 24), "160x50": (160, 50)}
QUERY = 'sum by (status) (rate(http_requests_total{job="chat-llm"}[5m]))'


async def first_page(pilot: Pilot) -> None:
    """T+00:16:30, reached in evaluation-interval steps as a live console samples it: P1 pages alice."""
    await started(pilot)
    for t in range(30, 16 * 60 + 31, 30):
        pilot.app.advance_to(t)
    await pilot.pause()


def steady_cursors(pilot: Pilot) -> None:
    """A blinking cursor is drawn by real time: keep it on."""
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False


async def signals(pilot: Pilot) -> None:
    await first_page(pilot)
    await pilot.press("2")


async def investigation(pilot: Pilot) -> None:
    await first_page(pilot)
    await pilot.press("slash")
    await wait_for(pilot, lambda: isinstance(pilot.app.focused, Input))
    await paste(pilot, QUERY)
    await pilot.press("enter", "escape")  # run it, then leave the field


async def runbook(pilot: Pilot) -> None:
    await first_page(pilot)
    await pilot.press("k")


async def facilitator(pilot: Pilot) -> None:
    await first_page(pilot)
    await pilot.press("f")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, FacilitatorScreen))


async def help_screen(pilot: Pilot) -> None:
    await first_page(pilot)
    await pilot.press("question_mark")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))


async def handoff(pilot: Pilot) -> None:
    await first_page(pilot)
    await pilot.press("a", "h")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, HandoffDialog))
    steady_cursors(pilot)


async def end(pilot: Pilot) -> None:
    """Acknowledged, a note, a status update, then ended by the facilitator: the score."""
    await first_page(pilot)
    app = pilot.app
    app.execute("ack")
    app.advance_to(20 * 60)
    app.execute("note 'GPU 5 on gpu-serve-2 reports Xid 79'")
    app.execute("status 'chat assistant degraded; investigating a GPU failure'")
    app.end_drill("facilitator")
    await wait_for(pilot, lambda: isinstance(app.screen, EndScreen))


SCREENS: dict[str, Callable[[Pilot], Awaitable[None]]] = {
    "main": first_page, "signals": signals, "investigate": investigation, "runbook": runbook,
    "facilitator": facilitator, "help": help_screen, "handoff": handoff, "end": end,
}


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
def test_screen(screen: Callable[[Pilot], Awaitable[None]], size: tuple[int, int], snap_compare,
                loaded: LoadedScenario) -> None:
    assert snap_compare(console(new_session(loaded), toasts=False), terminal_size=size, run_before=screen)
