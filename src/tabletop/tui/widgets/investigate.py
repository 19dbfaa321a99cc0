"""Investigation: PromQL (result table and a plot of the last 30 minutes), log search,
read-only kubectl views of the simulated fleet, and the transcript of every command run here.

Each panel runs its command through the app (``query``, ``logs``, ``get``, ``describe``), so it
lands on the timeline like any other; the table and plot of a query are read back from the
drill's own PromQL engine."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Button, DataTable, Input, RichLog, Sparkline, Static, TabbedContent, TabPane

from tabletop.drill.commands import CommandResult
from tabletop.durations import parse_duration
from tabletop.signals.promql import PromQLError
from tabletop.tui import format as fmt
from tabletop.tui import lines

PLOT_WINDOW = 1800.0
"""Seconds of history the query plot shows."""
FLEET_KINDS = ("pods", "nodes", "deployments", "jobs", "featurestores", "pipelines")


def series_name(labels: dict[str, str]) -> str:
    name = labels.get("__name__", "")
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}}"


class PromqlPanel(Vertical):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._series: list = []

    def compose(self) -> ComposeResult:
        yield Input(placeholder="PromQL, e.g. sum(rate(http_requests_total{status=\"5xx\"}[5m])) — Enter runs it",
                    id="promql-input")
        yield Static("", id="promql-status")
        table = DataTable(id="promql-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="promql-plot-title")
        yield Sparkline([], id="promql-plot", summary_function=max)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("series", "value")
        self.query_one(Sparkline).display = False

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        expr = event.value.strip()
        if expr:
            self.run(expr)

    def run(self, expr: str) -> CommandResult:
        app = self.app
        result = app.execute(lines.query(expr))  # type: ignore[attr-defined]
        status = self.query_one("#promql-status", Static)
        table = self.query_one(DataTable)
        if not result.ok:
            status.update(Text(f"✗ {result.message}", style="bold red"))
            return result
        session = app.session  # type: ignore[attr-defined]
        drill = session.drill
        query = drill.query(expr)
        table.clear()
        try:
            value = query.instant(drill.store, drill.now)
            step = drill.scenario.signals.evaluation_interval
            end = drill.now
            self._series = query.range(drill.store, max(0.0, end - PLOT_WINDOW), end, step)
        except (PromQLError, ValueError) as error:
            status.update(Text(f"✗ {error}", style="bold red"))
            return result
        if isinstance(value, list):
            for sample in sorted(value, key=lambda s: sorted(s.labels.items())):
                table.add_row(series_name(sample.labels), fmt.number(sample.value))
        else:
            table.add_row("scalar", str(getattr(value, "value", value)))
        status.update(Text(f"✓ {result.message} at {fmt.clock(drill.now)}", style="green"))
        self.plot(0)
        return result

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.plot(event.cursor_row)

    def plot(self, index: int) -> None:
        title = self.query_one("#promql-plot-title", Static)
        spark = self.query_one("#promql-plot", Sparkline)
        if not self._series:
            title.update(Text("no data in the last 30 minutes", style="dim"))
            spark.data = []
            spark.display = False
            return
        spark.display = True
        series = self._series[min(index, len(self._series) - 1)]
        values = [v for v in series.vs if v == v]
        low, high = (min(values), max(values)) if values else (0.0, 0.0)
        title.update(Text.assemble(
            ("last 30m ", "dim"), (series_name(series.labels) or "value", "bold"),
            (f"  min {fmt.number(low)}  max {fmt.number(high)}  ({len(self._series)} series; ↑/↓ picks)", "dim"),
        ))
        spark.data = values


class OutputLog(RichLog):
    def __init__(self, *, wrap: bool = False, **kwargs: object) -> None:
        """``wrap``: wrap long lines (prose) instead of scrolling sideways (tables)."""
        super().__init__(max_lines=2000, wrap=wrap, highlight=False, min_width=40, **kwargs)  # type: ignore[arg-type]

    def show_result(self, line: str, actor: str, result: CommandResult) -> None:
        self.write(Text.assemble((f"{actor}$ ", "bold cyan"), (line, "bold")))
        if result.ok:
            self.write(Text(result.output or result.message))
        else:
            self.write(Text(f"refused: {result.message}", style="bold red"))
        self.write(Text(""))


class LogsPanel(Vertical):
    def __init__(self, targets: list[str], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.targets = targets

    def compose(self) -> ComposeResult:
        with Horizontal(classes="inputs"):
            yield Input(placeholder="pattern (regex), e.g. Xid", id="logs-pattern")
            yield Input(placeholder="source: node/… or pod/… (optional)", id="logs-source",
                        suggester=SuggestFromList(self.targets, case_sensitive=False))
            yield Input(placeholder="since, e.g. 15m", id="logs-since")
        yield OutputLog(id="logs-output")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        pattern = self.query_one("#logs-pattern", Input).value
        if not pattern.strip():
            self.query_one("#logs-pattern", Input).focus()
            return
        since_text = self.query_one("#logs-since", Input).value.strip()
        output = self.query_one(OutputLog)
        try:
            since = parse_duration(since_text) if since_text else None
        except ValueError as error:
            output.write(Text(f"since: {error}", style="bold red"))
            return
        line = lines.logs(pattern, self.query_one("#logs-source", Input).value, since)
        result = self.app.execute(line)  # type: ignore[attr-defined]
        output.show_result(line, self.app.acting_as, result)  # type: ignore[attr-defined]


class FleetPanel(Vertical):
    def __init__(self, targets: list[str], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.targets = targets

    def compose(self) -> ComposeResult:
        with Horizontal(classes="fleet-buttons"):
            yield Static("get", classes="fleet-label")
            for kind in FLEET_KINDS:
                yield Button(kind, id=f"get-{kind}", compact=True)
        yield Input(placeholder="describe KIND/NAME, or get/describe/kubectl …", id="fleet-input",
                    suggester=SuggestFromList(self.targets, case_sensitive=False))
        yield OutputLog(id="fleet-output")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        kind = (event.button.id or "").removeprefix("get-")
        self.run(lines.get(kind))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            return
        verb = text.split()[0]
        self.run(text if verb in ("get", "describe", "kubectl", "logs") else lines.describe(text))

    def run(self, line: str) -> None:
        result = self.app.execute(line)  # type: ignore[attr-defined]
        self.query_one(OutputLog).show_result(line, self.app.acting_as, result)  # type: ignore[attr-defined]


class InvestigateView(Vertical):
    def __init__(self, targets: list[str], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.targets = targets

    def compose(self) -> ComposeResult:
        with TabbedContent(id="inv-tabs", initial="inv-promql"):
            with TabPane("PromQL (/)", id="inv-promql"):
                yield PromqlPanel()
            with TabPane("Logs (l)", id="inv-logs"):
                yield LogsPanel(self.targets)
            with TabPane("Fleet (c)", id="inv-fleet"):
                yield FleetPanel(self.targets)
            with TabPane("Console", id="inv-console"):
                yield OutputLog(id="console-output")

    @property
    def active(self) -> str:
        return self.query_one(TabbedContent).active

    @active.setter
    def active(self, pane: str) -> None:
        self.query_one(TabbedContent).active = pane
