"""Global keys and typing.

Textual drops a screen's printable-key bindings while a text field has focus, but not for keys
it cannot map back to a character (``minus``, ``plus``, ``slash``); ``check_action`` of the
screens uses ``typing_into`` so that those characters reach the field too."""

from __future__ import annotations

from textual.binding import Binding, BindingType
from textual.keys import format_key
from textual.screen import Screen
from textual.widget import Widget


def key_label(binding: Binding) -> str:
    """How a binding's key is written for people: ``space``, ``+``, ``^q``."""
    if binding.key_display:
        return binding.key_display
    return "/".join(format_key(k.strip()) for k in binding.key.split(","))


def typing_into(widget: Widget | None) -> bool:
    """Whether ``widget`` takes printable keys (an Input, a TextArea, a Select's search)."""
    return widget is not None and widget.check_consume_key("a", "a")


def printable_actions(bindings: list[BindingType]) -> frozenset[str]:
    """Actions bound to keys without a modifier (letters, digits, punctuation, space)."""
    found = set()
    for binding in bindings:
        if isinstance(binding, Binding):
            keys = [k.strip() for k in binding.key.split(",")]
            if any("+" not in k and k not in ("escape", "enter", "tab", "up", "down", "left", "right") for k in keys):
                found.add(binding.action)
    return frozenset(found)


class TypingScreen(Screen[None]):
    """A screen whose bindings on printable keys give way to a focused text field."""

    _typed = frozenset[str]()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)  # type: ignore[arg-type]
        cls._typed = printable_actions(list(cls.BINDINGS))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self._typed and typing_into(self.focused):
            return False  # the key is text for the focused field
        return True
