"""Views draw the drill's frames only while they are displayed.

A hidden view (on an inactive tab, or in the side column of a narrow terminal) keeps the newest
frame instead and draws it when it is shown again: redrawing what nobody sees cost the console
layouts of the whole screen whenever a hidden panel changed size."""

from __future__ import annotations

from textual.dom import DOMNode

from tabletop.tui.frame import Frame


def is_displayed(node: DOMNode) -> bool:
    """Neither the node nor any of its ancestors is ``display: none``."""
    return all(each.display for each in node.ancestors_with_self)


class FrameView:
    """Mixin for a widget with ``show_frame(frame)``; the screen calls ``offer_frame``."""

    _missed: Frame | None = None

    def show_frame(self, frame: Frame) -> None:
        raise NotImplementedError

    def offer_frame(self, frame: Frame) -> None:
        if is_displayed(self):  # type: ignore[arg-type]
            self._missed = None
            self.show_frame(frame)
        else:
            self._missed = frame

    def on_show(self) -> None:
        frame, self._missed = self._missed, None
        if frame is not None:
            self.show_frame(frame)
