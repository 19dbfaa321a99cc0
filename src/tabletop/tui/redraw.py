"""Redrawing cheaply. Textual lays the whole screen out again after a widget's content changes,
unless told the widget's size cannot have changed; and it renders every widget inside the
rectangle enclosing all changes, unless given the compositor below."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static


def same_shape(before: Text | None, after: Text) -> bool:
    """The same lines of the same lengths (a countdown ticking): the widget keeps its size."""
    return before is not None and [len(line) for line in before.plain.split("\n")] == [
        len(line) for line in after.plain.split("\n")]


def fixed_size(widget: Static) -> bool:
    """Its stylesheet sets both its width and height, so its content cannot change its size."""
    width, height = widget.styles.width, widget.styles.height
    return width is not None and height is not None and not width.is_auto and not height.is_auto


def show_text(widget: Static, shown: Text | None, text: Text) -> Text:
    """Put ``text`` in ``widget`` if it differs from what is ``shown``; returns what is shown now."""
    if text != shown:
        widget.update(text, layout=not fixed_size(widget) and not same_shape(shown, text))
    return text


class ChangedRegionCompositor(Compositor):
    """Textual's compositor, except that a partial update renders only the widgets overlapping a
    changed region.

    Textual renders every widget overlapping the rectangle that encloses all the changed regions.
    On the drill console the clock (the top row), the side timeline (the right column) and the
    incident panel's countdown change every tick, so that rectangle is the whole screen and every
    widget was rendered every tick. What reaches the terminal is the same: it is sent only the
    changed regions, and the front-most widget at any changed cell overlaps that cell's region.
    Relies on ``Compositor.render_partial_update`` reading ``_dirty_regions`` and rendering the
    widgets of ``visible_widgets``, whose only other reader during the update is ``cuts``
    (Textual 8.2)."""

    _changed: list[Region] | None = None

    @property
    def visible_widgets(self) -> dict[Widget, tuple[Region, Region]]:
        widgets = super().visible_widgets
        changed = self._changed
        if changed is None:
            return widgets
        return {widget: (region, clip) for widget, (region, clip) in widgets.items()
                if any(region.intersection(clip).overlaps(area) for area in changed)}

    def render_partial_update(self) -> ChopsUpdate | None:
        self.cuts  # noqa: B018 - the cells' cut points come from every visible widget: cache them before narrowing
        self._changed = list(self._dirty_regions)
        try:
            return super().render_partial_update()
        finally:
            self._changed = None


def render_changed_regions_only(screen: Screen[Any]) -> None:
    """Give a screen the compositor above (call from its ``__init__``)."""
    screen._compositor = ChangedRegionCompositor()
