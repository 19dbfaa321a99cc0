"""Seats in the console (Textual's pilot): a seat's console draws the feed's news at once, and
the facilitator's screen lists the seats and removes one, whose console then closes."""

from __future__ import annotations

from tabletop.cli.seats import follow
from tabletop.scenario.loader import LoadedScenario
from tabletop.seats.server import SeatServer
from tests.seats.conftest import DrillThread
from tests.seats.test_seats import replica
from tests.tui.conftest import console, run, started, wait_for


def test_a_seats_console_applies_the_feeds_news_without_waiting_for_a_tick(
        loaded: LoadedScenario, served: tuple[SeatServer, DrillThread]) -> None:
    server, thread = served
    chen = replica(loaded, server, "chen")
    bob = replica(loaded, server, "bob")
    app = console(chen, acting_as="chen", seat=True)  # no live clock: its ticks never apply the feed
    follow(app, chen)
    app.tick = lambda: None  # type: ignore[method-assign]  # and its ticks do nothing at all

    async def go() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await started(pilot)
            chen.start_polling()
            try:
                assert bob.execute("bob", "note seen by chen at once").ok
                thread.do(lambda: server.session.advance_to(42.0))
                await wait_for(pilot, lambda: chen.now == 42.0 and any(
                    e.kind == "command" and e.data["line"] == "note seen by chen at once"
                    for e in chen.drill.timeline.events), tries=200)
                assert chen.drill.timeline.lines() == server.session.drill.timeline.lines()
                assert app._drawn[0] == 42.0  # drawn, too, by the news
            finally:
                chen.stop_polling()

    run(go)
