"""The scenario's key indicators as sparklines with their thresholds, and each SLO's error
budget: the share burned so far as a bar, and how it grew as a sparkline."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Sparkline, Static

from tabletop.drill.board import SloView
from tabletop.signals.indicators import Indicator
from tabletop.tui import format as fmt
from tabletop.tui.frame import Frame
from tabletop.tui.frame_view import FrameView
from tabletop.tui.marks import mark
from tabletop.tui.redraw import show_text

BAR = 20


class IndicatorRow(Horizontal):
    DEFAULT_CLASSES = "indicator"

    def __init__(self, indicator: Indicator) -> None:
        super().__init__()
        self.indicator = indicator
        self._last: tuple | None = None
        self._label: Text | None = None

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
        self._label = show_text(self.label, self._label, label)
        self.spark.data = [v for _, v in points if v is not None]
        mark(self, "-breached", breached)


class SloRow(Vertical):
    """One SLO: its good ratio against the objective, then its budget bar beside the burn sparkline."""

    DEFAULT_CLASSES = "slo"

    def __init__(self, burn: deque[tuple[float, float]]) -> None:
        super().__init__()
        self.burn = burn
        """The board's history of this SLO's budget burned (percent)."""
        self._shown: tuple | None = None
        self._sampled: tuple | None = None
        self._heading: Text | None = None
        self._budget: Text | None = None

    def compose(self) -> ComposeResult:
        self.heading = Static("", classes="slo-title")
        self.budget = Static("", classes="slo-budget")
        self.spark = Sparkline([], summary_function=max, classes="slo-spark")
        yield self.heading
        with Horizontal(classes="slo-burn"):
            yield self.budget
            yield self.spark

    def show(self, slo: SloView, bar: int) -> None:
        if (slo, bar) != self._shown:
            self._shown = (slo, bar)
            self._heading = show_text(self.heading, self._heading, slo_title(slo))
            self._budget = show_text(self.budget, self._budget, budget_bar(slo.burned_percent, bar))
            mark(self, "-breached", slo.in_breach)
        # the history is bounded (a deque with maxlen): once full, only its newest time tells it moved
        sampled = (len(self.burn), self.burn[-1][0] if self.burn else None)
        if sampled != self._sampled:
            self._sampled = sampled
            self.spark.data = [percent for _, percent in self.burn]


def slo_title(slo: SloView) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"SLO {slo.id}", style="bold")
    ratio = f" {fmt.percent(slo.sli)}/{fmt.percent(slo.objective)}"
    text.append(ratio, style="bold red" if slo.in_breach else "bold green")
    if slo.in_breach:
        text.append("  BREACH", style="bold white on red")
    return text


def budget_bar(burned_percent: float, width: int) -> Text:
    """``budget ███░░░ 12.34% burn`` (the burn sparkline follows it)."""
    filled = min(width, round(burned_percent / 100 * width))
    text = Text(no_wrap=True)
    text.append("budget ")
    text.append("█" * filled, style="red" if burned_percent >= 50 else "yellow")
    text.append("░" * (width - filled), style="dim")
    text.append(f" {burned_percent:6.2f}% ")  # a steady width: the bar's size never changes the layout
    text.append("burn ", style="dim")
    return text


class Dashboard(FrameView, VerticalScroll):
    DEFAULT_CLASSES = "dashboard"

    def __init__(self, indicators: list[Indicator], burn: dict[str, deque[tuple[float, float]]],
                 **kwargs: object) -> None:
        """``burn``: the board's budget-burn history of each SLO, by SLO id."""
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.indicators = indicators
        self.burn = burn
        self.border_title = "SLOs (good ratio, 5m / objective; error budget burned) and key indicators"

    def compose(self) -> ComposeResult:
        self.slo_rows = {slo_id: SloRow(history) for slo_id, history in self.burn.items()}
        with Vertical(id="slos"):
            yield from self.slo_rows.values()
        if not self.indicators:
            yield Static("The scenario's alert rules name no indicator of the form `expr > threshold`.", classes="dim")
        self.rows = [IndicatorRow(indicator) for indicator in self.indicators]
        yield from self.rows

    def show_frame(self, frame: Frame) -> None:
        if not self.children:
            self._missed = frame  # not composed yet: drawn when shown
            return
        bar = BAR if self.size.width >= 100 else 8
        for slo in frame.slos:
            self.slo_rows[slo.id].show(slo, bar)
        for row in self.rows:
            row.show()
