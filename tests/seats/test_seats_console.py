"""Seats in the console (Textual's pilot): a seat's console draws the feed's news at once, and
the facilitator's screen lists the seats and removes one, whose console then closes."""

from __future__ import annotations

import asyncio
import re

from tabletop.cli.seats import follow
from tabletop.scenario.loader import LoadedScenario
from tabletop.seats.server import SeatServer
from tests.seats.conftest import DrillThread
from tests.seats.test_seats import replica
from tests.tui.conftest import console, run, screen_text, started, wait_for


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


def test_the_facilitator_sees_the_seats_and_removes_one_whose_console_closes(
        loaded: LoadedScenario, served: tuple[SeatServer, DrillThread]) -> None:
    from tabletop.tui.dialogs.choice import ChoiceDialog
    from tabletop.tui.dialogs.confirm import ConfirmDialog
    from tabletop.tui.screens.facilitator import FacilitatorScreen

    server, _ = served
    old = server.tokens.tokens["bob"]
    bob = replica(loaded, server, "bob")
    app = console(server.session, seat_server=server)

    async def go() -> None:
        async with app.run_test(size=(120, 50)) as pilot:
            await started(pilot)
            await pilot.press("f")
            await wait_for(pilot, lambda: isinstance(app.screen, FacilitatorScreen))
            text = screen_text(app)
            assert "Seats" in text and "r: remove a seat" in text
            assert re.search(r"connected +bob +│", text)  # the seats, grouped by how they are
            assert re.search(r"not joined +alice, chen, dana, erin, farid", text)
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, ChoiceDialog))
            participants = [p for p, _ in server.seats()]
            await pilot.press(*["down"] * participants.index("bob"), "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            assert "Remove bob's seat?" in screen_text(app)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, FacilitatorScreen))
            new = server.tokens.tokens["bob"]
            assert new != old
            await wait_for(pilot, lambda: f"--as bob --token {new}" in screen_text(app))
            assert re.search(r"removed +bob \(a new token lets them back in\)", screen_text(app))

    run(go)
    refused = bob.execute("bob", "note am I still here?")
    assert not refused.ok and "the facilitator removed this seat" in refused.message


def test_a_removed_seats_console_says_so_and_exits(
        loaded: LoadedScenario, served: tuple[SeatServer, DrillThread]) -> None:
    server, _ = served
    bob = replica(loaded, server, "bob")
    app = console(bob, acting_as="bob", seat=True)
    follow(app, bob)
    said: list[str] = []
    notify = app.notify
    app.notify = lambda message, **kwargs: (said.append(message), notify(message, **kwargs))  # type: ignore[method-assign]

    async def go() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await started(pilot)
            bob.start_polling()
            server.remove("bob")
            for _ in range(200):
                if not app.is_running:
                    break
                await asyncio.sleep(0.02)

    run(go)
    bob.stop_polling()
    assert not app.is_running and bob.removed
    assert "the facilitator removed this seat: this seat can no longer act or follow the drill" in said


def test_a_seats_key_bar_lists_no_key_it_refuses(loaded: LoadedScenario, served: tuple[SeatServer, DrillThread]) -> None:
    server, _ = served
    bob = replica(loaded, server, "bob")
    app = console(bob, acting_as="bob", seat=True)

    async def go() -> None:
        async with app.run_test(size=(200, 30)) as pilot:
            await started(pilot)
            bar = screen_text(app).splitlines()[-1]
            assert "Ack" in bar and "Note" in bar and "Facilitator" in bar
            assert "Run/pause" not in bar and "Faster" not in bar and "Slower" not in bar and "Act as" not in bar
            await pilot.press("space")  # still refused, with the reason
            await wait_for(pilot, lambda: any("the facilitator runs the clock" in n.message for n in app._notifications))

    run(go)


def test_the_facilitators_own_commands_and_clock_reach_the_seats_without_waiting_for_a_tick(
        loaded: LoadedScenario) -> None:
    import json

    from tabletop.drill.session import DrillSession
    from tabletop.seats.tokens import SeatTokens

    session = DrillSession.start(loaded, seed=3)
    server = SeatServer(session, SeatTokens.issue([p.id for p in loaded.scenario.participants]))  # nothing serves it
    app = console(session, seat_server=server)
    app.tick = lambda: None  # type: ignore[method-assign]  # and the console's ticks do nothing

    async def go() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await started(pilot)
            version = server.feed.version
            assert app.execute("note for every seat").ok
            assert any("note for every seat" in json.dumps(op) for op in server.feed.ops)
            assert server.feed.version > version
            await pilot.press("space")  # the facilitator starts the clock
            assert server.feed.clock["paused"] is False

    try:
        run(go)
    finally:
        server.close()
