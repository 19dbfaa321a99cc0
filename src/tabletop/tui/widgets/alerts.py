"""Firing and pending alerts."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from tabletop.tui import format as fmt
from tabletop.tui.frame import Frame
from tabletop.tui.frame_view import FrameView

STATE_STYLE = {"firing": "bold red", "pending": "yellow"}


class AlertsTable(FrameView, DataTable):
    DEFAULT_CLASSES = "panel"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.border_title = "Alerts"
        self._key: tuple = ()

    def on_mount(self) -> None:
        self.add_columns("state", "alert", "since", "value", "summary")

    def show_frame(self, frame: Frame) -> None:
        key = tuple((a.name, a.state, tuple(sorted(a.labels.items())), fmt.number(a.value), a.since) for a in frame.alerts)
        if key == self._key:
            return
        self._key = key
        cursor = self.cursor_row
        self.clear()
        order = sorted(frame.alerts, key=lambda a: (a.state != "firing", a.since, a.name))
        for alert in order:
            self.add_row(
                Text(alert.state, style=STATE_STYLE.get(alert.state, "")), alert.name, fmt.clock(alert.since),
                fmt.number(alert.value), alert.summary,
            )
        firing = sum(a.state == "firing" for a in frame.alerts)
        self.border_subtitle = f"{firing} firing · {len(frame.alerts) - firing} pending"
        if order:
            self.move_cursor(row=min(cursor, len(order) - 1))
