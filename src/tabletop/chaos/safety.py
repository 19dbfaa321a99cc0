"""Whether an experiment may act for real, and, when not, exactly what to change.

Against the drill's own twin an experiment acts on the simulation: it runs. Anything else is a
real cluster, touched only when the scenario's ``kubernetes.allowlist`` names the context and
every namespace the experiment touches, and the user passed ``--live``. Activities that run
programs on this machine (``process`` providers, and Python providers of modules that do the
same, such as ``os.system``) run only with ``--allow-process``, whatever the target. An
experiment that may not run is played as a Chaos Toolkit dry run instead (nothing is called),
which shows what it would have done.

Namespaces an activity touches: its ``ns`` argument (or the default of the provider function's
``ns`` parameter, ``default`` for chaostoolkit-kubernetes), a ``namespace`` argument, and ``*``
(every namespace) for node actions that move pods (``drain_nodes``, ``delete_nodes``, ...).
"""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tabletop.chaos.experiments import LoadedExperiment, activities
from tabletop.scenario.chaos import TWIN, KubernetesTarget
from tabletop.scenario.yaml_source import parse_yaml

Mode = Literal["twin", "live", "dry-run"]
EVERY_NAMESPACE = "*"
PROGRAM_MODULES = frozenset({"os", "subprocess", "pty", "shutil", "runpy", "builtins", "code", "importlib", "posix"})
"""Python providers from these modules can run programs: they need --allow-process like ``process`` ones."""
NODE_ACTIONS_IN_PLACE = frozenset({"cordon_node", "uncordon_node"})
"""Node actions of chaostoolkit-kubernetes that move no pods; the others touch every namespace."""
_TEMPLATE = re.compile(r"\$\{([^}]+)\}")


@dataclass
class Decision:
    mode: Mode
    context: str
    namespaces: list[str]
    """Every namespace the experiment touches (sorted; ``*``: cluster-wide)."""
    reasons: list[str] = field(default_factory=list)
    """Why it may not run for real (empty when it may)."""
    fix: str = ""
    """What to change so that it may: keys of the scenario (with their line) and options."""

    @property
    def refused(self) -> bool:
        return bool(self.reasons)

    def message(self, experiment: str) -> str:
        if not self.refused:
            return f"experiment {experiment}: runs against {'the twin' if self.mode == 'twin' else repr(self.context)}"
        reasons = "; ".join(self.reasons)
        return (f"experiment {experiment}: refused to act ({reasons}); playing a Chaos Toolkit dry run instead. "
                f"To run it: {self.fix}")


def decide(target: KubernetesTarget, experiment: LoadedExperiment, *, default_namespaces: list[str],
           scenario_path: Path | None = None, live: bool = False, allow_process: bool = False) -> Decision:
    """May ``experiment`` act on ``target``? (mode ``twin`` or ``live``, or ``dry-run`` with the reasons)."""
    document = experiment.document
    namespaces, unknown = touched(document)
    scenario_namespaces = list(target.namespaces) or list(default_namespaces)
    context = target.context
    where = _Where(scenario_path)
    reasons: list[str] = []
    fixes: list[str] = []

    programs = programs_run(document)
    if programs and not allow_process:
        reasons.append(f"it runs programs on this machine ({', '.join(programs)})")
        fixes.append("pass --allow-process")

    if context == TWIN:
        if reasons:
            return Decision("dry-run", context, sorted(set(namespaces + scenario_namespaces)), reasons, " and ".join(fixes))
        return Decision("twin", context, sorted(set(namespaces + scenario_namespaces)))

    contexts = [context] + [c for c in contexts_named(document) if c != context]
    all_namespaces = sorted(set(namespaces + scenario_namespaces))
    allow = target.allowlist
    missing_contexts = [c for c in contexts if c not in allow.contexts]
    if missing_contexts:
        listed = ", ".join(repr(c) for c in missing_contexts)
        reasons.append(f"kube context {listed} {'is' if len(missing_contexts) == 1 else 'are'} not in kubernetes.allowlist.contexts")
        fixes.append(f"add {listed} to kubernetes.allowlist.contexts ({where.line('kubernetes', 'allowlist', 'contexts')})")
    if EVERY_NAMESPACE not in allow.namespaces:
        missing = [n for n in all_namespaces if n not in allow.namespaces]
        if missing:
            listed = ", ".join(repr(n) for n in missing)
            reasons.append(f"namespace {listed} {'is' if len(missing) == 1 else 'are'} not in kubernetes.allowlist.namespaces"
                           + (" ('*': node actions that move pods touch every namespace)" if EVERY_NAMESPACE in missing else ""))
            fixes.append(f"add {listed} to kubernetes.allowlist.namespaces ({where.line('kubernetes', 'allowlist', 'namespaces')})")
    for activity, value in unknown:
        reasons.append(f"activity {activity!r} names its namespace with {value!r}, unknown before it runs")
        fixes.append(f"write activity {activity!r}'s namespace out in the experiment")
    if not live:
        reasons.append("--live was not given")
        fixes.append("pass --live")
    if reasons:
        return Decision("dry-run", context, all_namespaces, reasons, _join(fixes))
    return Decision("live", context, all_namespaces)


