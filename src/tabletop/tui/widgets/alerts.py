"""Firing and pending alerts."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

from tabletop.drill.board import AlertView
from tabletop.tui import format as fmt
from tabletop.tui.frame import Frame
from tabletop.tui.frame_view import FrameView

STATE_STYLE = {"firing": "bold red", "pending": "yellow"}
COLUMNS = ("state", "alert", "since", "value", "summary")
VALUE_ROOM = 7
"""The value column's least width when squeezed (``.4g`` numbers are mostly this wide or less),
so a value changing does not change the widths."""
ALERT_MIN = 14
SUMMARY_MIN = 12


def fit_columns(natural: list[int], available: int) -> tuple[int, ...] | None:
    """Column widths (without padding) for ``available`` cells of content, or None when every
    column fits at its natural width. Squeezed, state, since and value keep theirs, the alert's
    name gets two fifths of what is left (at least ``ALERT_MIN``, at most its own) and the
    summary the rest (elided with an ellipsis, never under ``SUMMARY_MIN``)."""
    if available <= 0 or sum(natural) <= available:
        return None
    state, alert, since, value, summary = natural
    value = max(value, VALUE_ROOM)
    room = available - state - since - value
    alert = min(alert, max(ALERT_MIN, room * 2 // 5))
    summary = min(summary, max(SUMMARY_MIN, room - alert))
    return state, alert, since, value, summary


def natural_widths(cells: list[tuple]) -> list[int]:
    widths = [cell_len(column) for column in COLUMNS]
    for row in cells:
        widths = [max(width, cell_len(value.plain if isinstance(value, Text) else str(value)))
                  for width, value in zip(widths, row)]
    return widths


class AlertsTable(FrameView, DataTable):
    DEFAULT_CLASSES = "panel"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.border_title = "Alerts"
        self._rows: list[tuple] = []
        self._cells: dict[tuple, tuple] = {}
        self._widths: tuple[int, ...] | None = None
        self._subtitle = ""

    def on_mount(self) -> None:
        self._add_columns(None)

    def _add_columns(self, widths: tuple[int, ...] | None) -> None:
        for index, column in enumerate(COLUMNS):
            self.add_column(column, key=column, width=None if widths is None else widths[index])
        self._widths = widths

    def _fit(self, cells: dict[tuple, tuple]) -> tuple[int, ...] | None:
        """The widths the table's width asks for (room kept for a vertical scrollbar)."""
        available = (self.content_region.width - self.styles.scrollbar_size_vertical
                     - 2 * self.cell_padding * len(COLUMNS))
        return fit_columns(natural_widths(list(cells.values())), available)

    def on_resize(self) -> None:
        if self._fit(self._cells) != self._widths:
            self._rebuild(self._cells)

    def show_frame(self, frame: Frame) -> None:
        """Rebuild the table when alerts come, go or change order, or when the columns must be
        narrowed to fit; otherwise update the cells that changed in place (a rebuild makes the
        screen lay itself out again)."""
        order = sorted(frame.alerts, key=lambda a: (a.state != "firing", a.since, a.name))
        rows = [(alert.name, tuple(sorted(alert.labels.items()))) for alert in order]
        cells = {row: alert_cells(alert) for row, alert in zip(rows, order)}
        if rows == self._rows and self._fit(cells) == self._widths:
            for row, values in cells.items():
                for column, value, before in zip(COLUMNS, values, self._cells[row]):
                    if value != before:
                        self.update_cell(str(row), column, value, update_width=self._widths is None)
        else:
            self._rebuild(cells)
        self._rows, self._cells = rows, cells
        firing = sum(a.state == "firing" for a in frame.alerts)
        subtitle = f"{firing} firing · {len(frame.alerts) - firing} pending"
        if subtitle != self._subtitle:  # setting a border title repaints the whole table, every tick
            self._subtitle = self.border_subtitle = subtitle

    def _rebuild(self, cells: dict[tuple, tuple]) -> None:
        cursor = self.cursor_row
        widths = self._fit(cells)
        self.clear(columns=widths != self._widths)
        if not self.columns:
            self._add_columns(widths)
        for row, values in cells.items():
            self.add_row(*values, key=str(row), height=1)
        if cells:
            self.move_cursor(row=min(cursor, len(cells) - 1))


def alert_cells(alert: AlertView) -> tuple:
    """Plain text cells (a name or summary is never read as markup); one line each, elided."""
    return (Text(alert.state, style=STATE_STYLE.get(alert.state, "")), elided(alert.name),
            fmt.clock(alert.since), fmt.number(alert.value), elided(alert.summary))


def elided(text: str) -> Text:
    return Text(text, no_wrap=True, overflow="ellipsis", end="")
