"""The responder command API: what each command does to the drill, and its record.

``run_command`` writes one ``command`` event (who, what, whether it worked, a short result)
followed by the events it caused, which carry the command's seq. A command that cannot be
done is refused with a reason and recorded all the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any

from tabletop.drill.command_line import (
    CHAOS, CHAOS_COMMANDS, FACILITATOR, FACILITATOR_COMMANDS, Command, CommandSyntaxError, parse_command,
)
from tabletop.drill.hints import next_hint
from tabletop.drill.silencing import SilenceRefused, silence, unsilence
from tabletop.drill.timeline import Event
from tabletop.drill.views import ViewError, describe, render_table, rows
from tabletop.faults.catalog import CATALOG
from tabletop.faults.runtime import FaultRequestError, runtime_fault
from tabletop.scenario.chaos import EXPERIMENT_CAUSE, root_cause
from tabletop.pager.pager import PagerError
from tabletop.scenario.oncall import ROLES
from tabletop.signals.promql import PromQLError
from tabletop.sim import mitigations

if TYPE_CHECKING:
    from tabletop.drill.engine import Drill

ROLE_ALIASES = {"ic": "incident_commander", "commander": "incident_commander", "incident-commander": "incident_commander"}
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
_RESULT_LINES = 5
"""Lines of a command's output kept on the timeline."""


class Refusal(Exception):
    """The command cannot be done; the message tells the responder why."""


Handler = Callable[["Drill", str, dict[str, Any], int], tuple[str, str]]
"""(drill, actor, args, command seq) → (message, full output)."""


@dataclass
class CommandResult:
    ok: bool
    message: str
    output: str = ""
    """Full text for the person who asked (query table, log lines, kubectl view)."""
    event: Event | None = None


def run_command(drill: "Drill", actor: str, command: Command | str) -> CommandResult:
    if drill.ended:
        return CommandResult(False, "the drill has ended")  # its timeline is closed: nothing more is recorded
    line = command if isinstance(command, str) else command.line()
    seq = len(drill.timeline.events) + 1
    drill.injector.last_command = (seq, drill.now)
    output = ""
    parsed: Command | None = None
    with drill.holding_events() as caused:
        try:
            parsed = parse_command(command) if isinstance(command, str) else command
            _check_actor(drill, actor, parsed.name)
            message, output = HANDLERS[parsed.name](drill, actor, parsed.args, seq)
            ok = True
        except (Refusal, CommandSyntaxError, PagerError, PromQLError, ViewError, SilenceRefused) as refusal:
            ok, message = False, str(refusal)
    summary = "\n".join(output.splitlines()[:_RESULT_LINES])
    event = drill.record("command", {
        "line": line, "name": parsed.name if parsed else None, "args": parsed.args if parsed else {},
        "ok": ok, "message": message, "result": summary,
    }, actor=actor)
    for kind, data, by in caused:
        drill.record(kind, data, by)
    return CommandResult(ok, message, output or message, event)


def _check_actor(drill: "Drill", actor: str, command: str) -> None:
    """Participants work the incident, the facilitator runs the drill, experiments break things."""
    if actor == FACILITATOR:
        if command not in FACILITATOR_COMMANDS:
            raise Refusal("the facilitator runs the drill; participants work the incident")
    elif actor == CHAOS:
        if command not in CHAOS_COMMANDS:
            raise Refusal(f"experiments may only run {' and '.join(sorted(CHAOS_COMMANDS))}")
    elif command == "facilitate":
        raise Refusal("only the facilitator can facilitate")
    elif actor not in {p.id for p in drill.scenario.participants}:
        raise Refusal(f"{actor!r} is not a participant of this drill")


def _effect(drill: "Drill", kind: str, actor: str, seq: int, *, before: int | None = None, **data: Any) -> None:
    """Record an effect of command ``seq``; ``before`` puts it ahead of events caused since that
    point of the command (a mitigation's summary before the fleet events it set off)."""
    drill.record(kind, {**data, "command": seq}, actor)
    if before is not None and drill.held is not None:
        drill.held.insert(before, drill.held.pop())


