"""The drill console application.

``TabletopApp(session)`` shows a ``DrillSession``: a timer (``refresh_hz``, 4–10 Hz) moves
virtual time on from wall time × speed and redraws from one read of the board. Every action
is a command line given to ``session.execute`` in the name of the participant you act as.

For tests and snapshots: ``live_clock=False`` runs no clock at all (virtual time moves only
when the test calls ``session.advance_to`` or ``app.advance_to``) and nothing on screen
depends on real time."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding
from textual.message import Message

from tabletop.drill.commands import CommandResult
from tabletop.drill.outputs import Outputs
from tabletop.drill.session import ClockRefused, DrillSession
from tabletop.tui.clock import DrillClock, faster, slower
from tabletop.tui.format import clip
from tabletop.tui.frame import Frame, FrameSource
from tabletop.tui.keys import typing_into
from tabletop.tui.screens.end import EndScreen
from tabletop.tui.screens.facilitator import FacilitatorScreen
from tabletop.tui.screens.help import HelpScreen
from tabletop.tui.screens.main import MainScreen

if TYPE_CHECKING:
    from tabletop.seats.server import SeatServer

DEFAULT_REFRESH_HZ = 5.0
GC_THRESHOLD = (20_000, 20, 10)
"""Collector thresholds while the console runs: Textual keeps ~100k small objects per screen of
rendered lines, and full collections with Python's defaults (700, 10, 10) stall ticks for
100-200 ms; these make them rare (benchmarks/console.py measures the effect)."""


class News(Message):
    """The session has news from another thread (a joined seat's feed): apply it and redraw now."""


class TabletopApp(App[None]):
    CSS_PATH = "tabletop.tcss"
    TITLE = "tabletop drill"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("question_mark", "help", "Help", priority=True, key_display="?"),
        Binding("ctrl+q", "quit", "Quit (the drill stays resumable)", priority=True),
    ]

    def __init__(self, session: DrillSession, *, acting_as: str | None = None, live_clock: bool = True,
                 refresh_hz: float = DEFAULT_REFRESH_HZ, wall: Callable[[], float] = time.monotonic,
                 notices: list[str] | None = None, toasts: bool = True,
                 on_tick: list[Callable[[], None]] | None = None, seat: bool = False,
                 seat_server: "SeatServer | None" = None) -> None:
        """``acting_as``: the participant commands are run as (default: the first one).
        ``live_clock``: run the wall-clock timer; without it virtual time only moves when told.
        ``refresh_hz``: redraws per second (4-10). ``wall``: the wall-clock source of the live clock.
        ``notices``: shown once the console is up. ``toasts``: pop-up notifications (command results,
        pages, messages, hints); off, they only go to the console transcript and the panels.
        ``on_tick``: called at every tick after the clock moved, in the drill's thread (e.g. the
        Kubernetes twin's ``serve``). ``seat``: a joined seat of a multi-seat drill
        (``tabletop join``): it acts only as ``acting_as`` and has no facilitator screen.
        ``seat_server``: the seat server beside this console (``drill --serve``): the facilitator's
        screen lists its seats and removes one."""
        super().__init__()
        participants = [p.id for p in session.drill.scenario.participants]
        if acting_as is not None and acting_as not in participants:
            raise ValueError(f"{acting_as!r} is not a participant; participants: {', '.join(participants)}")
        self.session = session
        self.acting_as = acting_as or (participants[0] if participants else "")
        self.live_clock = live_clock
        self.refresh_hz = min(10.0, max(4.0, refresh_hz))
        self.clock = DrillClock(session, wall) if live_clock else None
        self.frames = FrameSource(session)
        self.flash = False
        self.notices = list(notices or [])
        self.toasts = toasts
        self.on_tick = list(on_tick or [])
        self.seat = seat
        self.seat_server = seat_server
        self.main = MainScreen()
        self.end_outputs: Outputs | None = None
        self._end_shown = False
        self._end_reason = ""
        self._ticks = 0
        self._drawn: tuple = ()
        self._last_frame: Frame | None = None
        self._announced = len(session.drill.timeline.events)
        self._gc_threshold = gc.get_threshold()

    def notify(self, message: str, *, title: str = "", severity: str = "information",  # type: ignore[override]
               timeout: float | None = None, markup: bool = False) -> None:
        """Toasts, unless switched off; never Textual markup (people type brackets)."""
        if self.toasts:
            super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)  # type: ignore[arg-type]

    # lifecycle -------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "help" and (typing_into(self.focused) or isinstance(self.screen, HelpScreen)):
            return False  # the key is text, or the help screen's own "close"
        return True

    def on_mount(self) -> None:
        self._gc_threshold = gc.get_threshold()
        gc.freeze()  # what exists now (scenario, fleet, widgets) is never garbage: stop scanning it
        gc.set_threshold(*GC_THRESHOLD)
        self.push_screen(self.main)
        self.set_interval(1 / self.refresh_hz, self.tick, name="drill-clock")
        for notice in self.notices:
            self.notify(notice, timeout=6)

    def on_unmount(self) -> None:
        gc.set_threshold(*self._gc_threshold)
        gc.unfreeze()

    def tick(self) -> None:
        """One timer tick: move the clock (when live), then redraw."""
        if self.clock is not None:
            try:
                self.clock.tick()
            except OSError as error:  # the drill reached its end but its outputs could not be written
                self.notify(f"could not write the drill's outputs: {error.strerror or error}", severity="error",
                            timeout=30)
            self._ticks += 1
            paging = self._last_frame is not None and bool(self._last_frame.triggered)
            self.flash = paging and (self._ticks // 3) % 2 == 1
        for service in self.on_tick:
            service()
        self.refresh_views(force=False)

    def news(self) -> None:
        """From any thread: the session has news (a seat's feed brought ops or the clock); the
        console applies it and redraws at once instead of at its next tick."""
        if self.is_running:
            self.post_message(News())

    def on_news(self, _: News) -> None:
        self.session.advance(0.0)  # a replica applies its feed; a drill's own clock does not move
        self.refresh_views(force=False)

    def frame(self) -> Frame:
        return self.frames.take(self.acting_as, self.flash and self.live_clock)

    def refresh_views(self, *, force: bool = True) -> None:
        """Redraw every screen that shows the drill from one read of the board (a timer tick
        with nothing new — same time, events, clock and person — draws nothing)."""
        if not self.screen_stack:
            return
        session = self.session
        key = (session.now, len(session.drill.timeline.events), session.paused, session.speed, self.acting_as,
               self.flash, len(self.screen_stack))
        if not force and key == self._drawn:
            return
        self._drawn = key
        self._announce()
        frame = self._last_frame = self.frame()
        for screen in self.screen_stack:
            show = getattr(screen, "show_frame", None)
            if show is not None and screen.is_mounted:
                show(frame)
        if self.session.ended and not self._end_shown:
            self.end_drill("duration")

    def _announce(self) -> None:
        """Pages, escalations, stakeholder messages and hints that just happened, as alerts on screen."""
        events = self.session.drill.timeline.events
        new, self._announced = events[self._announced:], len(events)
        for event in new:
            data = event.data
            if event.kind == "page.triggered":
                self.notify(f"{data.get('page')}: {data.get('title', '')}", title="PAGE", severity="error", timeout=12)
            elif event.kind == "page.escalated":
                self.notify(f"{data.get('page')} escalated to level {data.get('to_level')} ({data.get('reason')})",
                            title="PAGE ESCALATED", severity="error", timeout=12)
            elif event.kind == "inject.delivered":
                self.notify(clip(str(data.get("message", "")), 160), title=f"Message from {data.get('from')}",
                            severity="warning", timeout=15)
            elif event.kind == "hint":
                self.notify(str(data.get("text", "")), title="Hint from the facilitator", timeout=15)

    def advance_to(self, t: float) -> bool:
        """Jump virtual time to ``t`` and redraw (tests; the facilitator's fast-forward); False
        (and the reason shown) when the clock refuses."""
        if not self._on_clock(lambda: self.session.advance_to(t)):
            return False
        self.refresh_views()
        return True

    # commands ----------------------------------------------------------------------------------
    def execute(self, line: str, actor: str | None = None) -> CommandResult:
        """Run one command line in the name of ``actor`` (default: who you act as) and show the result."""
        actor = actor or self.acting_as
        if self.session.ended:
            result = CommandResult(False, "the drill has ended: its timeline, score and postmortem are final")
            self.show_result(line, actor, result)
            return result
        result = self.session.execute(actor, line)
        self._share()
        self.show_result(line, actor, result)
        self.refresh_views()
        return result

    def facilitate(self, action: str) -> CommandResult:
        if self.session.ended:
            result = CommandResult(False, "the drill has ended")
            self.show_result(f"facilitate {action}", "facilitator", result)
            return result
        result = self.session.facilitate(action)
        self._share()
        self.show_result(f"facilitate {action}", "facilitator", result)
        self.refresh_views()
        return result

    def _share(self) -> None:
        """A served drill's seats get what this console just did at once, not at its next tick."""
        if self.seat_server is not None:
            self.seat_server.serve()

    def show_result(self, line: str, actor: str, result: CommandResult) -> None:
        if result.ok:
            self.notify(result.message, title=f"{actor}$ {line}"[:60], timeout=4)
        else:
            self.notify(result.message, title=f"refused: {line}"[:60], severity="warning", timeout=8)
        if self.main.is_mounted:
            self.main.console_output().show_result(line, actor, result)

    def may_switch_acting_as(self) -> bool:
        """Whether ``p`` may switch who you act as (not on a joined seat: the reason is shown)."""
        if self.seat:
            self.notify(f"This seat acts as {self.acting_as} only: each participant joins with their own seat.",
                        severity="warning", timeout=6)
        return not self.seat

    def set_acting_as(self, who: str) -> None:
        if not self.may_switch_acting_as():
            return
        self.acting_as = who
        self.notify(f"Acting as {who}: commands are now on the timeline in this name.", timeout=3)
        self.refresh_views()

    # clock -------------------------------------------------------------------------------------
    def toggle_clock(self) -> None:
        if self.session.ended:
            return
        if self.session.paused and self.session.live_clock_pending:
            self.notify("starting the live stack's clock…", timeout=4)
            self.set_timer(0.1, self._start_clock)  # the notice shows first: the start blocks a second or two
            return
        self._on_clock(self.session.resume if self.session.paused else self.session.pause)
        self.refresh_views()

    def _start_clock(self) -> None:
        if self.session.paused and not self.session.ended:
            self._on_clock(self.session.resume)
            self.refresh_views()

    def change_speed(self, direction: int) -> None:
        speed = faster(self.session.speed) if direction > 0 else slower(self.session.speed)
        self._on_clock(lambda: self.session.set_speed(speed))
        self.refresh_views()

    def may_skip(self) -> bool:
        """Whether the clock can skip ahead (else the reason is shown), before asking how far."""
        return self._on_clock(self.session.check_skip)

    def _on_clock(self, change: Callable[[], None]) -> bool:
        """Do what was asked of the session's clock; when it refuses, say why."""
        try:
            change()
            self._share()
        except ClockRefused as refused:
            self.notify(str(refused), title="the clock", severity="warning", timeout=8)
            return False
        return True

    # screens -----------------------------------------------------------------------------------
    def show_facilitator(self) -> None:
        """The facilitator's screen; once the drill has ended, its score and postmortem again (on
        a joined seat only those: the facilitator's screen is the facilitator's console's)."""
        if self.seat and self.end_outputs is None:
            self.notify("The facilitator's screen is on the facilitator's console only.", severity="warning",
                        timeout=6)
            return
        if self.end_outputs is not None:
            if not isinstance(self.screen, EndScreen):
                self.push_screen(EndScreen(self.end_outputs, self._end_reason))
        elif not isinstance(self.screen, FacilitatorScreen):
            self.push_screen(FacilitatorScreen())

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def end_drill(self, reason: str = "facilitator") -> Outputs | None:
        """End the drill (scored, postmortem drafted, files written) and show the result."""
        self._end_shown = True
        try:
            outputs = self.session.end(reason)
        except OSError as error:
            self.notify(f"could not write the drill's outputs: {error.strerror or error}", severity="error",
                        timeout=30)
            return None
        self.end_outputs = outputs
        ended = next((e for e in reversed(self.session.drill.timeline.events) if e.kind == "drill.ended"), None)
        shown_reason = str(ended.data.get("reason", reason)) if ended else reason
        while self.screen is not self.main and len(self.screen_stack) > 2:
            self.pop_screen()  # the facilitator's screen, an open dialog: the end is shown over the drill
        self._end_reason = shown_reason
        self.push_screen(EndScreen(outputs, shown_reason))
        return outputs

    @property
    def timeline_path(self) -> Path | None:
        return self.session.drill.timeline.path
