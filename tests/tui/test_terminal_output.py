"""What the console sends a terminal adds up to its screen.

The console draws most frames as partial updates: only the changed regions are sent, and only
the widgets overlapping them are rendered (``ChangedRegionCompositor``). Every update the app
would write to a terminal is fed here to pyte, a VT100 terminal emulator, and at each step of a
busy drill (the clock running, pages, notes, tab switches, a dialog opened and closed, the
facilitator screen) the emulated terminal must show exactly what a full render of the screen
shows."""

from __future__ import annotations

import pyte
from textual._compositor import CompositorUpdate

from tabletop.scenario.loader import LoadedScenario
from tabletop.tui.dialogs.text import TextDialog
from tabletop.tui.screens.facilitator import FacilitatorScreen
from tabletop.tui.screens.main import MainScreen

from .conftest import console, new_session, paste, run, started, wait_for

SIZE = (160, 50)


class Terminal:
    """A pyte screen fed every update the app would write to its terminal."""

    def __init__(self, app) -> None:
        self.app = app
        self.screen = pyte.Screen(*SIZE)
        self.stream = pyte.Stream(self.screen)
        self.updates = {"full": 0, "partial": 0}
        display = app._display

        def written(screen, renderable) -> None:
            display(screen, renderable)
            if isinstance(renderable, CompositorUpdate) and not app._batch_count:
                self.updates["partial" if type(renderable).__name__ == "ChopsUpdate" else "full"] += 1
                self.stream.feed(renderable.render_segments(app.console))

        app._display = written

    def shows(self) -> list[str]:
        return [line.rstrip() for line in self.screen.display]

    def expected(self) -> list[str]:
        return [strip.text.rstrip() for strip in self.app.screen._compositor.render_strips()]

    def differences(self) -> list[str]:
        return [f"row {y}:\n  terminal {got!r}\n  screen   {want!r}"
                for y, (got, want) in enumerate(zip(self.shows(), self.expected())) if got != want]


def test_partial_updates_add_up_to_the_screen(loaded: LoadedScenario) -> None:
    session = new_session(loaded)
    checked: list[str] = []

    async def play() -> None:
        app = console(session)
        terminal = Terminal(app)
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot)

            async def check(step: str) -> None:
                for _ in range(3):
                    await pilot.pause()
                problems = terminal.differences()
                assert not problems, f"after {step}: " + "\n".join(problems[:6])
                checked.append(step)

            await check("start")
            for minute in range(1, 25):  # the clock, countdowns, pages and the side timeline all move
                app.advance_to(minute * 60)
                if minute % 6 == 0:
                    session.execute("bob", f"note minute {minute}")
                await check(f"minute {minute}")
            await pilot.press("a")
            await check("ack")
            for tab in ("2", "3", "5", "1"):
                await pilot.press(tab)
                await check(f"tab {tab}")
            await pilot.press("n")
            await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
            await check("note dialog")
            app.advance_to(25 * 60)  # the clock and the side timeline move under the dialog
            await check("under the dialog")
            await paste(pilot, "the side timeline moves under a dialog")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
            app.advance_to(26 * 60)
            await check("dialog closed")
            await pilot.press("f")
            await wait_for(pilot, lambda: isinstance(app.screen, FacilitatorScreen))
            app.advance_to(27 * 60)
            await check("facilitator")
            assert terminal.updates["partial"] > 20, terminal.updates

    run(play)
    assert len(checked) == 34
