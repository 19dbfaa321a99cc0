"""Firing and pending alerts."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from tabletop.drill.board import AlertView
from tabletop.tui import format as fmt
from tabletop.tui.frame import Frame
from tabletop.tui.frame_view import FrameView

STATE_STYLE = {"firing": "bold red", "pending": "yellow"}
COLUMNS = ("state", "alert", "since", "value", "summary")


class AlertsTable(FrameView, DataTable):
    DEFAULT_CLASSES = "panel"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.border_title = "Alerts"
        self._rows: list[tuple] = []
        self._cells: dict[tuple, tuple] = {}

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(column, key=column)

    def show_frame(self, frame: Frame) -> None:
        """Rebuild the table when alerts come, go or change order; otherwise update the cells that
        changed in place (a rebuild makes the screen lay itself out again)."""
        order = sorted(frame.alerts, key=lambda a: (a.state != "firing", a.since, a.name))
        rows = [(alert.name, tuple(sorted(alert.labels.items()))) for alert in order]
        cells = {row: alert_cells(alert) for row, alert in zip(rows, order)}
        if rows == self._rows:
            for row, values in cells.items():
                for column, value, before in zip(COLUMNS, values, self._cells[row]):
                    if value != before:
                        self.update_cell(str(row), column, value, update_width=True)
        else:
            cursor = self.cursor_row
            self.clear()
            for row, values in cells.items():
                self.add_row(*values, key=str(row))
            if order:
                self.move_cursor(row=min(cursor, len(order) - 1))
        self._rows, self._cells = rows, cells
        firing = sum(a.state == "firing" for a in frame.alerts)
        self.border_subtitle = f"{firing} firing · {len(frame.alerts) - firing} pending"


def alert_cells(alert: AlertView) -> tuple:
    return (Text(alert.state, style=STATE_STYLE.get(alert.state, "")), alert.name, fmt.clock(alert.since),
            fmt.number(alert.value), alert.summary)
