"""The responder command language, shared by the console, scripts and runbooks.

A command is one line, split like a shell line::

    ack
    handoff bob --status "5/6 replicas up" --actions "drained gpu-serve-2" --next "watch p99"
    assign incident_commander alice
    mitigate drain node/gpu-serve-2
    kubectl scale deployment/chat-llm --replicas=8

``parse_command`` turns it into a ``Command`` (name + canonical args) or raises
``CommandSyntaxError`` saying what was expected. ``Command.line()`` writes it back.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from tabletop.durations import format_duration, parse_duration
from tabletop.sim.action_specs import ACTIONS


class CommandSyntaxError(ValueError):
    """A command line that does not parse; the message says what was expected."""


@dataclass(frozen=True)
class Arg:
    name: str
    help: str
    required: bool = True
    kind: str = "str"
    """str, int, duration or text (the rest of the line)."""


@dataclass(frozen=True)
class CommandSpec:
    name: str
    summary: str
    args: tuple[Arg, ...] = ()
    options: tuple[Arg, ...] = ()
    takes_params: bool = False
    """Accepts trailing ``key=value`` parameters."""

    def usage(self) -> str:
        parts = [self.name]
        for arg in self.args:
            text = f"{arg.name.upper()}..." if arg.kind == "text" else arg.name.upper()
            parts.append(text if arg.required else f"[{text}]")
        parts += [f"[--{o.name.replace('_', '-')} {o.name.upper()}]" for o in self.options]
        if self.takes_params:
            parts.append("[key=value ...]")
        return " ".join(parts)


_PAGE = Arg("page", "page id (default: your open page)", required=False)

COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        CommandSpec("ack", "acknowledge a page", (_PAGE,)),
        CommandSpec("escalate", "escalate a page to its next level now", (_PAGE,)),
        CommandSpec("reassign", "give a page to someone else", (Arg("to", "participant id"), _PAGE)),
        CommandSpec(
            "handoff", "hand your pages over with a note",
            (Arg("to", "participant id"),),
            (
                Arg("status", "where the incident stands", required=False),
                Arg("actions", "what has been done", required=False),
                Arg("next", "what should happen next", required=False),
                Arg("page", "page id (default: all your open pages)", required=False),
            ),
        ),
        CommandSpec("assign", "give someone an incident role", (Arg("role", "incident_commander, ops, scribe or comms"), Arg("to", "participant id"))),
        CommandSpec("severity", "set the incident severity", (Arg("level", "SEV1 to SEV4"),)),
        CommandSpec("note", "add a note to the timeline", (Arg("text", "the note", kind="text"),)),
        CommandSpec("status", "post a status update to stakeholders", (Arg("text", "the update", kind="text"),)),
        CommandSpec("query", "evaluate a PromQL expression now", (Arg("expr", "PromQL", kind="text"),)),
        CommandSpec(
            "logs", "search the logs",
            (Arg("pattern", "regular expression", kind="text"),),
            (Arg("source", "node/NAME or pod/NAME", required=False), Arg("since", "how far back, e.g. 15m", required=False, kind="duration")),
        ),
        CommandSpec("get", "list fleet objects", (Arg("kind", "nodes, pods, deployments, jobs, featurestores or pipelines"), Arg("name", "one object", required=False))),
        CommandSpec("describe", "show one fleet object in detail", (Arg("target", "kind/name"),)),
        CommandSpec(
            "hypothesis", "state what you think the root cause is",
            (Arg("cause", "fault kind, e.g. gpu_xid"), Arg("target", "kind/name of the faulty object"), Arg("text", "reasoning", required=False, kind="text")),
        ),
        CommandSpec("step", "do a runbook step", (Arg("number", "step number", kind="int"),), (Arg("runbook", "runbook id", required=False),), takes_params=True),
        CommandSpec("mitigate", "apply a mitigation to the fleet", (Arg("action", "mitigation name"), Arg("target", "kind/name")), takes_params=True),
        CommandSpec("reply", "answer a stakeholder message", (Arg("inject", "inject id"), Arg("text", "the answer", kind="text"))),
        CommandSpec("resolve", "resolve the incident and its pages", (Arg("text", "closing summary", required=False, kind="text"),)),
        CommandSpec("facilitate", "facilitator only: deliver the next message now, give a hint, reveal the ground truth",
                    (Arg("action", "inject, hint or reveal"),)),
        CommandSpec("silence", "mute alerts as an Alertmanager silence does: matchers name=value, name!=value, "
                    "name=~regex, name!~regex", (),
                    (Arg("duration", "how long, e.g. 2h (default 1h)", required=False, kind="duration"),
                     Arg("comment", "why", required=False)), takes_params=True),
        CommandSpec("unsilence", "expire a silence now", (Arg("silence", "silence id: S1, or Alertmanager's"),)),
        CommandSpec("fault", "inject a catalog fault now (a game day; Chaos Toolkit's tabletop provider): "
                    "its parameters, and optionally id=, duration=, description=",
                    (Arg("kind", "fault kind, e.g. gpu_xid"), Arg("target", "kind/name of the object hit")), takes_params=True),
    )
}

FACILITATOR = "facilitator"
"""The actor name of the person running the drill (not a participant)."""
FACILITATOR_COMMANDS = frozenset({"facilitate", "fault"})
"""What the facilitator may run (``facilitate`` is theirs alone)."""
CHAOS = "chaostoolkit"
"""The actor name of the Chaos Toolkit experiments a drill runs itself (not a participant): their
writes are faults injected, not a responder's mitigations."""
CHAOS_COMMANDS = frozenset({"mitigate", "fault"})
"""What experiments may do to the fleet."""


