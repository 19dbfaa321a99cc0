"""The end of the drill: the score (each criterion's rating and evidence) and the postmortem
draft, as written to the output folder."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from tabletop.drill.outputs import Outputs
from tabletop.scoring.score import RATING_MEANING, Score
from tabletop.tui import format as fmt
from tabletop.tui.widgets.keybar import KeyBar
from tabletop.tui.widgets.markdown import LazyMarkdown

if TYPE_CHECKING:
    from tabletop.tui.app import TabletopApp

RATING_STYLE = {"P": "bold green", "S": "bold yellow", "M": "bold dark_orange", "U": "bold red", "N/A": "dim"}


class ScoreTable(DataTable):
    """Each criterion: its rating, points, and the summary with the first evidence."""

    def __init__(self, score: Score, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.score = score

    def on_mount(self) -> None:
        criteria = self.score.criteria
        width = self.app.size.width or 80
        title_width = min(34 if width >= 110 else 20, max((len(c.title) for c in criteria), default=10))
        evidence_width = max(24, width - title_width - 22)
        self.add_column("criterion", width=title_width)
        self.add_column("rating", width=6)
        self.add_column("points", width=7)
        self.add_column("evidence", width=evidence_width)
        for c in criteria:
            evidence = "; ".join(f"#{e.seq} {fmt.clock(e.t)} {e.text}" for e in c.evidence[:3]) or "no evidence"
            if len(c.evidence) > 3:
                evidence += f"; +{len(c.evidence) - 3} more"
            self.add_row(
                Text(c.title), Text(c.rating, style=RATING_STYLE.get(c.rating, "")),
                f"{c.points:.1f}/{c.weight:g}" if c.applicable else "n/a", Text(f"{c.summary} — {evidence}"), height=None,
            )


class EndScreen(Screen[None]):
    BINDINGS = [
        Binding("q", "quit", "Quit", priority=True),
        Binding("escape", "back", "Back to the drill (read only)"),
        Binding("1", "tab('end-score')", "Score", show=False),
        Binding("2", "tab('end-details')", "Details", show=False),
        Binding("3", "tab('end-postmortem')", "Postmortem", show=False),
        Binding("4", "tab('end-files')", "Files", show=False),
    ]

    app: "TabletopApp"

    def __init__(self, outputs: Outputs, reason: str) -> None:
        super().__init__(id="end")
        self.outputs = outputs
        self.reason = reason

    def compose(self) -> ComposeResult:
        score = self.outputs.score
        session = self.app.session
        header = Text()
        header.append(f" Drill ended ({self.reason}) at {fmt.clock(session.now)} ", style="bold reverse")
        header.append(f"  Score {score.total:.1f} / 100", style="bold")
        header.append("  " + "  ".join(f"{r} {n}" for r, n in score.counts().items()), style="dim")
        unable = "U unable; N/A not counted" if score.not_applicable else "U unable"
        header.append("   (P " + RATING_MEANING["P"] + f"; S some, M major challenges; {unable})", style="dim")
        yield Static(header, id="end-header")
        with TabbedContent(id="end-tabs", initial="end-score"):
            with TabPane("1 Score", id="end-score"):
                yield ScoreTable(self.outputs.score, id="end-table")
            with TabPane("2 Details", id="end-details"):
                yield LazyMarkdown(self.outputs.score_markdown, markdown_id="end-score-markdown")
            with TabPane("3 Postmortem", id="end-postmortem"):
                yield LazyMarkdown(self.outputs.postmortem, markdown_id="end-postmortem-markdown")
            with TabPane("4 Files", id="end-files"):
                yield Static(self._files_text(), id="end-files-text")
        yield KeyBar([*self.app.BINDINGS[:1], *self.BINDINGS, *self.app.BINDINGS[1:]])

    def _files_text(self) -> Text:
        text = Text()
        if not self.outputs.files:
            text.append("Kept in memory only (no output folder was given).", style="dim")
            return text
        text.append("Written, exactly as a headless run writes them:\n\n", style="bold")
        for path in self.outputs.files:
            text.append(f"  {path}\n")
        timeline = self.outputs.files[0]
        text.append(f"\nScore again: tabletop score {timeline}\nReplay it:   tabletop replay {timeline} --verify\n",
                    style="dim")
        return text

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_back(self) -> None:
        self.app.pop_screen()

    async def action_quit(self) -> None:
        self.app.exit()
