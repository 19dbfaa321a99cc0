"""Seats in one process: a real seat server over a DrillSession, whose drill thread is a test
thread calling ``serve``, and replicas talking to it over HTTP on loopback."""

from __future__ import annotations

import json
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tabletop.drill.replay import first_difference, replay_timeline
from tabletop.drill.session import ClockRefused, DrillSession
from tabletop.drill.timeline_reader import read_timeline
from tabletop.scenario.loader import LoadedScenario
from tabletop.seats.client import SeatClient, SeatError
from tabletop.seats.feed import Feed
from tabletop.seats.replica import ReplicaSession, header_of
from tabletop.seats.server import SeatServer
from tabletop.seats.tokens import SeatTokens
from tests.seats.conftest import BUNDLED, DrillThread

def replica(loaded: LoadedScenario, server: SeatServer, who: str, out: Path | None = None) -> ReplicaSession:
    client = SeatClient(server.url, server.tokens.tokens[who])
    hello = client.hello()
    assert hello["participant"] == who
    session = ReplicaSession(loaded, header_of(hello["header"]), who, client, out_dir=out)
    session.catch_up()
    return session


def settle(session: ReplicaSession, server: SeatServer) -> None:
    """Poll until the replica has everything the server published."""
    deadline = time.monotonic() + 10
    while True:
        session.take(server.feed.update(session.applied))
        if session.applied == len(server.feed.ops) and session.now == server.session.now:
            return
        assert time.monotonic() < deadline
        time.sleep(0.02)


# tokens ---------------------------------------------------------------------------------------------
def test_every_participant_has_their_own_token_kept_0600_and_again_when_served_again(tmp_path: Path) -> None:
    tokens = SeatTokens.issue(["alice", "bob", "chen"])
    assert len(set(tokens.tokens.values())) == 3
    path = tokens.write(tmp_path, "http://127.0.0.1:1234")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = json.loads(path.read_text())
    assert document["seats"]["bob"]["join"] == f"tabletop join http://127.0.0.1:1234 --as bob --token {tokens.tokens['bob']}"
    again = SeatTokens.issue(["alice", "bob", "chen", "dana"], tmp_path)
    assert {p: again.tokens[p] for p in ("alice", "bob", "chen")} == tokens.tokens
    assert again.tokens["dana"] not in tokens.tokens.values()
    assert tokens.who(tokens.tokens["chen"]) == "chen" and tokens.who("nope") is None
    old = tokens.tokens["bob"]
    new = tokens.remove("bob")
    assert tokens.who(old) is None and tokens.was_revoked(old) and tokens.who(new) == "bob"


def test_a_wrong_missing_or_removed_token_is_refused(served: tuple[SeatServer, DrillThread]) -> None:
    server, _ = served
    with pytest.raises(SeatError, match="refused the token") as wrong:
        SeatClient(server.url, "not-a-seat").hello()
    assert wrong.value.refused and wrong.value.status == 401
    with pytest.raises(SeatError, match="needs its token"):
        SeatClient(server.url, "").hello()
    bob = SeatClient(server.url, server.tokens.tokens["bob"])
    assert bob.hello()["participant"] == "bob"
    server.remove("bob")
    with pytest.raises(SeatError, match="the facilitator removed this seat") as removed:
        bob.command("note hello", 0)
    assert removed.value.status == 403
    assert not any(e.kind == "command" for e in server.session.drill.timeline.events)


def test_an_unreachable_server_is_one_line_and_not_a_refusal() -> None:
    with pytest.raises(SeatError, match="cannot reach the drill server at http://127.0.0.1:9") as error:
        SeatClient("http://127.0.0.1:9", "t").hello()
    assert not error.value.refused


# the feed ---------------------------------------------------------------------------------------------
def test_the_feed_is_the_timelines_commands_outside_events_and_end(loaded: LoadedScenario) -> None:
    session = DrillSession.start(loaded, seed=0)
    feed = Feed()
    session.advance_to(30)
    session.execute("alice", "note one")
    session.drill.record("alertmanager.silence", {"id": "s1"})
    feed.publish(session)
    session.advance_to(60)
    session.end("facilitator")
    feed.publish(session)
    assert [op["op"] for op in feed.ops] == ["command", "event", "end"]
    assert feed.ops[0] == {"op": "command", "seq": feed.ops[0]["seq"], "t": 30.0, "actor": "alice", "line": "note one"}
    update = feed.update(1)
    assert update["after"] == 1 and len(update["ops"]) == 2 and update["clock"]["t"] == 60.0
    assert update["clock"]["ended"]
    version = feed.version
    feed.publish(session)  # nothing new: readers keep waiting
    assert feed.version == version
    began = time.monotonic()
    assert feed.since(3, version, 0.2)["ops"] == [] and time.monotonic() - began >= 0.2