def _join(fixes: list[str]) -> str:
    fixes = list(dict.fromkeys(fixes))
    return fixes[0] if len(fixes) == 1 else ", ".join(fixes[:-1]) + " and " + fixes[-1]


class _Where:
    """``scenario.yaml line N`` of a key of the scenario (or of its nearest parent)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.source = None
        if path is not None:
            try:
                self.source = parse_yaml(path.read_bytes(), str(path))[0]
            except OSError:
                self.source = None

    def line(self, *key: str) -> str:
        if self.source is None:
            return "in the scenario"
        found, span = self.source.span(key)
        name = self.path.name if self.path else "the scenario"
        if found == key:
            return f"{name} line {span.key_line}"
        parent = ".".join(str(k) for k in found) or "the top level"
        return f"a new key under {parent}, {name} line {span.key_line}" if found else f"a new top-level key in {name}"


def programs_run(document: dict[str, Any]) -> list[str]:
    """Activities that run programs on this machine, as ``name (what)``."""
    found = []
    for _, _, activity in activities(document):
        provider = activity.get("provider")
        if not isinstance(provider, dict):
            continue
        if provider.get("type") == "process":
            found.append(f"{activity.get('name')!r}: process {provider.get('path')!r}")
        elif provider.get("type") == "python" and str(provider.get("module", "")).split(".")[0] in PROGRAM_MODULES:
            found.append(f"{activity.get('name')!r}: python {provider.get('module')}.{provider.get('func')}")
    for name, value in _dynamic_configuration(document):
        provider = value.get("provider") if isinstance(value, dict) else None
        if isinstance(provider, dict) and provider.get("type") == "process":
            found.append(f"configuration {name!r}: process {provider.get('path')!r}")
    return found


def _dynamic_configuration(document: dict[str, Any]) -> list[tuple[str, Any]]:
    configuration = document.get("configuration")
    if not isinstance(configuration, dict):
        return []
    return [(k, v) for k, v in configuration.items() if isinstance(v, dict) and v.get("type") == "probe"]


def touched(document: dict[str, Any]) -> tuple[list[str], list[tuple[str, str]]]:
    """(namespaces the activities touch, [(activity, templated namespace it names)])."""
    static = _static_configuration(document)
    namespaces: list[str] = []
    unknown: list[tuple[str, str]] = []
    for _, _, activity in activities(document):
        provider = activity.get("provider")
        if not isinstance(provider, dict) or provider.get("type") != "python":
            continue
        module, func = str(provider.get("module", "")), str(provider.get("func", ""))
        arguments = provider.get("arguments") if isinstance(provider.get("arguments"), dict) else {}
        if module.startswith("chaosk8s.node.") and module.endswith("actions") and func not in NODE_ACTIONS_IN_PLACE:
            namespaces.append(EVERY_NAMESPACE)
        for key in ("ns", "namespace"):
            value = arguments.get(key, _default(module, func, key))
            if value is None:
                continue
            text = _substitute(str(value), static)
            if _TEMPLATE.search(text):
                unknown.append((str(activity.get("name")), str(value)))
            else:
                namespaces.append(text)
    return sorted(set(namespaces)), unknown


def contexts_named(document: dict[str, Any]) -> list[str]:
    """Kube contexts the experiment's secrets or configuration name (``KUBERNETES_CONTEXT``)."""
    found: list[str] = []
    for section in ("secrets", "configuration"):
        value = document.get(section)
        for holder in (value.values() if section == "secrets" and isinstance(value, dict) else [value]):
            if isinstance(holder, dict) and isinstance(holder.get("KUBERNETES_CONTEXT"), str):
                found.append(holder["KUBERNETES_CONTEXT"])
    return found


def _static_configuration(document: dict[str, Any]) -> dict[str, str]:
    configuration = document.get("configuration")
    if not isinstance(configuration, dict):
        return {}
    return {k: str(v) for k, v in configuration.items() if isinstance(v, (str, int, float))}


def _substitute(text: str, values: dict[str, str]) -> str:
    return _TEMPLATE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _default(module: str, func: str, parameter: str) -> Any:
    """The default of ``parameter`` of the provider function, or None (no such parameter or module)."""
    if not module.startswith("chaosk8s"):
        return None
    try:
        function = getattr(importlib.import_module(module), func)
        default = inspect.signature(function).parameters[parameter].default
    except (ImportError, AttributeError, KeyError, TypeError, ValueError):
        return None
    return None if default is inspect.Parameter.empty else default
