"""The drill screen: status bar, tabs (incident, signals, investigate, runbook, timeline), a
side column in wide terminals, the command bar and the key bar. Its keys open dialogs whose
answers become command lines run through the app."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.widgets import Input, TabbedContent, TabPane

from tabletop.drill.board import StepView
from tabletop.drill.commands import SEVERITIES
from tabletop.scenario.oncall import ROLES
from tabletop.tui import format as fmt
from tabletop.tui import lines, picks
from tabletop.tui.clock import ClockKeys
from tabletop.tui.dialogs.assign import AssignDialog
from tabletop.tui.dialogs.choice import ChoiceDialog
from tabletop.tui.dialogs.confirm import ConfirmDialog
from tabletop.tui.dialogs.handoff import HandoffDialog, HandoffNote
from tabletop.tui.dialogs.hypothesis import Hypothesis, HypothesisDialog
from tabletop.tui.dialogs.palette import Mitigation, MitigationPalette
from tabletop.tui.dialogs.params import ParamsDialog
from tabletop.tui.dialogs.text import TextDialog
from tabletop.tui.frame import Frame
from tabletop.tui.frame_view import FrameView
from tabletop.tui.keys import TypingScreen
from tabletop.tui.redraw import render_changed_regions_only
from tabletop.tui.widgets.alerts import AlertsTable
from tabletop.tui.widgets.command_bar import CommandBar
from tabletop.tui.widgets.dashboard import Dashboard
from tabletop.tui.widgets.incident import IncidentPanel, ParticipantsPanel
from tabletop.tui.widgets.investigate import InvestigateView, OutputLog
from tabletop.tui.widgets.keybar import KeyBar
from tabletop.tui.widgets.messages import MessagesList
from tabletop.tui.widgets.pager import PagerPanel
from tabletop.tui.widgets.runbook import RunbookView, StepList
from tabletop.tui.widgets.status import StatusBar
from tabletop.tui.widgets.timeline import TimelineLog, TimelineView

if TYPE_CHECKING:
    from tabletop.tui.app import TabletopApp


def key(keys: str, action: str, description: str, tooltip: str = "", *, show: bool = True,
        display: str | None = None) -> Binding:
    """A global key of the drill screen (priority: it works whichever panel has focus)."""
    return Binding(keys, action, description, show=show, key_display=display, priority=True, tooltip=tooltip)


SEAT_REFUSES = ("toggle_clock", "faster", "slower", "acting_as")
"""The drill screen's actions a joined seat refuses, not shown on its key bar."""
TABS = ("tab-incident", "tab-signals", "tab-investigate", "tab-runbook", "tab-timeline")


