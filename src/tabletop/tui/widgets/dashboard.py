"""The scenario's key indicators as sparklines with their thresholds, and the SLOs' burn."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Sparkline, Static

from tabletop.signals.indicators import Indicator
from tabletop.tui import format as fmt
from tabletop.tui.frame import Frame
from tabletop.tui.marks import mark

BAR = 20


class IndicatorRow(Horizontal):
    DEFAULT_CLASSES = "indicator"

    def __init__(self, indicator: Indicator) -> None:
        super().__init__()
        self.indicator = indicator
        self._last: tuple | None = None

    def compose(self) -> ComposeResult:
        self.label = Static("", classes="indicator-label")
        self.spark = Sparkline([], summary_function=max, classes="indicator-spark")
        yield self.label
        yield self.spark

    def show(self) -> None:
        if not self.is_mounted or not self.children:
            return  # not composed yet
        indicator = self.indicator
        points = indicator.points
        last = (len(points), points[-1] if points else None)
        if last == self._last:
            return
        self._last = last
        latest = indicator.latest
        breached = indicator.breached(latest)
        label = Text(no_wrap=True, overflow="ellipsis")
        label.append(indicator.title, style="bold red" if breached else "bold")
        label.append("\n")
        label.append(fmt.number(latest), style="bold red" if breached else "green")
        label.append(f"  alert {indicator.op} {fmt.number(indicator.threshold)}", style="dim")
        self.label.update(label)
        self.spark.data = [v for _, v in points if v is not None]
        mark(self, "-breached", breached)


class Dashboard(VerticalScroll):
    DEFAULT_CLASSES = "dashboard"

    def __init__(self, indicators: list[Indicator], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.indicators = indicators
        self.border_title = "SLOs (good ratio, 5m / objective; error budget burned) and key indicators"
        self._frame: Frame | None = None

    def on_show(self) -> None:
        if self._frame is not None:
            self.show_frame(self._frame)

    def compose(self) -> ComposeResult:
        self.slo_text = Static("", id="slos")
        yield self.slo_text
        if not self.indicators:
            yield Static("The scenario's alert rules name no indicator of the form `expr > threshold`.", classes="dim")
        self.rows = [IndicatorRow(indicator) for indicator in self.indicators]
        yield from self.rows

    def show_frame(self, frame: Frame) -> None:
        self._frame = frame
        if not self.children or not self.is_on_screen:
            return
        self._frame = frame
        bar = BAR if self.size.width >= 100 else 8
        text = Text()
        for index, slo in enumerate(frame.slos):
            if index:
                text.append("\n")
            style = "bold red" if slo.in_breach else "bold green"
            text.append(f"SLO {slo.id}", style="bold")
            text.append(f" {fmt.percent(slo.sli)}/{fmt.percent(slo.objective)}", style=style)
            filled = min(bar, round(slo.burned_percent / 100 * bar))
            text.append(" budget ")
            text.append("█" * filled, style="red" if slo.burned_percent >= 50 else "yellow")
            text.append("░" * (bar - filled), style="dim")
            text.append(f" {slo.burned_percent:.2f}%", style="")
            if slo.in_breach:
                text.append("  BREACH", style="bold white on red")
        self.slo_text.update(text)
        for row in self.rows:
            row.show()
