"""Stakeholder messages (injects) as they arrive; Enter replies to the highlighted one."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tabletop.drill.board import MessageView
from tabletop.tui import format as fmt
from tabletop.tui.frame import Frame
from tabletop.tui.frame_view import FrameView
from tabletop.tui.marks import mark


class MessagesList(FrameView, OptionList):
    DEFAULT_CLASSES = "panel"

    class ReplyRequested(Message):
        def __init__(self, message_id: str) -> None:
            super().__init__()
            self.message_id = message_id

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.border_title = "Messages (r: reply)"
        self._key: tuple = ()

    def show_frame(self, frame: Frame) -> None:
        key = tuple((m.id, m.replied) for m in frame.messages)
        if key == self._key:
            return
        self._key = key
        highlighted = self.highlighted
        self.set_options([Option(message_prompt(m), id=m.id) for m in reversed(frame.messages)])
        waiting = sum(1 for m in frame.messages if m.expects_reply and not m.replied)
        self.border_subtitle = f"{waiting} awaiting reply" if waiting else ""
        mark(self, "-waiting", waiting > 0)
        if frame.messages:
            self.highlighted = 0 if highlighted is None else min(highlighted, len(frame.messages) - 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.ReplyRequested(event.option.id))


def message_prompt(message: MessageView) -> Text:
    text = Text()
    if message.expects_reply and not message.replied:
        text.append(" REPLY ", style="bold black on cyan")
    elif message.replied:
        text.append(" ✓ ", style="bold green")
    text.append(f" {fmt.clock(message.at)} ", style="dim")
    text.append(message.sender, style="bold")
    text.append(f" in {message.channel}", style="dim")
    text.append(f"  [{message.id}]", style="dim")
    text.append("\n")
    text.append(message.text)
    return text