def _participant(drill: "Drill", who: str) -> str:
    ids = [p.id for p in drill.scenario.participants]
    if who not in ids:
        close = get_close_matches(who, ids, n=1)
        raise Refusal(f"{who!r} is not a participant" + (f" (did you mean {close[0]!r}?)" if close else f"; participants: {', '.join(ids)}"))
    return who


# pager ---------------------------------------------------------------------------------------------
def _ack(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    page = drill.pager.find(args.get("page"), actor)
    if page.state == "acknowledged" and page.acked_by == actor:
        return f"{page.id} is already acknowledged by you", ""
    drill.pager.acknowledge(page.id, actor)
    return f"{page.id} acknowledged: {page.title}", ""


def _escalate(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    page = drill.pager.escalate(args.get("page"), actor)
    return f"{page.id} escalated to level {page.level + 1}: {', '.join(page.assignees)}", ""


def _reassign(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    page = drill.pager.reassign(args.get("page"), _participant(drill, args["to"]), actor)
    return f"{page.id} reassigned to {page.assignees[0]}", ""


def _handoff(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    note = {part: args.get(part, "") for part in ("status", "actions", "next")}
    pages = drill.pager.handoff(_participant(drill, args["to"]), actor, note, args.get("page"))
    missing = [part for part, text in note.items() if not text.strip()]
    warning = f" (note has no {', '.join(missing)})" if missing else ""
    return f"handed {', '.join(p.id for p in pages)} to {args['to']}{warning}", ""


def _resolve(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    if drill.incident.resolved:
        raise Refusal("the incident is already resolved")
    incident = drill.incident
    if not drill.pager.pages and not (incident.roles or incident.severity or incident.hypotheses or incident.status_updates):
        raise Refusal("there is no incident to resolve: nobody has been paged and nobody has taken command "
                      "(an unpaged incident starts with `assign incident_commander ...` or `severity ...`)")
    drill.incident.resolved_at = drill.now
    _effect(drill, "incident.resolved", actor, seq, text=args.get("text", ""))
    pages = drill.pager.resolve_all()
    return "incident resolved" + (f"; resolved {', '.join(p.id for p in pages)}" if pages else ""), ""


# incident state -----------------------------------------------------------------------------------
def _assign(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    role = ROLE_ALIASES.get(args["role"].lower(), args["role"].lower())
    if role not in ROLES:
        raise Refusal(f"unknown role {args['role']!r}; roles: {', '.join(ROLES)}")
    who = _participant(drill, args["to"])
    previous = drill.incident.roles.get(role)
    drill.incident.roles[role] = who
    _effect(drill, "role.assigned", actor, seq, role=role, to=who, previous=previous)
    return f"{who} is {role}" + (f" (was {previous})" if previous and previous != who else ""), ""


def _severity(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    level = args["level"].upper()
    if level not in SEVERITIES:
        raise Refusal(f"severity must be one of {', '.join(SEVERITIES)}")
    previous = drill.incident.severity
    drill.incident.severity = level
    _effect(drill, "severity.set", actor, seq, level=level, previous=previous)
    return f"severity {level}", ""


def _note(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    _effect(drill, "note", actor, seq, text=args["text"])
    return "noted", ""


def _status(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    drill.incident.status_updates += 1
    _effect(drill, "status.update", actor, seq, text=args["text"])
    return "status update posted", ""


def _hypothesis(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    cause, target = args["cause"], args["target"]
    experiments = {f"experiment/{e.id}" for e in drill.scenario.experiments}
    causes = [*CATALOG, EXPERIMENT_CAUSE] if experiments else list(CATALOG)
    if cause not in causes:
        close = get_close_matches(cause, causes, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise Refusal(f"unknown cause {cause!r}{hint}; causes: {', '.join(causes)}")
    if cause == EXPERIMENT_CAUSE and target not in experiments:
        raise Refusal(f"{target} is not an experiment of this drill; experiments: {', '.join(sorted(experiments))}")
    if cause != EXPERIMENT_CAUSE and drill.fleet.lookup(target) is None:
        raise Refusal(f"{target} does not exist")
    drill.incident.hypotheses.append((cause, target))
    _effect(drill, "hypothesis", actor, seq, cause=cause, target=target, text=args.get("text", ""))
    return f"hypothesis recorded: {cause} on {target}", ""


def _reply(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    inject = args["inject"]
    if inject not in drill.incident.delivered_injects:
        known = ", ".join(sorted(drill.incident.delivered_injects)) or "none yet"
        raise Refusal(f"no message {inject!r} has arrived (arrived: {known})")
    drill.incident.replied_injects.add(inject)
    _effect(drill, "inject.replied", actor, seq, inject=inject, text=args["text"])
    return f"replied to {inject}", ""


# investigation --------------------------------------------------------------------------------------
def _query(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    result = drill.query(args["expr"]).instant(drill.store, drill.now)
    if not isinstance(result, list):
        value = getattr(result, "value", result)
        return f"scalar {value}", str(value)
    lines = [f"{_series_name(sample.labels)} {sample.value:g}" for sample in sorted(result, key=lambda s: sorted(s.labels.items()))]
    return f"{len(result)} series", "\n".join(lines) if lines else "no data"


def _series_name(labels: dict[str, str]) -> str:
    name = labels.get("__name__", "")
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}}"


def _logs(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    since = drill.now - args["since"] if "since" in args else None
    source = args.get("source")
    if source is not None and drill.fleet.lookup(source) is None and not any(l.source == source for l in drill.fleet.logs.lines):
        raise Refusal(f"{source} does not exist")
    try:
        found = drill.fleet.logs.search(args["pattern"], source=source, since=since, until=drill.now)
    except re.error as error:
        raise Refusal(f"bad pattern {args['pattern']!r}: {error}") from None
    start = drill.scenario.metadata.start
    lines = [f"{(start + timedelta(seconds=l.t)).strftime('%H:%M:%S')} {l.source} {l.stream}: {l.message}" for l in found]
    return f"{len(found)} matching line(s)", "\n".join(lines) if lines else "no matching lines"


def _get(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    table = rows(drill.fleet, args["kind"], args.get("name"))
    return f"{len(table)} {args['kind']}", render_table(table)


def _describe(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    return f"described {args['target']}", describe(drill.fleet, args["target"])


# changes to the fleet ---------------------------------------------------------------------------------
def _mitigate(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    params = args.get("params", {})
    start = len(drill.held or ())
    touched = _touched(drill, args["target"])
    outcome = mitigations.apply(drill.fleet, args["action"], args["target"], params)
    if not outcome.ok:
        raise Refusal(outcome.message)
    if actor != CHAOS:
        drill.injector.mitigation_applied(seq, touched)
    _effect(drill, "mitigation.applied", actor, seq, before=start, action=args["action"], target=args["target"],
            params=params, changes=outcome.changes)
    return outcome.message, ""


def _touched(drill: "Drill", target: str) -> frozenset[str]:
    """What a mitigation on ``target`` acts on: the object, and for a pod its controller and node."""
    found = drill.fleet.lookup(target)
    refs = {target}
    if target.startswith("pod/") and found is not None:
        refs.add(getattr(found.owner, "ref", ""))
        refs.add(found.node.ref if found.node is not None else "")
    return frozenset(refs - {""})


def _fault(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    params = dict(args.get("params", {}))
    request = {"kind": args["kind"], "target": args["target"], "parameters": {
        key: _flow_value(value) for key, value in params.items() if key not in ("id", "duration", "description")}}
    request.update({key: params[key] for key in ("id", "duration", "description") if key in params})
    try:
        spec = runtime_fault(request, drill.fleet, fault_ids(drill))
    except FaultRequestError as error:
        raise Refusal(f"cannot inject {args['kind']} on {args['target']}: {error}") from None
    drill.injector.inject(spec, actor, seq)
    return f"fault {spec.id} injected: {spec.kind} on {spec.target}", ""  # type: ignore[attr-defined]


def _flow_value(value: Any) -> Any:
    """A ``key=[0, 1]`` parameter as the list it spells (``gpus`` of gpu_thermal)."""
    if isinstance(value, str) and value.startswith("["):
        import yaml

        try:
            return yaml.safe_load(value)
        except yaml.YAMLError:
            return value
    return value


def fault_command(spec: Any) -> Command:
    """The ``fault`` command that injects ``spec`` now: its id, parameters, duration, description."""
    fields = spec.model_dump(exclude={"kind", "target", "when"}, exclude_none=True)
    if not fields.get("description"):
        fields.pop("description", None)
    return Command("fault", {"kind": spec.kind, "target": spec.target, "params": fields})


def fault_ids(drill: "Drill") -> list[str]:
    """Fault ids the drill has used: the scenario's it injects, then those injected since
    (background, run time)."""
    ids = [spec.id for spec in drill.injector.scheduled]
    return ids + [f.spec.id for f in drill.injector.active if f.spec.id not in ids]


def _step(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    runbook_id = args.get("runbook") or next(iter(drill.runbooks), None)
    runbook = drill.runbooks.get(runbook_id or "")
    if runbook is None:
        raise Refusal(f"no runbook {runbook_id!r}" if runbook_id else "this scenario has no runbook")
    step = runbook.step(args["number"])
    if step is None:
        raise Refusal(f"runbook {runbook.id} has steps 1-{len(runbook.steps)}, not {args['number']}")
    params = args.get("params", {})
    missing = [p for p in step.placeholders if p not in params]
    if missing:
        raise Refusal(f"step {step.number} ({step.title}) needs {' '.join(f'{m}=...' for m in missing)}")
    messages, outputs = [], []
    for step_command in step.commands:
        sub = parse_command(step_command.fill(params))
        if sub.name == "step":
            raise Refusal("a runbook step cannot run another step")
        if sub.name == "ack" and _acknowledged(drill, sub.args.get("page"), actor):
            messages.append("already acknowledged")
            continue
        message, output = HANDLERS[sub.name](drill, actor, sub.args, seq)
        messages.append(message)
        if output:
            outputs.append(f"$ {sub.line()}\n{output}")
    done = drill.incident.steps_done.setdefault(runbook.id, [])
    done.append(step.number)
    _effect(drill, "runbook.step", actor, seq, runbook=runbook.id, step=step.number, title=step.title)
    summary = f"step {step.number} done: {step.title}" + (f" ({'; '.join(messages)})" if messages else "")
    return summary, "\n\n".join(outputs)


def _facilitate(drill: "Drill", actor: str, args: dict[str, Any], seq: int) -> tuple[str, str]:
    action = args["action"]
    if action == "inject":
        inject = drill.injects.deliver_next_now()
        if inject is None:
            raise Refusal("every stakeholder message has been delivered")
        return f"delivered {inject.id} from {inject.from_}", ""
    if action == "hint":
        text = next_hint(drill)
        _effect(drill, "hint", actor, seq, text=text)
        return text, ""
    if action == "reveal":
        truth = drill.scenario.ground_truth
        fault = root_cause(drill.scenario)
        _effect(drill, "ground_truth.revealed", actor, seq, root_cause=truth.root_cause.fault, fault_kind=fault.kind,
                target=fault.target, summary=" ".join(truth.root_cause.summary.split()),
                fixes=[f"{f.action} {f.target}" for f in truth.fixes], harmful=[f"{h.action} {h.target}" for h in truth.harmful])
        return f"root cause: {fault.kind} on {fault.target}", ""
    raise Refusal(f"unknown facilitator action {action!r}; actions: inject, hint, reveal")


def _acknowledged(drill: "Drill", page_id: str | None, actor: str) -> bool:
    """A runbook's 'acknowledge' step is done once the page is acknowledged, by anyone."""
    try:
        return drill.pager.find(page_id, actor).state != "triggered"
    except PagerError:
        return False


HANDLERS: dict[str, Handler] = {
    "ack": _ack, "escalate": _escalate, "reassign": _reassign, "handoff": _handoff, "resolve": _resolve,
    "assign": _assign, "severity": _severity, "note": _note, "status": _status, "hypothesis": _hypothesis,
    "reply": _reply, "query": _query, "logs": _logs, "get": _get, "describe": _describe, "mitigate": _mitigate,
    "step": _step, "facilitate": _facilitate, "fault": _fault, "silence": silence, "unsilence": unsilence,
}
