"""The facilitator's screen: the clock, the stakeholder messages still to come and skipping
ahead to them, the next message now, a hint, the ground truth, and the end of the drill. Its
actions are ``facilitate …`` commands, on the timeline under the facilitator's name; skipping
ahead only moves the clock (``DrillSession.advance_to``), as a faster clock would, and is
refused (with the reason shown) when the drill runs on a live stack's wall clock. When the
drill is served (``drill --serve``), the seats too: each participant's seat and how it is, and
removing one (``r``): its token is refused from then on, its console closes, and the new token
that lets the person back in is shown here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from tabletop.drill.board import UpcomingView
from tabletop.drill.session import SPEEDS
from tabletop.durations import parse_duration
from tabletop.seats.server import CONNECTED, LAST_SEEN, REMOVED
from tabletop.seats.tokens import join_command
from tabletop.tui import format as fmt
from tabletop.tui.clock import SKIP_AMOUNTS, SKIP_LEAD, ClockKeys, next_message_stop
from tabletop.tui.dialogs.choice import ChoiceDialog
from tabletop.tui.dialogs.confirm import ConfirmDialog
from tabletop.tui.frame import Frame
from tabletop.tui.keys import TypingScreen
from tabletop.tui.redraw import render_changed_regions_only
from tabletop.tui.widgets.investigate import OutputLog
from tabletop.tui.widgets.keybar import KeyBar
from tabletop.tui.widgets.status import StatusBar
from tabletop.tui.widgets.timeline import TimelineLog

if TYPE_CHECKING:
    from tabletop.tui.app import TabletopApp

BUTTON_ROWS = (
    (("toggle_clock", "Run / pause"), ("slower", "Slower"), ("faster", "Faster"),
     ("skip_next", "Skip to next message"), ("skip", "Skip ahead…")),
    (("inject", "Next message now"), ("hint", "Hint"), ("reveal", "Reveal ground truth"), ("end", "End the drill")),
)


class FacilitatorScreen(ClockKeys, TypingScreen):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (150, "-wide")]
    """The facilitator's results above the timeline, or beside it."""
    BINDINGS = [
        Binding("space", "toggle_clock", "Run/pause", priority=True),
        Binding("plus,equals_sign", "faster", "Faster", priority=True, key_display="+"),
        Binding("minus", "slower", "Slower", priority=True, key_display="-"),
        Binding("n", "skip_next", "Skip to next message", priority=True,
                tooltip="move the clock to just before the next scheduled stakeholder message"),
        Binding("s", "skip", "Skip ahead", priority=True, tooltip="move the clock on by a chosen amount, +1m to +1h"),
        Binding("i", "inject", "Inject now", priority=True),
        Binding("h", "hint", "Hint", priority=True),
        Binding("g", "reveal", "Ground truth", priority=True),
        Binding("E", "end", "End drill", priority=True, key_display="E"),
        Binding("r", "remove_seat", "Remove a seat", priority=True,
                tooltip="a served drill's seat: its token is refused from then on and a new one shown"),
        Binding("f,escape", "back", "Back to drill", priority=True, key_display="f"),
    ]

    app: "TabletopApp"

    def __init__(self) -> None:
        super().__init__(id="facilitator")
        render_changed_regions_only(self)

    def compose(self) -> ComposeResult:
        yield StatusBar(id="fac-status")
        with Vertical(id="fac-body"):
            yield Static("", id="fac-summary", classes="panel")
            upcoming = Static("", id="fac-upcoming", classes="panel")
            upcoming.border_title = "Upcoming messages"
            yield upcoming
            if self.app.seat_server is not None:
                seats = Static("", id="fac-seats", classes="panel")
                seats.border_title = "Seats"
                seats.border_subtitle = "r: remove a seat"
                yield seats
            with Vertical(id="fac-buttons"):
                for row in BUTTON_ROWS:
                    with Horizontal(classes="fac-button-row"):
                        for action, label in row:
                            yield Button(label, id=f"fac-{action}", compact=True,
                                         variant="error" if action == "end" else "default")
            with Horizontal(id="fac-logs"):
                output = OutputLog(wrap=True, id="fac-output", classes="panel")
                output.border_title = "Facilitator results"
                yield output
                timeline = TimelineLog(self.app.session.board, max_lines=200, id="fac-timeline", classes="panel")
                timeline.border_title = "Timeline"
                yield timeline
        yield KeyBar([*self.app.BINDINGS[:1], *self.keys(served=self.app.seat_server is not None),
                      *self.app.BINDINGS[1:]])

    @classmethod
    def keys(cls, *, served: bool) -> list[Binding]:
        """The screen's keys (removing a seat only when the drill is served)."""
        return [b for b in cls.BINDINGS if isinstance(b, Binding) and (served or b.action != "remove_seat")]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "remove_seat":
            return self.app.seat_server is not None
        return super().check_action(action, parameters)

    def on_mount(self) -> None:
        self.show_frame(self.app.frame())  # the app skips screens still mounting
        if self.app.seat_server is not None:
            self.set_interval(1.0, self._show_seats)  # seats come and go while the clock stands still

    def show_frame(self, frame: Frame) -> None:
        self.query_one(StatusBar).show_frame(frame)
        drill = self.app.session.drill
        duration = drill.scenario.metadata.duration
        text = Text()
        text.append(f"{drill.scenario.metadata.title}\n", style="bold")
        text.append(f"{fmt.clock(frame.now)} of {fmt.clock(duration)}", style="bold")
        text.append(f" · speed {fmt.speed(frame.speed)} (offered: {', '.join(fmt.speed(s) for s in SPEEDS)})", style="dim")
        text.append(f"\nmessages delivered {len(frame.messages)}/{len(drill.scenario.injects)}")
        text.append(f" · pages {len(frame.pages)} · alerts firing {sum(a.state == 'firing' for a in frame.alerts)}")
        done = sum(1 for s in frame.steps if s.done)
        text.append(f" · runbook steps done {done}/{len(frame.steps)}")
        self.query_one("#fac-summary", Static).update(text)
        self._show_upcoming(frame.now)
        self._show_seats()
        self.query_one("#fac-timeline", TimelineLog).sync()

    def _show_seats(self) -> None:
        server = self.app.seat_server
        if server is None:
            return
        self.query_one("#fac-seats", Static).update(seats_text(server.seats()))

    def _show_upcoming(self, now: float) -> None:
        upcoming = self.app.session.board.upcoming_messages()
        panel = self.query_one("#fac-upcoming", Static)
        stop = next_message_stop(now, upcoming)
        panel.border_subtitle = f"n: skip to {fmt.clock(stop[0])}" if stop else ""
        text = Text()
        for index, message in enumerate(upcoming):
            if index:
                text.append("\n")
            text.append_text(upcoming_line(message, now))
        panel.update(text or Text("every message has been delivered", style="dim"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        action = (event.button.id or "").removeprefix("fac-")
        getattr(self, f"action_{action}")()

    def action_skip_next(self) -> None:
        stop = next_message_stop(self.app.session.now, self.app.session.board.upcoming_messages())
        if stop is None:
            self._log_skip("no stakeholder message is scheduled ahead", ok=False)
            return
        t, message = stop
        self._skip_to(t, f"{message.id} is due at {fmt.clock(t + SKIP_LEAD)}")

    def action_skip(self) -> None:
        if not self.app.may_skip():
            return
        now = self.app.session.now
        duration = self.app.session.drill.scenario.metadata.duration
        choices = [(skip_label(amount, now, duration), amount) for amount in SKIP_AMOUNTS]
        note = (f"The clock moves on at once and everything due on the way happens: messages, alerts, pages, "
                f"escalations. The drill ends at {fmt.clock(duration)}.")

        def skip(amount: str | None) -> None:
            if amount is not None:
                self._skip_to(self.app.session.now + parse_duration(amount), f"+{amount}")
        self.app.push_screen(ChoiceDialog("Skip ahead", choices, note=note, selected="5m", ok_label="Skip"), skip)

    def _skip_to(self, t: float, why: str) -> None:
        session = self.app.session
        if not self.app.may_skip():
            return
        target = min(t, session.drill.scenario.metadata.duration)
        self._log_skip(f"{fmt.clock(session.now)} → {fmt.clock(target)} ({why})", ok=True)
        self.app.advance_to(target)  # reaching the duration ends the drill and shows its score

    def _log_skip(self, message: str, *, ok: bool) -> None:
        output = self.query_one("#fac-output", OutputLog)
        output.write(Text.assemble(("skip ahead ", "bold cyan"), (message, "" if ok else "bold red")))
        output.write(Text(""))
        if not ok:
            self.app.notify(message, title="skip ahead", severity="warning", timeout=6)

    def _facilitate(self, action: str) -> None:
        result = self.app.facilitate(action)
        self.query_one("#fac-output", OutputLog).show_result(f"facilitate {action}", "facilitator", result)

    def action_inject(self) -> None:
        self._facilitate("inject")

    def action_hint(self) -> None:
        self._facilitate("hint")

    def action_reveal(self) -> None:
        self._facilitate("reveal")

    def action_end(self) -> None:
        def end(_: object) -> None:
            self.app.end_drill("facilitator")
        self.app.push_screen(ConfirmDialog("End the drill now?", [],
                                           note="The drill is scored and the postmortem drafted; participants can "
                                                "no longer act once it has ended.",
                                           ok_label="End drill"),
                             lambda ok: end(ok) if ok else None)

    def action_remove_seat(self) -> None:
        server = self.app.seat_server
        if server is None:
            return
        choices = [(f"{participant:<12} {state}", participant) for participant, state in server.seats()]

        def confirm(participant: str | None) -> None:
            if participant is None:
                return
            note = ("Their token is refused from now on and their console closes. A new token is shown here: "
                    "give it to them to let them back in.")
            self.app.push_screen(ConfirmDialog(f"Remove {participant}'s seat?", [], note=note, ok_label="Remove seat"),
                                 lambda ok: self._remove_seat(participant) if ok else None)

        self.app.push_screen(ChoiceDialog("Remove a seat", choices, ok_label="Next"), confirm)

    def _remove_seat(self, participant: str) -> None:
        server = self.app.seat_server
        assert server is not None
        unsaved = ""
        try:
            token = server.remove(participant)
        except OSError as error:
            token = server.tokens.tokens[participant]
            unsaved = f" (not saved to seats.json: {error.strerror or error})"
        join = join_command(server.url, participant, token)
        output = self.query_one("#fac-output", OutputLog)
        output.write(Text.assemble(("remove seat ", "bold cyan"), f"{participant}'s seat is closed; to let them "
                                   f"back in{unsaved}:"))
        output.write(Text(f"  {join}", style="bold"))
        browser = server.tokens.browser_link(participant)
        if browser is not None:
            output.write(Text.assemble("  or in a browser: ", (browser, "bold")))
        output.write(Text(""))
        self.app.notify(f"{participant}'s seat is closed; their new token is in the facilitator results",
                        title="remove seat", timeout=6)
        self._show_seats()

    def action_back(self) -> None:
        self.app.pop_screen()


def seats_text(seats: list[tuple[str, str]]) -> Text:
    """The seats grouped by how they are, one line per state (a room of eight fits in a few
    lines of an 80x24 screen): connected, away (how long ago each was last seen), not joined,
    removed."""
    groups: dict[str, list[str]] = {"connected": [], "away": [], "not joined": [], "removed": []}
    for participant, state in seats:
        if state == CONNECTED:
            groups["connected"].append(participant)
        elif state.startswith(LAST_SEEN):
            groups["away"].append(f"{participant} {state.removeprefix(LAST_SEEN)}")
        elif state == REMOVED:
            groups["removed"].append(participant)
        else:
            groups["not joined"].append(participant)
    text = Text()
    for label, names in groups.items():
        if names:
            if text:
                text.append("\n")
            text.append(f"{label:<11}", style="green" if label == "connected" else "bold")
            text.append(", ".join(names), style="" if label == "connected" else "dim")
            if label == "removed":
                text.append(" (a new token lets them back in)", style="dim")
    return text


def upcoming_line(message: UpcomingView, now: float) -> Text:
    """When a message is due (a time and the time left, or its condition), and who sends it."""
    text = Text()
    if message.at is not None:
        text.append(f"{fmt.clock(message.at)} in {fmt.countdown(message.at - now):<8}", style="bold")
    else:
        text.append(f"{'on condition':<22}", style="bold yellow")
    text.append(f" {message.sender}")
    text.append(f" [{message.id}]", style="dim")
    if message.condition is not None:
        start = f", from {fmt.clock(message.after)}" if message.after > now else ""
        text.append(f"\n  when {message.condition}{start}", style="dim")
    return text


def skip_label(amount: str, now: float, duration: float) -> str:
    target = now + parse_duration(amount)
    end = ", the end of the drill" if target >= duration else ""
    return f"+{amount:<4} to {fmt.clock(min(target, duration))}{end}"