class MainScreen(ClockKeys, TypingScreen):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-medium"), (150, "-wide")]
    """Layout classes by terminal width: stacked panels, two columns, two columns and a side column."""
    BINDINGS = [
        key("space", "toggle_clock", "Run/pause", "start or pause the drill clock"),
        key("plus,equals_sign", "faster", "Faster",
            "next speed: 1, 2, 5, 10, 30, 60 virtual seconds per second", display="+"),
        key("minus", "slower", "Slower", "previous speed", display="-"),
        key("a", "ack", "Ack", "acknowledge your page (ack)"),
        key("h", "handoff", "Hand off",
            "hand your pages over with a note: status, actions taken, next steps (handoff)"),
        key("n", "note", "Note", "a note on the timeline (note)"),
        key("s", "status", "Status", "a status update to stakeholders; the cadence due is shown (status)"),
        key("y", "hypothesis", "Hypothesis", "state the cause you suspect, where, and why (hypothesis)"),
        key("k", "runbook", "Runbook step",
            "the runbook: Enter on a step runs it, asking for its placeholders (step N)"),
        key("m", "mitigate", "Mitigate",
            "the mitigation palette: any mitigation on any object, confirmed first (mitigate)"),
        key("colon", "command_bar", "Command",
            "the command bar: any command line; ↑/↓ recall earlier ones", display=":"),
        key("p", "acting_as", "Act as", "switch the participant your commands are run as"),
        key("f", "facilitator", "Facilitator",
            "the facilitator's screen: clock, next message now, hint, ground truth, end"),
        key("e", "escalate", "Escalate page", "escalate your page to its next level now (escalate)", show=False),
        key("g", "reassign", "Reassign page", "give your page to someone else (reassign)", show=False),
        key("x", "resolve", "Resolve incident", "resolve the incident and its pages (resolve)", show=False),
        key("o", "assign", "Assign a role", "incident commander, ops, scribe, comms (assign)", show=False),
        key("v", "severity", "Set severity", "SEV1 to SEV4 (severity)", show=False),
        key("r", "reply", "Reply to a message", "answer a stakeholder message (reply)", show=False),
        key("slash", "promql", "PromQL query",
            "PromQL: result table and a plot of the last 30 minutes (query)", show=False, display="/"),
        key("l", "logs", "Search logs", "search the simulated logs (logs)", show=False),
        key("c", "fleet", "Fleet (kubectl views)", "get pods/nodes/deployments, describe (get, describe)", show=False),
        key("t", "timeline_filter", "Next timeline filter",
            "all, commands, pager, alerts, incident, notes, fleet", show=False),
        key("1", "tab(0)", "Incident tab", show=False),
        key("2", "tab(1)", "Signals tab", show=False),
        key("3", "tab(2)", "Investigate tab", show=False),
        key("4", "tab(3)", "Runbook tab", show=False),
        key("5", "tab(4)", "Timeline tab", show=False),
        Binding("escape", "leave", "Leave field", show=False),
    ]

    app: "TabletopApp"

    def __init__(self) -> None:
        super().__init__(id="main")
        render_changed_regions_only(self)
        self._views: list[FrameView] = []
        self._frame: Frame | None = None
        self.is_ready = False

    # layout ------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        app = self.app
        session = app.session
        drill = session.drill
        targets = picks.targets(drill.fleet)
        yield StatusBar(id="status")
        with Horizontal(id="body"):
            with TabbedContent(id="views", initial="tab-incident"):
                with TabPane("1 Incident", id="tab-incident"):
                    with Container(id="incident-grid"):
                        yield PagerPanel(id="pager")
                        yield IncidentPanel(id="incident")
                        yield MessagesList(id="messages")
                        yield ParticipantsPanel(list(drill.scenario.participants), id="participants")
                with TabPane("2 Signals", id="tab-signals"):
                    yield AlertsTable(id="alerts")
                    yield Dashboard(session.board.indicators, session.board.burn, id="dashboard")
                with TabPane("3 Investigate", id="tab-investigate"):
                    yield InvestigateView(targets, id="investigate")
                with TabPane("4 Runbook", id="tab-runbook"):
                    yield RunbookView(list(drill.runbooks.values()), id="runbook")
                with TabPane("5 Timeline", id="tab-timeline"):
                    yield TimelineView(session.board, id="timeline")
            with Vertical(id="side"):
                yield PagerPanel(id="side-pager")
                side = TimelineLog(session.board, max_lines=200, id="side-timeline", classes="panel")
                side.border_title = "Timeline"
                yield side
        yield CommandBar(id="command-bar")
        yield KeyBar([*self.app.BINDINGS[:1], *self.keys(seat=self.app.seat), *self.app.BINDINGS[1:]])

    @classmethod
    def keys(cls, *, seat: bool) -> list[Binding]:
        """The screen's keys; a joined seat's without those it refuses: the clock's (the facilitator's)
        and switching who it acts as (the keys still say why when pressed)."""
        refused = SEAT_REFUSES if seat else ()
        return [b for b in cls.BINDINGS if isinstance(b, Binding) and b.action not in refused]

    def on_mount(self) -> None:
        self._views = [self.query_one(f"#{name}") for name in (
            "status", "pager", "incident", "messages", "participants", "alerts", "dashboard", "runbook", "timeline",
            "side-pager",
        )]
        self._side_timeline = self.query_one("#side-timeline", TimelineLog)
        self.query_one("#command-bar").display = False
        self.call_after_refresh(self._ready)

    def _ready(self) -> None:
        """Every widget is composed: start drawing the drill."""
        self.is_ready = True
        self.app.refresh_views()

    def show_frame(self, frame: Frame) -> None:
        self._frame = frame
        if not self.is_ready:
            return
        for view in self._views:
            view.offer_frame(frame)
        self._side_timeline.sync()

    # helpers -------------------------------------------------------------------------------------
    def ask(self, dialog: Any, then: Callable[[Any], None]) -> None:
        """Show a dialog; ``then`` gets its answer unless it was cancelled."""
        def done(answer: Any) -> None:
            if answer is not None and answer is not False:
                then(answer)
        self.app.push_screen(dialog, done)

    @property
    def frame(self) -> Frame:
        return self._frame or self.app.frame()

    def participants(self) -> list[Any]:
        return list(self.app.session.drill.scenario.participants)

    def show_tab(self, tab: str) -> None:
        self.query_one("#views", TabbedContent).active = tab

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """The side column's timeline would repeat the Timeline tab (and cost a second render)."""
        self._side_timeline.display = event.pane.id != "tab-timeline"

    # pager ----------------------------------------------------------------------------------------
    def action_ack(self) -> None:
        self.app.execute("ack")

    def action_escalate(self) -> None:
        self.app.execute("escalate")

    def action_reassign(self) -> None:
        people = [(f"{p.id} — {p.name}", p.id) for p in self.participants() if p.id != self.app.acting_as]
        self.ask(ChoiceDialog("Reassign your page to", people, ok_label="Reassign"),
                 lambda who: self.app.execute(lines.reassign(who)))

    def action_handoff(self) -> None:
        note = None
        mine = [p for p in self.frame.open_pages if self.app.acting_as in p.holders or p.acked_by == self.app.acting_as]
        if mine:
            note = "Your pages: " + ", ".join(f"{p.id} ({p.title})" for p in mine)

        def hand(n: HandoffNote) -> None:
            self.app.execute(lines.handoff(n.to, n.status, n.actions, n.next))
        self.ask(HandoffDialog(self.participants(), self.app.acting_as, note=note), hand)

    def action_resolve(self) -> None:
        dialog = TextDialog("Resolve the incident", "Closing summary", required=False, ok_label="Resolve",
                            placeholder="what fixed it (optional)",
                            note="Resolves the incident and every open page.")
        self.ask(dialog, lambda text: self.app.execute(lines.resolve(text)))  # "" (no summary) is an answer

    # incident ---------------------------------------------------------------------------------------
    def action_note(self) -> None:
        self.ask(TextDialog("Note for the timeline", "Note", placeholder="what you see, think or decided", ok_label="Note"),
                 lambda text: self.app.execute(lines.text_command("note", text)))

    def action_status(self) -> None:
        incident = self.frame.incident
        due = incident.status_due_in
        cadence = f"{incident.status_updates} posted"
        if due is not None:
            cadence += f" · overdue by {fmt.countdown(-due)}" if due < 0 else f" · next due in {fmt.countdown(due)}"
        self.ask(TextDialog("Status update to stakeholders", "Update", note=f"Status updates: {cadence}",
                            placeholder="impact, cause so far, what is being done, next update", ok_label="Post"),
                 lambda text: self.app.execute(lines.text_command("status", text)))

    def action_hypothesis(self) -> None:
        fleet = self.app.session.drill.fleet

        def state(h: Hypothesis) -> None:
            self.app.execute(lines.hypothesis(h.cause, h.target, h.reasoning))
        self.ask(HypothesisDialog(picks.causes(), picks.targets(fleet)), state)

    def action_assign(self) -> None:
        dialog = AssignDialog(ROLES, self.participants(), self.app.acting_as, dict(self.frame.incident.roles))
        self.ask(dialog, lambda answer: self.app.execute(lines.assign(*answer)))

    def action_severity(self) -> None:
        current = self.frame.incident.severity
        choices = [(level, level) for level in SEVERITIES]
        self.ask(ChoiceDialog("Incident severity", choices, selected=current or "SEV2", ok_label="Set"),
                 lambda level: self.app.execute(lines.severity(level)))

    def action_reply(self, message_id: str | None = None) -> None:
        messages = self.frame.messages
        if message_id is None:
            waiting = [m for m in messages if m.expects_reply and not m.replied]
            focused = self.focused
            if isinstance(focused, MessagesList) and focused.highlighted is not None and focused.options:
                message_id = focused.options[focused.highlighted].id
            elif len(waiting) == 1:
                message_id = waiting[0].id
            elif waiting:
                choices = [(Text.assemble((m.sender, "bold"), f": {fmt.clip(m.text, 60)}"), m.id) for m in waiting]
                self.ask(ChoiceDialog("Reply to which message?", choices), lambda chosen: self.action_reply(chosen))
                return
            else:
                self.app.notify("No message is waiting for a reply.", severity="warning", timeout=3)
                return
        message = next((m for m in messages if m.id == message_id), None)
        if message is None:
            return
        note = Text.assemble((f"{message.sender} in {message.channel}:\n", "bold"), message.text)
        self.ask(TextDialog(f"Reply to {message.sender}", "Reply", note=note, ok_label="Send"),
                 lambda text: self.app.execute(lines.reply(message.id, text)))

    def on_messages_list_reply_requested(self, event: MessagesList.ReplyRequested) -> None:
        self.action_reply(event.message_id)

    def action_acting_as(self) -> None:
        if not self.app.may_switch_acting_as():
            return
        choices = [(Text.assemble((p.id, "bold"), f" — {p.name}", (f", {p.title}" if p.title else "", "dim")), p.id)
                   for p in self.participants()]
        self.ask(ChoiceDialog("Act as", choices, selected=self.app.acting_as,
                              note="Every command you run from now on is on the timeline in this name."),
                 self.app.set_acting_as)

    # runbook and mitigations ------------------------------------------------------------------------
    def action_runbook(self) -> None:
        self.show_tab("tab-runbook")
        self.query_one(StepList).focus()

    def on_step_list_step_chosen(self, event: StepList.StepChosen) -> None:
        self.run_step(event.step)

    def run_step(self, step: StepView) -> None:
        drill = self.app.session.drill
        several = len(drill.runbooks) > 1
        title = f"Runbook step {step.number}: {step.title}"

        def run(params: dict[str, str]) -> None:
            line = lines.step(step.number, params, step.runbook if several else None)
            if not step.changes_fleet:
                self.app.execute(line)
                return
            runbook = drill.runbooks[step.runbook].step(step.number)
            filled = [c.fill(params) for c in runbook.commands] if runbook else list(step.commands)
            self.ask(ConfirmDialog(title, [line], note=Text.assemble(
                ("This step changes the fleet. It runs:\n", "bold yellow"), "\n".join(f"  {c}" for c in filled))),
                lambda _: self.app.execute(line))

        if step.placeholders:
            fleet = drill.fleet
            params = [picks.step_param(fleet, name) for name in step.placeholders]
            note = "\n".join(step.commands)
            self.ask(ParamsDialog(title, params, note=note), run)
        else:
            run({})

    def action_mitigate(self) -> None:
        fleet = self.app.session.drill.fleet

        def chosen(m: Mitigation) -> None:
            params = picks.action_params(m.action)

            def confirm(values: dict[str, str]) -> None:
                line = lines.mitigate(m.action, m.target, values)
                self.ask(ConfirmDialog(f"Mitigate: {m.action} {m.target}", [line], note=m.summary),
                         lambda _: self.app.execute(line))
            if params:
                self.ask(ParamsDialog(f"{m.action} {m.target}", params), confirm)
            else:
                confirm({})
        self.ask(MitigationPalette(picks.mitigations(fleet)), chosen)

    # command bar and navigation -------------------------------------------------------------------------
    def action_command_bar(self) -> None:
        bar = self.query_one(CommandBar)
        bar.display = True
        bar.focus()

    def on_command_bar_run(self, event: CommandBar.Run) -> None:
        result = self.app.execute(event.line)
        if result.ok and result.output and result.output != result.message:
            self.show_tab("tab-investigate")
            self.query_one(InvestigateView).active = "inv-console"

    def on_command_bar_closed(self, event: CommandBar.Closed) -> None:
        bar = self.query_one(CommandBar)
        bar.display = False
        self.set_focus(None)

    def action_leave(self) -> None:
        if isinstance(self.focused, Input):
            self.set_focus(None)

    def action_tab(self, index: int) -> None:
        self.show_tab(TABS[index])

    def action_promql(self) -> None:
        self._investigate("inv-promql", "#promql-input")

    def action_logs(self) -> None:
        self._investigate("inv-logs", "#logs-pattern")

    def action_fleet(self) -> None:
        self._investigate("inv-fleet", "#fleet-input")

    def _investigate(self, pane: str, focus: str) -> None:
        self.show_tab("tab-investigate")
        self.query_one(InvestigateView).active = pane
        self.call_after_refresh(lambda: self.query_one(focus).focus())

    def action_timeline_filter(self) -> None:
        self.show_tab("tab-timeline")
        name = self.query_one(TimelineView).next_filter()
        self.app.notify(f"timeline: {name}", timeout=2)

    def action_facilitator(self) -> None:
        self.app.show_facilitator()

    def console_output(self) -> OutputLog:
        return self.query_one("#console-output", OutputLog)

