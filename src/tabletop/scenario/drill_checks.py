"""Can this drill work? Warnings for a scenario that validates but in which nothing can happen.

Run once the scenario, its rule groups, runbooks and rubric are valid. Each warning is
located at the key to change and says what to add or change:

* no alert rule can page anyone (no route with an escalation policy matches any rule);
* a ground-truth fix cannot work on its target as the fleet is written (a rollback with
  nothing to roll back to, freeing checkpoint space that cannot make room);
* the root-cause fault moves no metric any alert rule reads (``tabletop.faults.signals``);
* a fault's impact cannot start before the drill ends (a leak too slow to reach the memory
  limit, a double-bit error after the end, ...);
* the rubric scores runbook use but the scenario has no runbook.

Everything here reads the scenario's models and the PromQL of its rules: no simulation.
"""

from __future__ import annotations

import fnmatch
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import promql_parser as pp
from pydantic import ValidationError

from tabletop.durations import format_duration
from tabletop.faults.signals import MOVES, SERIES_LABELS, TELLTALE
from tabletop.pager.routing import matches
from tabletop.scenario.model import Scenario
from tabletop.scenario.oncall import Route, parse_matcher
from tabletop.scenario.problems import PathPart, Problem
from tabletop.scenario.rules import Rule, RuleGroup
from tabletop.scenario.runbook import Runbook
from tabletop.scenario.yaml_source import Source
from tabletop.scoring.rubric import Rubric, RunbookSteps

ROLLOUTS = ("bad_rollout", "rollout")
"""Fault kinds that roll a deployment out to a new version."""

_ANY = None
"""Label names or metric names not known: anything."""


def check_drill(source: Source, scenario: Scenario, groups: Sequence[RuleGroup], runbooks: Sequence[Runbook],
                rubric: Rubric, experiments: Iterable[Any] = ()) -> list[Problem]:
    """Warnings for what keeps the drill from working; ``experiments`` are the loaded Chaos
    Toolkit experiments (their documents), which may inject faults of their own."""
    rules = [rule for group in groups for rule in group.rules]
    documents = [json.dumps(getattr(e, "document", e), default=str) for e in experiments]
    return [
        *_paging(source, scenario, rules),
        *_fixes(source, scenario, documents),
        *_root_cause_signals(source, scenario, rules),
        *_late_impact(source, scenario),
        *_runbook_scoring(source, scenario, runbooks, rubric),
    ]


def _warn(source: Source, path: Sequence[PathPart], message: str) -> Problem:
    return source.problem(path, message, severity="warning")


def _clock(seconds: float) -> str:
    return "T+" + format_duration(seconds)


def _bytes(value: float) -> str:
    for unit, size in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if abs(value) >= size:
            return f"{value / size:.4g}{unit}"
    return f"{value:.0f}"


def _round_up(value: float, step: float) -> float:
    return math.ceil(value / step - 1e-9) * step


# -- PromQL: the labels an alert can carry, the metrics an expression reads ------------------------


def _tree(expr: str) -> Any:
    try:
        return pp.parse(expr)
    except Exception:  # an expression validation let through but promql-parser refuses: know nothing
        return None


def _children(node: Any) -> list[Any]:
    if isinstance(node, pp.MatrixSelector):
        return [node.vector_selector]
    if isinstance(node, (pp.ParenExpr, pp.UnaryExpr, pp.SubqueryExpr)):
        return [node.expr]
    if isinstance(node, pp.Call):
        return list(node.args)
    if isinstance(node, pp.AggregateExpr):
        return [node.expr] + ([node.param] if node.param is not None else [])
    if isinstance(node, pp.BinaryExpr):
        return [node.lhs, node.rhs]
    return []


