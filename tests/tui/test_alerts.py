"""The alerts table fits its terminal: at 80 columns the summary is on screen (elided with an
ellipsis), with no horizontal scrolling; where everything fits nothing is elided."""

from __future__ import annotations

from tabletop.scenario.loader import LoadedScenario
from tabletop.tui.widgets.alerts import ALERT_MIN, SUMMARY_MIN, AlertsTable, fit_columns

from .conftest import console, new_session, run, screen_text, started


def test_fit_columns_leaves_natural_widths_when_they_fit() -> None:
    assert fit_columns([7, 30, 10, 5, 40], 92) is None
    assert fit_columns([7, 30, 10, 5, 40], 0) is None  # not laid out yet


def test_fit_columns_gives_the_summary_the_rest() -> None:
    widths = fit_columns([7, 30, 10, 5, 60], 64)
    assert widths is not None and sum(widths) <= 64
    state, alert, since, value, summary = widths
    assert (state, since) == (7, 10) and value >= 5
    assert ALERT_MIN <= alert < 30 and summary >= 20
    assert fit_columns([7, 30, 10, 5, 60], 10)[4] == SUMMARY_MIN  # type: ignore[index]


def alert_rows(loaded: LoadedScenario, size: tuple[int, int]) -> tuple[list[str], AlertsTable, list]:
    """The alerts table's lines on screen at T+00:16:30 (four alerts), and the alerts."""
    async def go() -> None:
        app = console(new_session(loaded), toasts=False)
        async with app.run_test(size=size) as pilot:
            await started(pilot)
            for t in range(30, 16 * 60 + 31, 30):
                app.advance_to(t)
            await pilot.pause()
            await pilot.press("2")
            await pilot.pause()
            await pilot.pause()
            table = app.screen.query_one("#alerts", AlertsTable)
            found.extend([screen_text(app).splitlines(), table, app.frame().alerts,
                          table.show_horizontal_scrollbar])
    found: list = []
    run(go)
    return found[0], found[1], found[2], found[3]


def test_summaries_are_on_screen_at_80_columns(loaded: LoadedScenario) -> None:
    lines, table, alerts, scrolls = alert_rows(loaded, (80, 24))
    assert len(alerts) >= 3 and not scrolls
    for alert in alerts:
        row = next(line for line in lines if f" {alert.state} " in line and alert.name[:10] in line)
        assert alert.summary[:20] in row, (alert.summary, row)
        assert alert.summary in row or "…" in row


def test_summaries_whole_where_they_fit(loaded: LoadedScenario) -> None:
    lines, table, alerts, scrolls = alert_rows(loaded, (220, 50))
    assert not scrolls
    text = "\n".join(lines)
    for alert in alerts:
        assert alert.name in text and alert.summary in text
