"""Help (``?``): every key of the console, read from the screens' own bindings."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tabletop.tui.keys import key_label

DIALOG_KEYS = (
    ("Tab / shift+Tab", "next / previous field"),
    ("Enter", "next field; on the last field: OK"),
    ("ctrl+s", "OK from any field"),
    ("Esc", "cancel"),
)


def bindings_table(title: str, bindings: list[BindingType]) -> Table:
    table = Table(title=title, title_style="bold", title_justify="left", show_header=False, box=None,
                  padding=(0, 2, 0, 0), expand=False)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for binding in bindings:
        if isinstance(binding, Binding) and binding.description:
            tip = Text(f"  {binding.tooltip}", style="dim") if binding.tooltip else Text("")
            table.add_row(key_label(binding), Text.assemble(binding.description, tip))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", priority=True)]

    def compose(self) -> ComposeResult:
        from tabletop.tui.app import TabletopApp
        from tabletop.tui.screens.end import EndScreen
        from tabletop.tui.screens.facilitator import FacilitatorScreen
        from tabletop.tui.screens.main import MainScreen

        dialogs = Table(title="Dialogs", title_style="bold", title_justify="left", show_header=False, box=None,
                        padding=(0, 2, 0, 0))
        dialogs.add_column(style="bold cyan", no_wrap=True)
        dialogs.add_column()
        for key, text in DIALOG_KEYS:
            dialogs.add_row(key, text)
        with Vertical(id="help"):
            yield Static(Text("tabletop drill console — keys  (Esc closes)", style="bold"), id="help-title")
            with VerticalScroll(id="help-body"):
                yield Static(bindings_table("Drill", list(MainScreen.BINDINGS)))
                yield Static(bindings_table("Everywhere", list(TabletopApp.BINDINGS)))
                yield Static(bindings_table("Facilitator screen (f)", FacilitatorScreen.keys(served=getattr(self.app, "seat_server", None) is not None)))
                yield Static(bindings_table("End of drill", list(EndScreen.BINDINGS)))
                yield Static(dialogs)
                yield Static(Text(
                    "Command bar (:) takes any command of the command language, e.g.\n"
                    "  ack P1 · handoff bob --status '…' --actions '…' --next '…' · assign ops bob\n"
                    "  query sum(rate(http_requests_total[5m])) · logs Xid --source node/gpu-serve-2\n"
                    "  get pods · describe node/gpu-serve-2 · kubectl drain gpu-serve-2 · step 5 node=gpu-serve-2\n"
                    "Every command is on the timeline with who ran it; refusals are recorded too.",
                    style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)
