"""Helpers for driving the drill console with the Pilot (no pytest-asyncio: each test runs
its own event loop)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual import events

from tabletop.drill.session import DrillSession
from tabletop.scenario.loader import LoadedScenario, load_scenario

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"


@pytest.fixture(scope="session")
def loaded() -> LoadedScenario:
    return load_scenario(BUNDLED)


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())


async def wait_for(pilot, condition: Callable[[], bool], tries: int = 50) -> None:
    """Let the app process events until ``condition`` holds."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause()
    assert condition(), "the console did not get there"


async def type_text(pilot, text: str) -> None:
    """Key by key (for short text: every key press costs the Pilot ~60 ms)."""
    await pilot.press(*text)


async def paste(pilot, text: str) -> None:
    """Into the focused field, as a terminal's bracketed paste delivers it."""
    focused = pilot.app.focused
    assert focused is not None, "nothing has focus to paste into"
    focused.post_message(events.Paste(text))
    await pilot.pause()


def screen_text(app) -> str:
    """What the terminal shows, as plain text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def console(session: DrillSession, **kwargs: object):
    """The app as tests run it: no live clock, no animations (deterministic, fast)."""
    from tabletop.tui import TabletopApp

    kwargs.setdefault("acting_as", "alice")
    kwargs.setdefault("live_clock", False)
    app = TabletopApp(session, **kwargs)  # type: ignore[arg-type]
    app.animation_level = "none"
    return app


async def started(pilot) -> None:
    from tabletop.tui.screens.main import MainScreen

    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MainScreen) and pilot.app.screen.is_ready)


def new_session(loaded: LoadedScenario, seed: int = 4, out_dir: Path | None = None) -> DrillSession:
    return DrillSession.start(loaded, seed=seed, out_dir=out_dir, scenario_label="scenarios/serving-gpu-node-failure.yaml")