# seats -------------------------------------------------------------------------------------------------
def test_seats_act_in_their_own_name_at_once_and_every_replica_is_the_drill(
        loaded: LoadedScenario, served: tuple[SeatServer, DrillThread], tmp_path: Path) -> None:
    server, thread = served
    facilitator = server.session
    thread.do(lambda: facilitator.advance_to(95.5))
    seats = {who: replica(loaded, server, who, tmp_path / who) for who in ("bob", "chen", "dana")}
    assert all(s.now == 95.5 for s in seats.values())
    thread.do(lambda: setattr(facilitator, "paused", True))
    barrier = threading.Barrier(len(seats))
    results: dict[str, Any] = {}

    def act(who: str) -> None:
        barrier.wait()
        results[who] = seats[who].execute(who, f"note {who} was here")

    workers = [threading.Thread(target=act, args=(who,)) for who in seats]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert all(r.ok and "note" in r.message.lower() for r in results.values()), results
    notes = [e for e in facilitator.drill.timeline.events if e.kind == "command"]
    assert sorted((e.actor, e.data["line"]) for e in notes) == [(w, f"note {w} was here") for w in sorted(seats)]
    assert {e.t for e in notes} == {95.5}  # the same moment, in the order the server took them
    thread.do(lambda: facilitator.execute("alice", "ack"))
    thread.do(lambda: facilitator.advance_to(400))
    late = replica(loaded, server, "erin")  # joins late: catches up
    thread.do(lambda: facilitator.end("facilitator"))
    for session in [*seats.values(), late]:
        settle(session, server)
        assert session.ended
        assert session.drill.timeline.lines() == facilitator.drill.timeline.lines()
    assert (tmp_path / "bob" / "timeline.jsonl").read_bytes() == facilitator.drill.timeline.path.read_bytes()
    recorded = read_timeline(facilitator.drill.timeline.path)
    replayed = replay_timeline(loaded, recorded)
    assert first_difference(recorded, replayed) is None


def test_a_seat_cannot_act_as_someone_else_nor_run_the_clock(
        loaded: LoadedScenario, served: tuple[SeatServer, DrillThread]) -> None:
    server, _ = served
    bob = replica(loaded, server, "bob")
    refused = bob.execute("alice", "note I am alice")
    assert not refused.ok and "acts as bob only" in refused.message
    for change in (bob.resume, bob.pause, lambda: bob.set_speed(10), lambda: bob.advance_to(60), bob.check_skip):
        with pytest.raises(ClockRefused, match="the facilitator runs the clock"):
            change()
    assert not bob.facilitate("hint").ok
    raw = bob.client.command("facilitate end", 0)  # a seat's request cannot facilitate either
    assert raw["ok"] is False
    commands = [e for e in server.session.drill.timeline.events if e.kind == "command"]
    assert [(e.actor, e.data["ok"]) for e in commands] == [("bob", False)]
    assert not server.session.ended


def test_a_seat_that_loses_the_server_catches_up_when_it_is_back(
        loaded: LoadedScenario, served: tuple[SeatServer, DrillThread]) -> None:
    server, thread = served
    facilitator = server.session
    said: list[tuple[str, str]] = []
    bob = replica(loaded, server, "bob")
    bob.on_status = lambda message, severity: said.append((message, severity))
    bob.start_polling()
    host, port = server.httpd.server_address[:2]
    thread.stop.set()
    thread.thread.join()
    server.close()  # the seat server goes away; the drill goes on
    facilitator.paused = False
    facilitator.advance_to(200)
    facilitator.execute("chen", "note while bob was away")
    deadline = time.monotonic() + 10
    while bob.problem is None:
        bob.advance(0.2)
        assert time.monotonic() < deadline
        time.sleep(0.05)
    message, severity = said[-1]  # the server went away: closing (its last answer) or unreachable
    assert severity == "warning" and ("cannot reach" in message or "closing" in message), message
    assert "trying again" in message
    again = SeatServer(facilitator, server.tokens, host=str(host), port=int(port), wait=0.5).start()
    serving = DrillThread(again)
    try:
        deadline = time.monotonic() + 15
        while bob.now < 200 or bob.problem is not None:
            bob.advance(0.2)
            assert time.monotonic() < deadline, bob.problem
            time.sleep(0.05)
        assert "back in touch" in said[-1][0]
        assert bob.drill.timeline.lines() == facilitator.drill.timeline.lines()
    finally:
        bob.stop_polling()
        serving.stop.set()
        serving.thread.join()
        again.close()


def test_seat_options_without_serve_are_refused_before_a_timeline_is_written(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from tabletop.cli import main

    out = tmp_path / "drill"
    result = CliRunner().invoke(main, ["drill", str(BUNDLED), "--port", "8123", "--out", str(out)])
    assert result.exit_code == 1 and "--host and --port are the seat server's: they go with --serve" in result.output
    assert not out.exists()
    joined = CliRunner().invoke(main, ["join", "ftp://x", "--as", "bob", "--token", "t"])
    assert joined.exit_code == 1 and "is not a seat server's URL" in joined.output


def test_removing_a_seat_refuses_its_token_at_once_and_lets_a_new_one_in(
        loaded: LoadedScenario, served: tuple[SeatServer, DrillThread], tmp_path: Path) -> None:
    server, _ = served
    bob = replica(loaded, server, "bob")
    said: list[tuple[str, str]] = []
    bob.on_status = lambda message, severity: said.append((message, severity))
    states = dict(server.seats())
    assert states["bob"] == "connected" and states["chen"] == "not joined"
    assert dict(server.seats(now=server.seen["bob"] + 75))["bob"] == "last seen 1m15s ago"
    waiting = threading.Thread(target=lambda: bob.client.feed(bob.applied, server.feed.version, timeout=30))
    began = time.monotonic()
    waiting.start()
    time.sleep(0.1)
    new = server.remove("bob")
    waiting.join()
    assert time.monotonic() - began < server.wait  # the waiting request was answered at once
    assert dict(server.seats())["bob"] == "removed: a new token lets them back in"
    refused = bob.execute("bob", "note still here?")
    assert not refused.ok and "the facilitator removed this seat" in refused.message
    assert bob.removed and said == [("the facilitator removed this seat: this seat can no longer act or follow the "
                                     "drill", "error")]
    assert json.loads((tmp_path / "drill" / "seats.json").read_text())["seats"]["bob"]["token"] == new
    assert SeatClient(server.url, new).hello()["participant"] == "bob"
    assert dict(server.seats())["bob"] == "connected"
    assert not any(e.kind == "command" for e in server.session.drill.timeline.events)
