"""The command bar (``:``): any command line of the command language, run as you."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Input

from tabletop.drill.command_line import COMMANDS


class CommandBar(Input):
    BINDINGS = [
        Binding("escape", "close", "Close", show=False),
        Binding("up", "history(-1)", "Previous command", show=False),
        Binding("down", "history(1)", "Next command", show=False),
    ]

    class Run(Message):
        def __init__(self, line: str) -> None:
            super().__init__()
            self.line = line

    class Closed(Message):
        pass

    def __init__(self, **kwargs: object) -> None:
        words = sorted(COMMANDS) + ["kubectl"]
        super().__init__(
            placeholder=": ack · note … · query … · get pods · mitigate drain node/… · kubectl … (Esc closes)",
            suggester=SuggestFromList(words, case_sensitive=True), **kwargs,  # type: ignore[arg-type]
        )
        self.history: list[str] = []
        self._back = 0

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        line = event.value.strip()
        self.value = ""
        self._back = 0
        if line:
            self.history.append(line)
            self.post_message(self.Run(line))
        self.action_close()

    def action_history(self, step: int) -> None:
        """Walk back (-1) and forth (1) through the lines run from this bar."""
        if not self.history:
            return
        self._back = max(0, min(len(self.history), self._back - step))
        self.value = self.history[-self._back] if self._back else ""
        self.cursor_position = len(self.value)

    def action_close(self) -> None:
        self.post_message(self.Closed())
