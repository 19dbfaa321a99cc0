"""The facilitator's screen: the clock, the next stakeholder message now, a hint, the ground
truth, and the end of the drill. Its actions are ``facilitate …`` commands, on the timeline
under the facilitator's name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Static

from tabletop.drill.session import SPEEDS
from tabletop.tui import format as fmt
from tabletop.tui.dialogs.confirm import ConfirmDialog
from tabletop.tui.frame import Frame
from tabletop.tui.keys import printable_actions, typing_into
from tabletop.tui.widgets.investigate import OutputLog
from tabletop.tui.widgets.keybar import KeyBar
from tabletop.tui.widgets.status import StatusBar
from tabletop.tui.widgets.timeline import TimelineLog

if TYPE_CHECKING:
    from tabletop.tui.app import TabletopApp

ACTIONS = (
    ("toggle_clock", "Run / pause"), ("slower", "Slower"), ("faster", "Faster"), ("inject", "Next message now"),
    ("hint", "Hint"), ("reveal", "Reveal ground truth"), ("end", "End the drill"),
)


class FacilitatorScreen(Screen[None]):
    BINDINGS = [
        Binding("space", "toggle_clock", "Run/pause", priority=True),
        Binding("plus,equals_sign", "faster", "Faster", priority=True, key_display="+"),
        Binding("minus", "slower", "Slower", priority=True, key_display="-"),
        Binding("i", "inject", "Inject now", priority=True),
        Binding("h", "hint", "Hint", priority=True),
        Binding("g", "reveal", "Ground truth", priority=True),
        Binding("E", "end", "End drill", priority=True, key_display="E"),
        Binding("f,escape", "back", "Back to drill", priority=True, key_display="f"),
    ]

    app: "TabletopApp"
    _typed = frozenset[str]()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self._typed and typing_into(self.focused):
            return False  # the key is text for the focused field
        return True

    def __init__(self) -> None:
        super().__init__(id="facilitator")

    def compose(self) -> ComposeResult:
        yield StatusBar(id="fac-status")
        with Vertical(id="fac-body"):
            yield Static("", id="fac-summary", classes="panel")
            with Horizontal(id="fac-buttons"):
                for action, label in ACTIONS:
                    yield Button(label, id=f"fac-{action}", compact=True,
                                 variant="error" if action == "end" else "default")
            output = OutputLog(id="fac-output", classes="panel")
            output.border_title = "Facilitator results"
            yield output
            timeline = TimelineLog(self.app.session.board, max_lines=200, id="fac-timeline", classes="panel")
            timeline.border_title = "Timeline"
            yield timeline
        yield KeyBar([*self.app.BINDINGS[:1], *self.BINDINGS, *self.app.BINDINGS[1:]])

    def on_mount(self) -> None:
        self.app.refresh_views()

    def show_frame(self, frame: Frame) -> None:
        self.query_one(StatusBar).show_frame(frame)
        drill = self.app.session.drill
        duration = drill.scenario.metadata.duration
        delivered = sum(1 for m in frame.messages)
        text = Text()
        text.append(f"{drill.scenario.metadata.title}\n", style="bold")
        text.append(f"{fmt.clock(frame.now)} of {fmt.clock(duration)}", style="bold")
        text.append(f" · speed {fmt.speed(frame.speed)} (offered: {', '.join(fmt.speed(s) for s in SPEEDS)})", style="dim")
        text.append(f"\nstakeholder messages delivered {delivered} of {len(drill.scenario.injects)}", style="")
        text.append(f" · pages {len(frame.pages)} · alerts firing {sum(a.state == 'firing' for a in frame.alerts)}")
        done = sum(1 for s in frame.steps if s.done)
        text.append(f" · runbook steps done {done}/{len(frame.steps)}")
        self.query_one("#fac-summary", Static).update(text)
        self.query_one("#fac-timeline", TimelineLog).sync()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        action = (event.button.id or "").removeprefix("fac-")
        getattr(self, f"action_{action}")()

    def action_toggle_clock(self) -> None:
        self.app.toggle_clock()

    def action_faster(self) -> None:
        self.app.change_speed(+1)

    def action_slower(self) -> None:
        self.app.change_speed(-1)

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

    def action_back(self) -> None:
        self.app.pop_screen()


FacilitatorScreen._typed = printable_actions(list(FacilitatorScreen.BINDINGS))
