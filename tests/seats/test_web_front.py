"""The seats' web front (``seats.web``, started by ``drill --serve --web``) over a real seat
server: a seat's link opens that participant's page (its terminal at the link's own socket), a
link whose token the seat server refuses opens none and says why, a removed seat's old link
stops working and seats.json lists the new one; the front stops when asked, and --web is
refused without --serve."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tabletop.cli import main
from tabletop.seats.web_front import WebFront, WebFrontError

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def front(served, tmp_path: Path) -> Iterator[WebFront]:
    server, _ = served
    made = WebFront(server.url, host="127.0.0.1", port=0, scenario=BUNDLED, log_path=tmp_path / "web.log")
    made.start()
    server.tokens.web = made.url
    try:
        yield made
    finally:
        made.close()


def test_a_seat_link_opens_that_participants_page(served, front: WebFront) -> None:
    server, _ = served
    token = server.tokens.tokens["bob"]
    status, page = fetch(f"{front.url}/seat/{token}")
    assert status == 200
    assert "tabletop: bob&#39;s seat" in page or "tabletop: bob's seat" in page
    assert f'ws://127.0.0.1:{front.url.rsplit(":", 1)[1]}/seat/{token}/ws' in page  # its terminal, behind the same token
    assert server.tokens.browser_link("bob") == f"{front.url}/seat/{token}"


def test_a_refused_token_opens_no_seat_and_says_why(served, front: WebFront) -> None:
    status, page = fetch(f"{front.url}/seat/not-a-token")
    assert status == 401 and "the drill refused the token: it opens no seat of this drill" in page
    status, page = fetch(f"{front.url}/seat/not-a-token/ws")
    assert status == 401  # no console is started for it
    status, page = fetch(f"{front.url}/")
    assert status == 200 and "/seat/" in page and "not-a-token" not in page


def test_a_removed_seats_old_link_stops_working(served, front: WebFront, tmp_path: Path) -> None:
    server, _ = served
    old = server.tokens.tokens["chen"]
    new = server.remove("chen")
    status, page = fetch(f"{front.url}/seat/{old}")
    assert status == 403 and "the facilitator removed this seat" in page
    assert fetch(f"{front.url}/seat/{new}")[0] == 200
    recorded = json.loads((tmp_path / "drill" / "seats.json").read_text())
    assert recorded["web"] == front.url
    assert recorded["seats"]["chen"]["browser"] == f"{front.url}/seat/{new}"


def test_the_front_stops_when_closed(front: WebFront) -> None:
    url = front.url
    assert fetch(url)[0] == 200
    front.close()
    with pytest.raises((urllib.error.URLError, OSError)):
        fetch(url)


def test_a_busy_port_is_one_clear_error(served, tmp_path: Path) -> None:
    server, _ = served
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        front = WebFront(server.url, host="127.0.0.1", port=port, scenario=BUNDLED, log_path=tmp_path / "web.log")
        with pytest.raises(WebFrontError, match=rf"cannot listen on 127.0.0.1:{port}"):
            front.start()


@pytest.mark.parametrize("arguments, message", [
    (["--web"], "--web serves the seats' consoles to browsers: it goes with --serve"),
    (["--serve", "--web-port", "8080"], "--web-port is the web front's: it goes with --web"),
])
def test_web_options_without_what_they_go_with_are_refused(arguments: list[str], message: str,
                                                           tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["drill", str(BUNDLED), "--out", str(tmp_path / "x"), *arguments])
    assert result.exit_code != 0 and message in result.output
    assert "Traceback" not in result.output and not (tmp_path / "x").exists()


def test_after_its_url_the_front_writes_only_to_its_log(front: WebFront, tmp_path: Path) -> None:
    """The drill reads one line from the front's stdout: anything printed later (textual-serve
    prints a failed console's output to stdout) must go to web.log, not fill a pipe nobody reads
    and stall the front."""
    pid = front._process.pid  # type: ignore[union-attr]
    stdout, stderr = (Path(f"/proc/{pid}/fd/{fd}").resolve() for fd in (1, 2))
    assert stdout == stderr == (tmp_path / "web.log").resolve()