def _walk(node: Any) -> Iterable[Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(_children(current))


def _matchers(selector: Any) -> list[Any]:
    found = list(selector.matchers.matchers)
    for group in selector.matchers.or_matchers or ():
        found += list(group)
    return found


def _named_labels(tree: Any) -> set[str]:
    """Label names the expression writes anywhere: in selectors, by/without, on/ignoring,
    group_left/right, and the labels label_replace, label_join and count_values create."""
    names: set[str] = set()
    for node in _walk(tree):
        if isinstance(node, pp.VectorSelector):
            names |= {m.name for m in _matchers(node) if m.name != "__name__"}
        elif isinstance(node, pp.AggregateExpr):
            names |= set(node.modifier.labels) if node.modifier is not None else set()
            if node.op is not None and str(node.op) == "count_values" and isinstance(node.param, pp.StringLiteral):
                names.add(node.param.val)
        elif isinstance(node, pp.BinaryExpr) and node.modifier is not None:
            matching = node.modifier.matching
            names |= set(matching.labels) if matching is not None else set()
            names |= set(node.modifier.group_labels or ())
        elif isinstance(node, pp.Call) and node.func.name in ("label_replace", "label_join"):
            if len(node.args) > 1 and isinstance(node.args[1], pp.StringLiteral):
                names.add(node.args[1].val)
    return names


def _union(*sets: set[str] | None) -> set[str] | None:
    if any(s is _ANY for s in sets):
        return _ANY
    return set().union(*sets)  # type: ignore[arg-type]


def _carried(node: Any) -> set[str] | None:
    """Label names the result of ``node`` can have (None: whatever its series have)."""
    if isinstance(node, (pp.NumberLiteral, pp.StringLiteral)):
        return set()
    if isinstance(node, (pp.VectorSelector, pp.MatrixSelector)):
        return _ANY
    if isinstance(node, (pp.ParenExpr, pp.UnaryExpr, pp.SubqueryExpr)):
        return _carried(node.expr)
    if isinstance(node, pp.Call):
        name = node.func.name
        if name in ("time", "vector", "scalar", "pi"):
            return set()
        if name in ("absent", "absent_over_time"):
            return set().union(*({m.name for m in _matchers(n)} for n in _walk(node) if isinstance(n, pp.VectorSelector)))
        found = _union(*(_carried(arg) for arg in node.args))
        if name in ("label_replace", "label_join") and found is not _ANY and len(node.args) > 1 \
                and isinstance(node.args[1], pp.StringLiteral):
            found.add(node.args[1].val)
        return found
    if isinstance(node, pp.AggregateExpr):
        op = str(node.op)
        if op in ("topk", "bottomk", "limitk", "limit_ratio"):
            return _carried(node.expr)
        modifier = node.modifier
        if modifier is not None and str(modifier.type).endswith("Without"):
            return _carried(node.expr)
        found = set(modifier.labels) if modifier is not None else set()
        if op == "count_values" and isinstance(node.param, pp.StringLiteral):
            found.add(node.param.val)
        return found
    if isinstance(node, pp.BinaryExpr):
        op = str(node.op)
        lhs, rhs = _carried(node.lhs), _carried(node.rhs)
        if op in ("and", "unless"):
            return lhs
        modifier = node.modifier
        matching = modifier.matching if modifier is not None else None
        one_to_one = modifier is None or str(modifier.card).endswith("OneToOne")
        if op != "or" and one_to_one and matching is not None and str(matching.type).endswith("Include"):
            return set(matching.labels)  # on(...) keeps only the labels it names
        return _union(lhs, rhs, set(modifier.group_labels or ()) if modifier is not None else set())
    return _ANY


def _metrics_read(tree: Any) -> set[str] | None:
    """Metric names the expression's selectors read; regexes on ``__name__`` are kept as
    ``re:<pattern>``; None when a selector names no metric at all."""
    names: set[str] = set()
    for node in _walk(tree):
        if not isinstance(node, pp.VectorSelector):
            continue
        if node.name:
            names.add(node.name)
            continue
        named = [m for m in _matchers(node) if m.name == "__name__"]
        equal = [m.value for m in named if str(m.op).endswith("Equal") and not str(m.op).endswith("NotEqual")]
        regex = [m.value for m in named if str(m.op) == "MatchOp.Re"]
        if equal:
            names.add(equal[0])
        elif regex:
            names.add("re:" + regex[0])
        else:
            return _ANY
    return names


@dataclass(frozen=True)
class _Alert:
    """What Alertmanager can see of an alerting rule: its labels, known and unknown."""

    rule: Rule
    known: dict[str, str]
    """alertname and the static labels (templated ones excepted)."""
    unknown: frozenset[str] | None
    """Labels the alert may carry from its series with values not known (None: any label)."""


def _alerts(rules: Sequence[Rule]) -> list[_Alert]:
    recorded: set[str] = {name for rule in rules if rule.record for name in rule.labels}
    static_alert_labels: set[str] = {name for rule in rules if rule.alert for name in rule.labels}
    series_labels = SERIES_LABELS | recorded | static_alert_labels | {"alertname", "alertstate"}
    alerts = []
    for rule in rules:
        if rule.alert is None:
            continue
        tree = _tree(rule.expr)
        known = {"alertname": rule.alert}
        templated = set()
        for name, value in rule.labels.items():
            if "{{" in value:
                templated.add(name)
            else:
                known[name] = value
        if tree is None:
            unknown: frozenset[str] | None = None
        else:
            carried = _carried(tree)
            named = _named_labels(tree) | templated
            unknown = frozenset((series_labels if carried is _ANY else carried) | named) - set(known)
        alerts.append(_Alert(rule, known, unknown))
    return alerts


# -- 1. somebody can be paged -----------------------------------------------------------------------


def _route_match(route: Route, alert: _Alert) -> bool | None:
    """Whether the route matches the alert: True, False or None (depends on unknown labels)."""
    result: bool | None = True
    for text in route.matchers:
        name = parse_matcher(text)[0]
        if name not in alert.known and (alert.unknown is None or name in alert.unknown):
            result = None
        elif not matches(text, alert.known):
            return False
    return result


def _can_page(alert: _Alert, scenario: Scenario) -> bool:
    routing = scenario.routing
    caught = False
    for route in routing.routes:
        hit = _route_match(route, alert)
        if hit is False:
            continue
        if route.policy is not None:
            return True
        if hit:
            caught = True
            if not route.continue_:
                return False
    return routing.policy is not None and not caught


def _paging(source: Source, scenario: Scenario, rules: Sequence[Rule]) -> list[Problem]:
    where = ("routing",) if "routing" in source.data else ("rules",)
    alerts = _alerts(rules)
    if not alerts:
        return [_warn(source, where, "the scenario has no alert rules; nothing will page: add an alerting rule "
                                     "(alert, expr, labels) to rules.groups or to a file of rule_files, with labels "
                                     "a route of routing sends to an escalation policy")]
    if any(_can_page(alert, scenario) for alert in alerts):
        return []
    routing = scenario.routing
    paging = [r for r in routing.routes if r.policy is not None]
    if not paging and routing.policy is None:
        policies = [p.id for p in scenario.escalation_policies]
        if not policies:
            fix = ("add an escalation policy (escalation_policies: [{id: oncall, levels: [{notify: [rota/ID]}]}]) "
                   "and send alerts to it with routing.policy or a route's policy")
        else:
            fix = f"set routing.policy (or a route's policy) to one of the escalation policies: {', '.join(policies)}"
        return [_warn(source, where, "no alert rule can page anyone: no route has an escalation policy and "
                                     f"routing.policy is not set; {fix}")]
    carried = sorted({f"{k}={v}" for a in alerts for k, v in a.known.items() if k != "alertname"})
    carry = f"rules carry {', '.join(carried[:6])}{', ...' if len(carried) > 6 else ''}" if carried \
        else "rules carry no labels but alertname"
    needs = [" and ".join(r.matchers) or "(any alert)" for r in paging]
    need = f"routes need {'; or '.join(needs)}" if needs else "no route has a policy"
    if routing.policy is not None:
        need += f"; the default routing.policy ({routing.policy}) only gets alerts that no route matches"
    fix = _label_fix(paging[0] if paging else None, alerts[0])
    return [_warn(source, where, "no alert rule can page anyone: no route with an escalation policy matches "
                                 f"any rule's labels ({carry}; {need}); {fix}")]


def _label_fix(route: Route | None, alert: _Alert) -> str:
    """What to write so that ``route`` (or the default policy) gets the alert."""
    if route is None:
        return "add a route with a policy that matches the rules, or change the route without a policy that catches them"
    failing = [m for m in route.matchers if _route_match(Route(matchers=[m]), alert) is False]
    if failing:
        name, op, value = parse_matcher(failing[0])
        if op == "=":
            return f"add `{name}: {value}` to a rule's labels or a route matching the rules"
        return f"give a rule labels that satisfy {failing[0]} or add a route matching the rules"
    return ("move the route with the policy before the route without one that catches the rules, "
            "or add a route matching the rules")


# -- 2. the ground-truth fixes can work -----------------------------------------------------------


def _fixes(source: Source, scenario: Scenario, experiments: Sequence[str]) -> list[Problem]:
    fleet = scenario.fleet
    problems: list[Problem] = []
    for index, fix in enumerate(scenario.ground_truth.fixes):
        kind, _, pattern = fix.target.partition("/")
        here = ("ground_truth", "fixes", index)
        if fix.action == "rollback" and kind == "deployment":
            targets = [(i, d) for i, d in enumerate(fleet.deployments) if fnmatch.fnmatchcase(d.name, pattern)]
            reasons = [_rollback_refused(i, d, scenario, experiments) for i, d in targets]
            if targets and all(reasons):
                problems.append(_warn(source, here + ("action",), f"rollback cannot work: {reasons[0]}"))
        elif fix.action == "free_checkpoint_space" and kind == "job":
            targets = [(i, j) for i, j in enumerate(fleet.training_jobs) if fnmatch.fnmatchcase(j.name, pattern)]
            reasons = [_no_room(i, j) for i, j in targets]
            if targets and all(reasons):
                problems.append(_warn(source, here + ("action",), f"free_checkpoint_space cannot work: {reasons[0]}"))
    return problems


def _rollback_refused(index: int, deployment: Any, scenario: Scenario, experiments: Sequence[str]) -> str | None:
    """Why a rollback of the deployment is refused or useless, or None when it can work."""
    name = deployment.name
    rollouts = [f for f in scenario.faults if f.kind in ROLLOUTS and f.target == f"deployment/{name}"
                and f.new_version != deployment.version]
    previous = deployment.previous_version
    if previous is None or previous == deployment.version:
        if rollouts or any(re.search(r"\b(?:bad_)?rollout\b", document) for document in experiments):
            return None
        why = (f"has previous_version equal to its version ({previous})" if previous is not None
               else "has no previous_version")
        return (f"deployment/{name} {why} and no bad_rollout or rollout fault rolls out a new version, so there is "
                f"nothing to roll back to; add `previous_version: <the version before {deployment.version}>` "
                f"to fleet.deployments[{index}], or list another fix")
    if rollouts:
        return None
    leaks = [f for f in scenario.faults if f.kind == "memory_leak" and f.target == f"deployment/{name}"
             and f.version == previous]
    if leaks:
        return (f"it returns deployment/{name} to {previous}, the version that fault {leaks[0].id!r} makes "
                "leak; change the leak's version or the deployment's previous_version, or list another fix")
    return None


def _no_room(index: int, job: Any) -> str | None:
    """Why freeing checkpoint space leaves no room for the next checkpoint, or None."""
    storage = job.storage
    other = max(0.0, storage.used - storage.keep_last * job.checkpoint_size)
    after = other + job.checkpoint_size
    if after + job.checkpoint_size <= storage.capacity:
        return None
    return (f"after deleting old checkpoints the volume of job/{job.name} still holds {_bytes(after)} "
            f"({_bytes(other)} of other data and the newest checkpoint), so the next {_bytes(job.checkpoint_size)} "
            f"checkpoint does not fit in {_bytes(storage.capacity)}; raise storage.capacity or lower storage.used "
            f"of fleet.training_jobs[{index}]")


# -- 3. the root cause can fire a rule ------------------------------------------------------------


def _root_cause_signals(source: Source, scenario: Scenario, rules: Sequence[Rule]) -> list[Problem]:
    wanted = scenario.ground_truth.root_cause.fault
    fault = next((f for f in scenario.faults if f.id == wanted), None)
    alerting = [r for r in rules if r.alert is not None]
    if fault is not None and fault.kind == "rollout":
        return [_warn(source, ("ground_truth", "root_cause", "fault"),
                      f"the root-cause fault {wanted!r} is a rollout, which changes nothing; make it a bad_rollout "
                      "(latency_factor or accuracy_drop) or name the fault that does the harm")]
    if fault is None or not alerting:  # an experiment is the root cause, or nothing can fire at all (see _paging)
        return []
    moved = MOVES.get(fault.kind)
    if moved is None:
        return []
    read = _read_by_alerts(rules)
    if read is _ANY or any(_reads(name, moved) for name in read):
        return []
    telltale = TELLTALE.get(fault.kind) or tuple(sorted(moved))[:3]
    shown = [f'{{__name__=~"{name[3:]}"}}' if name.startswith("re:") else name for name in sorted(read)[:5]]
    reads = f"the rules read {', '.join(shown)}{', ...' if len(read) > 5 else ''}" if shown else "the rules read no metric"
    examples = f"{', '.join(telltale[:-1])} or {telltale[-1]}" if len(telltale) > 1 else "".join(telltale)
    message = (f"the root-cause fault {wanted!r} ({fault.kind}) moves no metric an alert rule reads ({reads}); "
               f"add a rule on a metric it moves, e.g. {examples}")
    return [_warn(source, ("ground_truth", "root_cause", "fault"), message)]


def _reads(name: str, moved: frozenset[str]) -> bool:
    if name.startswith("re:"):
        try:
            pattern = re.compile(name[3:])
        except re.error:
            return True
        return any(pattern.fullmatch(metric) for metric in moved)
    return name in moved


def _read_by_alerts(rules: Sequence[Rule]) -> set[str] | None:
    """Metrics the alerting rules read, through recording rules (and ALERTS, through the others)."""
    reads: dict[str, set[str] | None] = {}
    recorded: dict[str, set[str] | None] = {}
    for rule in rules:
        tree = _tree(rule.expr)
        names = _metrics_read(tree) if tree is not None else _ANY
        if rule.record is not None:
            recorded[rule.record] = _union(recorded.get(rule.record, set()), names)
        else:
            reads[rule.alert or ""] = names
    every_alert = _union(*reads.values())
    result: set[str] = set()
    todo = [every_alert]
    seen: set[str] = set()
    while todo:
        names = todo.pop()
        if names is _ANY:
            return _ANY
        for name in names - seen:
            seen.add(name)
            if name in recorded:
                todo.append(recorded[name])
            elif name in ("ALERTS", "ALERTS_FOR_STATE"):
                todo.append(every_alert)
            else:
                result.add(name)
    return result


# -- 4. the impact starts before the end ----------------------------------------------------------


def _late_impact(source: Source, scenario: Scenario) -> list[Problem]:
    end = scenario.metadata.duration
    fleet = scenario.fleet
    deployments = {d.name: (i, d) for i, d in enumerate(fleet.deployments)}
    jobs = {j.name: (i, j) for i, j in enumerate(fleet.training_jobs)}
    problems: list[Problem] = []
    for index, fault in enumerate(scenario.faults):
        when = fault.when
        key, start = ("at", when.at) if when.at is not None else ("after", when.after)
        if start > end:
            continue  # _after_the_end in references says so already
        here = ("faults", index)
        kind, name = fault.kind, fault.target_name
        found: tuple[Sequence[PathPart], str] | None = None
        if kind == "memory_leak" and name in deployments:
            found = _slow_leak(fault, *deployments[name], scenario, start, end)
        elif kind == "hbm_ecc" and fault.dbe_after is not None and start + fault.dbe_after > end:
            latest = end - start
            found = (("dbe_after",), f"the uncorrectable error (Xid 48) comes at {_clock(start + fault.dbe_after)}, "
                                     f"after the drill ends ({format_duration(end)}), so only correctable errors "
                                     "(DCGM_FI_DEV_ECC_SBE_VOL_TOTAL) will show; set dbe_after below "
                                     f"{format_duration(latest)} for the GPU to fail during the drill")
        elif kind in ROLLOUTS and name in deployments:
            index_d, deployment = deployments[name]
            ready = start + deployment.startup_time + deployment.model_load_time
            if ready > end:
                found = (("when", key), f"the first {fault.new_version} replica is Ready only at {_clock(ready)}, "
                                        f"after the drill ends ({format_duration(end)}): startup_time "
                                        f"{format_duration(deployment.startup_time)} and model_load_time "
                                        f"{format_duration(deployment.model_load_time)} of fleet.deployments[{index_d}]; "
                                        "inject it earlier or shorten the deployment's load time")
        elif kind == "traffic_surge" and start + fault.ramp > end:
            reached = 1 + (fault.factor - 1) * (end - start) / fault.ramp
            found = (("ramp",), f"the surge ramps up until {_clock(start + fault.ramp)}, after the drill ends "
                                f"({format_duration(end)}): by then the load is only {reached:.2g}x of the "
                                f"{fault.factor:g}x factor; set ramp to at most {format_duration(end - start)}")
        elif kind == "checkpoint_storage_full" and name in jobs:
            found = _late_checkpoint(fault, *jobs[name], key, start, end)
        if found is not None:
            problems.append(_warn(source, here + tuple(found[0]), found[1]))
    return problems


def _slow_leak(fault: Any, index: int, deployment: Any, scenario: Scenario, start: float,
               end: float) -> tuple[Sequence[PathPart], str] | None:
    version = fault.version or deployment.version
    rollouts = [f for f in scenario.faults if f.kind in ROLLOUTS and f.target == fault.target]
    if version != deployment.version:
        to_version = [f for f in rollouts if f.new_version == version]
        if to_version:  # pods of the leaking version start with the rollout
            rollout = to_version[0]
            rollout_at = rollout.when.at if rollout.when.at is not None else rollout.when.after
            start = max(start, rollout_at) + deployment.startup_time
        elif version == deployment.previous_version:
            return None  # it leaks once someone rolls back: a trap, not a mistake
        else:
            runs = ", ".join(dict.fromkeys(v for v in (deployment.version, deployment.previous_version) if v))
            return (("version",), f"deployment/{deployment.name} never runs version {version} (it runs {runs}; a "
                                  "rollout or bad_rollout fault can roll out another), so nothing leaks; leave version out "
                                  f"to leak the running {deployment.version}")
    headroom = deployment.memory_limit - deployment.memory_working_set
    per_second = fault.rate_per_hour / 3600
    if headroom <= 0 or per_second <= 0:
        return None
    oom = start + headroom / per_second
    if oom <= end:
        return None
    if end > start:
        least = _round_up(headroom / (end - start) * 3600 / 2**30, 0.1)
        fix = (f"set rate_per_hour to at least {least:g}Gi, or give fleet.deployments[{index}] less headroom "
               "(a lower memory_limit or a higher memory_working_set)")
    else:
        fix = "inject the leak earlier"
    return (("rate_per_hour",), f"the first OOM kill comes at {_clock(oom)}, after the drill ends "
                                f"({format_duration(end)}): the leak fills the {_bytes(headroom)} between "
                                f"memory_working_set and memory_limit at {_bytes(fault.rate_per_hour)}/h, so only "
                                f"container_memory_working_set_bytes will climb; {fix}")


def _late_checkpoint(fault: Any, index: int, job: Any, key: str, start: float,
                     end: float) -> tuple[Sequence[PathPart], str] | None:
    """A full volume hurts at the next checkpoint write: the first ends at interval/2 + write
    time, then one every interval + write time."""
    first = job.checkpoint_interval / 2 + job.checkpoint_write_time
    period = job.checkpoint_interval + job.checkpoint_write_time
    fails = first if start <= first else first + math.ceil((start - first) / period) * period
    if fails <= end:
        return None
    return (("when", key), f"the first checkpoint write to fail ends at {_clock(fails)}, after the drill ends "
                           f"({format_duration(end)}), so only kubelet_volume_stats_available_bytes will show the "
                           f"full volume; inject it earlier or shorten checkpoint_interval "
                           f"({format_duration(job.checkpoint_interval)}) of fleet.training_jobs[{index}]")


# -- 5. a runbook to follow when the rubric scores it ---------------------------------------------


def _runbook_scoring(source: Source, scenario: Scenario, runbooks: Sequence[Runbook], rubric: Rubric) -> list[Problem]:
    if scenario.runbooks or runbooks:
        return []
    criterion = next((c for c in rubric.criteria if isinstance(c, RunbookSteps) and c.weight > 0), None)
    if criterion is None:
        return []
    where = ("runbooks",) if "runbooks" in source.data or "rubric" not in source.data else ("rubric",)
    if _zero_weight_allowed(criterion):
        off = f"set rubric.overrides.{criterion.id}.weight: 0"
    else:
        off = (f"score without it with a rubric file (rubric.file) that has no {criterion.id} criterion "
               "(a weight must be above 0, so an override cannot switch it off)")
    return [_warn(source, where, f"the rubric scores following a runbook ({criterion.id}, weight "
                                 f"{criterion.weight:g}) but the scenario has no runbook; add "
                                 f"`runbooks: [path/to/runbook.md]`, or {off}")]


def _zero_weight_allowed(criterion: RunbookSteps) -> bool:
    try:
        type(criterion).model_validate({**criterion.model_dump(by_alias=True), "weight": 0})
    except ValidationError:
        return False
    return True
