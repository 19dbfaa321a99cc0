"""Seats in a browser, for real: the facilitator's console (`tabletop drill --serve --web`) in a
tmux terminal, and bob's seat in a real headless Chromium (Debian `chromium` and
`chromium-driver`, driven by Selenium) at his own link: the page runs his console, his keys
become a command in his name on the one timeline, and a link whose token the seat server
refuses opens no seat. A screenshot of bob's browser is kept with the test's files (its path is
printed; TABLETOP_TEST_ARTIFACTS=DIR copies it there too)."""

from __future__ import annotations

import io
import json
import os
import shutil
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest

from tabletop.drill.timeline_reader import read_timeline
from tests.seats.test_seats_tmux import wait_for_file
from tests.seats.test_web_front import fetch
from tests.tui.test_tmux import TABLETOP, Terminal, tmux_binary

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"
REQUIRE = "TABLETOP_REQUIRE_CHROMIUM"


def chromium_paths() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser and driver:
        return browser, driver
    message = "chromium or chromedriver not found: install the Debian packages `chromium chromium-driver`"
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{message}; {REQUIRE}=1 requires them", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,800"):
        options.add_argument(argument)
    made = webdriver.Chrome(service=Service(driver), options=options)
    made.set_page_load_timeout(60)
    try:
        yield made
    finally:
        made.quit()


@pytest.fixture
def facilitator(tmp_path: Path) -> Iterator[Terminal]:
    terminal = Terminal(tmux_binary(), f"tabletop-web-{os.getpid()}-{tmp_path.name}", "facilitator")
    try:
        yield terminal
    finally:
        terminal.kill()


def screenshot(browser):
    from PIL import Image

    return Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("RGB")


def console_drawn(browser) -> bool:
    """Whether the page's terminal shows the console: its status bar (bright text on the top
    row) is drawn. The page marks its first byte earlier, and keys typed before the console is up
    go to whatever screen is there."""
    image = screenshot(browser)
    top_row = image.crop((0, 0, image.width // 3, 18))
    return any(r + g + b > 450 for r, g, b in top_row.get_flattened_data())


def bottom_rows(browser) -> bytes:
    image = screenshot(browser)
    return image.crop((0, image.height - 80, image.width, image.height)).tobytes()


def keep(screenshot: Path) -> None:
    print(f"screenshot of bob's seat in Chromium: {screenshot}")
    folder = os.environ.get("TABLETOP_TEST_ARTIFACTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(folder) / screenshot.name)


def test_a_participant_takes_their_seat_in_a_browser(facilitator: Terminal, browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    out = tmp_path / "drill"
    facilitator.start([str(TABLETOP), "drill", str(BUNDLED), "--serve", "--web", "--out", str(out)], ROOT, 120, 40)
    facilitator.wait_for(r"⏸ PAUSED", timeout=90)
    wait_for_file(out / "seats.json")
    seats = json.loads((out / "seats.json").read_text())
    link = seats["seats"]["bob"]["browser"]
    assert link == f"{seats['web']}/seat/{seats['seats']['bob']['token']}"

    status, text = fetch(f"{seats['web']}/seat/not-a-token")
    assert status == 401 and "it opens no seat of this drill" in text
    assert fetch(f"{seats['web']}/")[0] == 200

    browser.get(link)
    assert "tabletop: bob's seat" in browser.page_source  # the page names whose seat it is
    WebDriverWait(browser, 90, poll_frequency=0.25).until(console_drawn)
    keys = browser.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea")  # xterm.js's input
    before = bottom_rows(browser)
    keys.send_keys(":")
    WebDriverWait(browser, 30, poll_frequency=0.25).until(  # the command bar opens over the key bar
        lambda b: bottom_rows(b) != before)
    keys.send_keys("note bob typed this in Chromium")
    keys.send_keys("\n")

    deadline = time.monotonic() + 60
    while True:
        commands = [(e.actor, e.data["line"]) for e in read_timeline(out / "timeline.jsonl").events
                    if e.kind == "command"]
        if ("bob", "note bob typed this in Chromium") in commands:
            break
        assert time.monotonic() < deadline, f"bob's note never reached the timeline: {commands}"
        time.sleep(0.2)
    facilitator.press("5")  # the facilitator's Timeline tab shows it, in bob's name
    facilitator.wait_for(r"bob typed this in Chromium", timeout=30)

    time.sleep(1)  # let the seat's screen draw the command's answer for the picture
    screenshot = tmp_path / "bob-seat-in-chromium.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 10_000
    keep(screenshot)

    facilitator.press("C-q")
    facilitator.wait_for(r"exit status 0", timeout=30)
    deadline = time.monotonic() + 30
    while status_or_none(seats["web"]) is not None:  # the web front stops with the drill
        assert time.monotonic() < deadline, "the web front outlived the drill"
        time.sleep(0.2)


def status_or_none(url: str) -> int | None:
    try:
        return fetch(url)[0]
    except (urllib.error.URLError, OSError):
        return None
