"""A seat that stays joined while the facilitator's drill is quit and served again with
``--resume``: the resumed drill goes on from just after its timeline's last event, which is
earlier than the seat's replica had followed the clock; the replica goes back with it, so it
runs the new commands where the drill runs them and its copy of the timeline stays the drill's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tabletop.drill.resume import resume_drill
from tabletop.drill.session import DrillSession
from tabletop.drill.timeline_reader import read_timeline
from tabletop.scenario.loader import LoadedScenario
from tabletop.seats.replica import ReplicaSession
from tabletop.seats.server import SeatServer
from tabletop.seats.tokens import SeatTokens
from tests.seats.conftest import DrillThread
from tests.seats.test_seats import replica

AHEAD = 1500.0
"""Where the first server's clock goes after its last command: past several of the bundled
drill's alerts, and past its last event (T+23:30), where the resumed drill goes on from."""


class Served:
    """A served drill in ``folder`` that can be quit and served again from its timeline, on the same port."""

    def __init__(self, loaded: LoadedScenario, folder: Path) -> None:
        self.loaded, self.folder = loaded, folder
        self.port = 0
        self.server: SeatServer | None = None
        self.thread: DrillThread | None = None

    def serve(self, session: DrillSession) -> SeatServer:
        tokens = SeatTokens.issue([p.id for p in self.loaded.scenario.participants], self.folder)
        self.server = SeatServer(session, tokens, port=self.port, wait=0.5, folder=self.folder).start()
        self.port = self.server.httpd.server_address[1]
        tokens.write(self.folder, self.server.url)
        self.thread = DrillThread(self.server)
        return self.server

    def quit(self) -> None:
        assert self.server is not None and self.thread is not None
        self.thread.stop.set()
        self.thread.thread.join()
        self.server.close()
        self.server.session.drill.timeline.close()

    def resume(self) -> SeatServer:
        recorded = read_timeline(self.folder / "timeline.jsonl")
        return self.serve(DrillSession(self.loaded, resume_drill(self.loaded, recorded), out_dir=self.folder))


@pytest.fixture
def drill(loaded: LoadedScenario, tmp_path: Path) -> Iterator[Served]:
    served = Served(loaded, tmp_path / "drill")
    served.serve(DrillSession.start(loaded, seed=3, out_dir=served.folder, scenario_label="scenarios/x.yaml"))
    try:
        yield served
    finally:
        if served.thread is not None and not served.thread.stop.is_set():
            served.quit()


def caught_up(seat: ReplicaSession, server: SeatServer) -> None:
    deadline = time.monotonic() + 30
    while True:
        seat.apply_feed()
        if seat.problem is None and seat.applied == len(server.feed.ops) and seat.now == server.session.now:
            return
        assert time.monotonic() < deadline, (seat.problem, seat.applied, len(server.feed.ops), seat.now)
        time.sleep(0.05)


def test_a_seat_goes_back_with_a_resumed_drill_and_runs_its_new_commands_where_it_did(
        loaded: LoadedScenario, drill: Served, tmp_path: Path) -> None:
    first = drill.server
    assert first is not None and drill.thread is not None
    chen = replica(loaded, first, "chen", tmp_path / "chen")
    said: list[tuple[str, str]] = []
    chen.on_status = lambda message, severity: said.append((message, severity))
    assert chen.execute("chen", "note chen before the break").ok
    drill.thread.do(lambda: first.session.advance_to(AHEAD))
    chen.start_polling()
    try:
        caught_up(chen, first)
        assert chen.now == AHEAD
        last = first.session.drill.timeline.events[-1].t
        assert last < AHEAD and any(e.t > 60 for e in chen.drill.timeline.events)  # alerts, after the command
        drill.quit()
        deadline = time.monotonic() + 30
        while chen.problem is None:  # the seat lost the server and keeps trying
            assert time.monotonic() < deadline
            chen.apply_feed()
            time.sleep(0.05)

        second = drill.resume()
        assert second.session.now == round(last + 0.001, 3) and second.url == first.url
        caught_up(chen, second)  # the clock alone went back: the replica with it
        assert chen.drill.timeline.lines() == second.session.drill.timeline.lines()
        assert ("the drill went back from T+00:25:00 to T+00:" in said[-1][0]) and said[-1][1] == "warning"

        assert chen.execute("chen", "note chen after the break").ok
        drill.thread.do(lambda: second.session.execute("bob", "note bob after the break"))
        drill.thread.do(lambda: second.session.advance_to(AHEAD + 60))
        caught_up(chen, second)
        assert chen.drill.timeline.lines() == second.session.drill.timeline.lines()
        assert [e.data["line"] for e in chen.drill.timeline.events if e.kind == "command"] == [
            "note chen before the break", "note chen after the break", "note bob after the break"]
    finally:
        chen.stop_polling()
    drill.quit()
    assert (tmp_path / "chen" / "timeline.jsonl").read_bytes() == (drill.folder / "timeline.jsonl").read_bytes()


def test_a_command_before_the_replicas_present_rebuilds_it_too(loaded: LoadedScenario, drill: Served,
                                                              tmp_path: Path) -> None:
    """No poller: the seat learns of the resumed drill from its first op, earlier than its present."""
    first = drill.server
    assert first is not None and drill.thread is not None
    bob = replica(loaded, first, "bob", tmp_path / "bob")
    assert bob.execute("bob", "note bob before the break").ok
    drill.thread.do(lambda: first.session.advance_to(AHEAD))
    bob.catch_up()
    assert bob.now == AHEAD
    drill.quit()
    second = drill.resume()
    drill.thread.do(lambda: second.session.execute("alice", "note alice after the break"))
    bob.catch_up()
    assert bob.drill.timeline.lines() == second.session.drill.timeline.lines()
    assert bob.now == second.session.now < AHEAD
    assert bob.board.drill is bob.drill and bob.board.indicators[0].points[-1][0] < AHEAD