@dataclass(frozen=True)
class Command:
    name: str
    args: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        """Canonical command line; parses back to an equal Command."""
        spec = COMMANDS[self.name]
        parts = [self.name]
        for arg in spec.args:
            if arg.name in self.args:
                parts.append(shlex.quote(str(self.args[arg.name])))
        for option in spec.options:
            if option.name in self.args:
                parts += [f"--{option.name}", shlex.quote(_show(self.args[option.name], option.kind))]
        for key, value in self.args.get("params", {}).items():
            parts.append(shlex.quote(f"{key}={value}"))
        return " ".join(parts)


def _show(value: Any, kind: str) -> str:
    if kind == "duration":
        return format_duration(value)
    return str(value)


def _convert(arg: Arg, raw: str, command: str) -> Any:
    if arg.kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise CommandSyntaxError(f"{command}: {arg.name} must be a whole number, not {raw!r}") from None
    if arg.kind == "duration":
        try:
            return parse_duration(raw)
        except ValueError as error:
            raise CommandSyntaxError(f"{command}: {arg.name}: {error}") from None
    return raw


def _param_value(raw: str) -> Any:
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    return raw


def parse_command(line: str) -> Command:
    """Parse one command line; raises CommandSyntaxError with the usage on mistakes."""
    try:
        words = shlex.split(line)
    except ValueError as error:
        raise CommandSyntaxError(f"cannot split the line: {error}") from None
    if not words:
        raise CommandSyntaxError("empty command")
    if words[0] == "kubectl":
        return _from_kubectl(words[1:])
    name, rest = words[0], words[1:]
    if name in RAW_TEXT:
        return _raw_text_command(name, line)
    spec = COMMANDS.get(name)
    if spec is None:
        from difflib import get_close_matches

        close = get_close_matches(name, COMMANDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise CommandSyntaxError(f"unknown command {name!r}{hint}; commands: {', '.join(COMMANDS)}")
    args: dict[str, Any] = {}
    params: dict[str, Any] = {}
    positional: list[str] = []
    options = {o.name: o for o in spec.options}
    i = 0
    while i < len(rest):
        word = rest[i]
        if word.startswith("--") and len(word) > 2:
            key, eq, value = word[2:].partition("=")
            key = key.replace("-", "_")
            option = options.get(key)
            if option is None:
                raise CommandSyntaxError(f"{name}: unknown option --{key}; usage: {spec.usage()}")
            if not eq:
                i += 1
                if i >= len(rest):
                    raise CommandSyntaxError(f"{name}: --{key} needs a value; usage: {spec.usage()}")
                value = rest[i]
            args[option.name] = _convert(option, value, name)
        elif spec.takes_params and "=" in word and not word.startswith("="):
            key, _, value = word.partition("=")
            params[key] = value if name in TEXT_PARAMS else _param_value(value)
        else:
            positional.append(word)
        i += 1
    for index, arg in enumerate(spec.args):
        if arg.kind == "text":
            if positional[index:]:
                args[arg.name] = " ".join(positional[index:])
            positional = positional[:index]
            break
        if index < len(positional):
            args[arg.name] = _convert(arg, positional[index], name)
    taken = sum(1 for a in spec.args if a.kind != "text" and a.name in args)
    if len(positional) > taken:
        raise CommandSyntaxError(f"{name}: unexpected {positional[taken]!r}; usage: {spec.usage()}")
    missing = [a.name for a in spec.args if a.required and a.name not in args]
    if missing:
        raise CommandSyntaxError(f"{name}: missing {', '.join(m.upper() for m in missing)}; usage: {spec.usage()}")
    if params:
        args["params"] = params
    if name == "mitigate":
        _check_mitigation(args)
    return Command(name, args)


TEXT_PARAMS = frozenset({"silence"})
"""Commands whose ``key=value`` parameters stay text (label matchers: ``gpu=5`` is not a number)."""
RAW_TEXT = ("query", "note", "status")
"""Commands whose whole argument is free text, taken as typed (PromQL keeps its quotes)."""


def _raw_text_command(name: str, line: str) -> Command:
    """``query sum(x{job="a"})`` keeps its quotes; a text quoted as a whole (as ``line()``
    writes it) is unquoted."""
    raw = line.strip()[len(name):].strip()
    if raw[:1] in ("'", '"'):
        try:
            words = shlex.split(raw)
        except ValueError:
            words = []
        if len(words) == 1:
            raw = words[0]
    if not raw:
        raise CommandSyntaxError(f"{name}: missing {COMMANDS[name].args[0].name.upper()}; usage: {COMMANDS[name].usage()}")
    return Command(name, {COMMANDS[name].args[0].name: raw})


def _check_mitigation(args: dict[str, Any]) -> None:
    action = ACTIONS.get(args["action"])
    if action is None:
        raise CommandSyntaxError(f"mitigate: unknown action {args['action']!r}; actions: {', '.join(ACTIONS)}")
    kind, slash, name = args["target"].partition("/")
    if not slash or not name:
        raise CommandSyntaxError(f"mitigate: target must be kind/name, e.g. {action.target_kind}/NAME")
    if kind != action.target_kind:
        raise CommandSyntaxError(f"mitigate {action.name}: target must be a {action.target_kind}, not a {kind}")
    params = args.get("params", {})
    for key in params:
        if key not in action.params:
            allowed = ", ".join(action.params) or "none"
            raise CommandSyntaxError(f"mitigate {action.name}: unknown parameter {key!r} (parameters: {allowed})")
    for key, param in action.params.items():
        if key not in params:
            if param.required:
                raise CommandSyntaxError(f"mitigate {action.name}: needs {key}=... ({param.help})")
            continue
        value = params[key]
        if param.type is float and isinstance(value, int):
            value = params[key] = float(value)
        if not isinstance(value, param.type):
            raise CommandSyntaxError(f"mitigate {action.name}: {key} must be a {param.type.__name__}, not {value!r}")
        if (param.minimum is not None and value < param.minimum) or (param.maximum is not None and value > param.maximum):
            raise CommandSyntaxError(f"mitigate {action.name}: {key} must be between {param.minimum} and {param.maximum}")


_KUBECTL_SKIPPED_FLAGS = {"--ignore-daemonsets", "--delete-emptydir-data", "--delete-local-data", "--force", "--wait=false"}


def _from_kubectl(words: list[str]) -> Command:
    """The kubectl commands a runbook or a responder types, as tabletop commands."""
    plain: list[str] = []
    flags: dict[str, str] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word in _KUBECTL_SKIPPED_FLAGS or word.startswith("--grace-period") or word.startswith("--timeout"):
            pass
        elif word in ("-n", "--namespace", "-l", "--selector", "--tail", "--since"):
            i += 1
            if i < len(words):
                flags[word.lstrip("-")[:1] if word in ("-n", "--namespace", "-l", "--selector") else word.lstrip("-")] = words[i]
        elif word.startswith("--replicas="):
            flags["replicas"] = word.partition("=")[2]
        elif word.startswith("-"):
            raise CommandSyntaxError(f"kubectl: option {word} is not supported here")
        else:
            plain.append(word)
        i += 1
    usage = "kubectl drain|cordon|uncordon NODE, delete pod POD, rollout undo|restart deployment/NAME, scale deployment/NAME --replicas=N, get KIND [NAME], describe KIND/NAME, logs POD"
    if not plain:
        raise CommandSyntaxError(f"kubectl: what should it do? supported: {usage}")
    verb, objs = plain[0], plain[1:]

    def one(kind: str) -> str:
        if len(objs) == 2 and objs[0] in (kind, f"{kind}s"):
            return objs[1]
        if len(objs) == 1:
            obj = objs[0]
            if "/" in obj:
                obj_kind, _, obj_name = obj.partition("/")
                if obj_kind.rstrip("s") != kind:
                    raise CommandSyntaxError(f"kubectl {verb}: expected a {kind}, not {obj_kind}")
                return obj_name
            return obj
        raise CommandSyntaxError(f"kubectl {verb}: expected one {kind}; supported: {usage}")

    if verb in ("drain", "cordon", "uncordon"):
        return Command("mitigate", {"action": verb, "target": f"node/{one('node')}"})
    if verb == "delete":
        return Command("mitigate", {"action": "delete_pod", "target": f"pod/{one('pod')}"})
    if verb == "rollout" and objs and objs[0] in ("undo", "restart"):
        objs = objs[1:]
        action = "rollback" if plain[1] == "undo" else "rollout_restart"
        return Command("mitigate", {"action": action, "target": f"deployment/{one('deployment')}"})
    if verb == "scale":
        if "replicas" not in flags:
            raise CommandSyntaxError("kubectl scale: needs --replicas=N")
        try:
            replicas = int(flags["replicas"])
        except ValueError:
            raise CommandSyntaxError("kubectl scale: --replicas must be a whole number") from None
        return Command("mitigate", {"action": "scale", "target": f"deployment/{one('deployment')}", "params": {"replicas": replicas}})
    if verb == "get" and objs:
        args: dict[str, Any] = {"kind": objs[0].split("/")[0]}
        if "/" in objs[0]:
            args["name"] = objs[0].partition("/")[2]
        elif len(objs) > 1:
            args["name"] = objs[1]
        return Command("get", args)
    if verb == "describe" and objs:
        target = objs[0] if "/" in objs[0] else f"{objs[0].rstrip('s')}/{objs[1]}" if len(objs) > 1 else ""
        if not target:
            raise CommandSyntaxError("kubectl describe: expected KIND NAME or KIND/NAME")
        return Command("describe", {"target": target})
    if verb == "logs" and objs:
        return Command("logs", {"pattern": ".", "source": f"pod/{one('pod')}"})
    raise CommandSyntaxError(f"kubectl {verb}: not supported here; supported: {usage}")
