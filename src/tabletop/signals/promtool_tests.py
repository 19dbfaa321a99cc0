"""promtool rule unit tests stating what tabletop computes.

``expr_tests`` states an instant query's result as ``promql_expr_test`` entries; ``state_rules``
evaluates rule groups over input series exactly on promtool's schedule (every group at every
``evaluation_interval`` from time 0, in group order) and states which alerts fire when, with
their labels and annotations, as ``alert_rule_test`` entries. ``unit_test_text`` writes the
test file; ``promtool test rules`` passes it exactly when Prometheus agrees with tabletop.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import promql_parser as pp

from tabletop.scenario.rules import RuleGroup
from tabletop.signals.promql import InstantVector, Scalar
from tabletop.signals.promql.selectors import label_test
from tabletop.signals.promtool_rules import dump_yaml, prom_duration
from tabletop.signals.promtool_series import grid_step, input_series, series_text
from tabletop.signals.rule_engine import AlertTransition, RuleEngine, RuleFailure
from tabletop.signals.store import Series, SeriesStore

NAME_COPY = "tabletop_metric_name"
"""Label that keeps the metric name where a NaN check would drop it (see ``expr_tests``)."""
RULE_OUTPUTS = frozenset({"ALERTS", "ALERTS_FOR_STATE"})
AROUND = (-300.0, -120.0, 120.0, 300.0)
"""Seconds before and after each alert transition whose evaluations are checked too (besides
the transition's own evaluation and the ones just before and after it)."""


def _sample(labels: dict[str, str], value: float) -> dict[str, Any]:
    return {"labels": series_text(labels), "value": value}


def expr_tests(expr: str, eval_time: float, result: InstantVector | Scalar) -> list[dict[str, Any]]:
    """``promql_expr_test`` entries stating ``result`` as the value of ``expr`` at ``eval_time``.

    promtool compares values with ``==``, so NaN never matches itself. A result holding NaN is
    stated in two parts: ``(expr) >= -Inf`` (every other sample, name and value) and
    ``W != bool W`` with ``W`` the result with its metric name copied to a plain label (1
    exactly for the NaN samples, 0 for the others)."""
    at = prom_duration(eval_time)
    if isinstance(result, Scalar):
        if math.isnan(result.value):
            return [{"expr": f"({expr}) != bool ({expr})", "eval_time": at, "exp_samples": [_sample({}, 1.0)]}]
        return [{"expr": expr, "eval_time": at, "exp_samples": [_sample({}, result.value)]}]
    if not any(math.isnan(s.value) for s in result):
        return [{"expr": expr, "eval_time": at, "exp_samples": [_sample(s.labels, s.value) for s in result]}]
    numbers = [_sample(s.labels, s.value) for s in result if not math.isnan(s.value)]
    copied = f'label_replace(({expr}), "{NAME_COPY}", "$1", "__name__", "(.*)")'
    flags = []
    for s in result:
        labels = {k: v for k, v in s.labels.items() if k != "__name__"}
        if s.labels.get("__name__"):
            labels[NAME_COPY] = s.labels["__name__"]
        flags.append(_sample(labels, 1.0 if math.isnan(s.value) else 0.0))
    return [
        {"expr": f"({expr}) >= -Inf", "eval_time": at, "exp_samples": numbers},
        {"expr": f"{copied} != bool {copied}", "eval_time": at, "exp_samples": flags},
    ]


def alert_test(eval_time: float, alertname: str, alerts: Iterable[tuple[dict[str, str], dict[str, str]]]) -> dict[str, Any]:
    """An ``alert_rule_test`` entry: the firing alerts (labels without ``alertname``, annotations)."""
    expected = []
    for labels, annotations in alerts:
        entry: dict[str, Any] = {"exp_labels": {k: v for k, v in labels.items() if k != "alertname"}}
        if annotations:
            entry["exp_annotations"] = dict(annotations)
        expected.append(entry)
    return {"eval_time": prom_duration(eval_time), "alertname": alertname, "exp_alerts": expected}


def unit_test_text(rule_files: Sequence[str], evaluation_interval: float, tests: Sequence[dict[str, Any]],
                   group_order: Sequence[str] = ()) -> str:
    """A promtool unit-test file. promtool loads input samples only up to the last multiple of
    ``evaluation_interval`` not after the latest ``eval_time`` of a test group."""
    document: dict[str, Any] = {"rule_files": list(rule_files), "evaluation_interval": prom_duration(evaluation_interval)}
    if group_order:
        document["group_eval_order"] = list(group_order)
    document["tests"] = list(tests)
    return dump_yaml(document)


# -- which series rules read ----------------------------------------------------------------------

def _selectors(node: Any) -> Iterable[Any]:
    """Every vector selector in a promql-parser expression."""
    if isinstance(node, pp.VectorSelector):
        yield node
        return
    for attr in ("expr", "lhs", "rhs", "param", "vector_selector"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, (str, int, float)):
            yield from _selectors(child)
    for arg in getattr(node, "args", None) or ():
        yield from _selectors(arg)


_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}


def _matcher(selector: Any) -> Callable[[dict[str, str]], bool]:
    """Whether ``selector`` (tabletop refuses ``or`` between matchers) selects a label set."""
    tests = [(m.name, label_test(_OPS[str(m.op)], m.value)) for m in selector.matchers.matchers]
    name = selector.name

    def matches(labels: dict[str, str]) -> bool:
        if name is not None and labels.get("__name__") != name:
            return False
        return all(test(labels.get(label, "")) for label, test in tests)

    return matches


def read_series(store: SeriesStore, groups: Sequence[RuleGroup]) -> list[Series]:
    """The series the groups' expressions select, without the groups' own outputs (recorded
    series, ``ALERTS``, ``ALERTS_FOR_STATE``): the inputs of a unit test."""
    outputs = RULE_OUTPUTS | {rule.record for group in groups for rule in group.rules if rule.record}
    tests = [_matcher(s) for group in groups for rule in group.rules for s in _selectors(pp.parse(rule.expr))]
    return [s for s in store if s.name not in outputs and any(test(s.labels) for test in tests)]


# -- rule groups over input series ----------------------------------------------------------------

def common_interval(groups: Sequence[RuleGroup], default: float) -> float | None:
    """The evaluation interval every group runs at, or None when their intervals differ
    (promtool evaluates every group at one ``evaluation_interval``)."""
    intervals = {group.interval or default for group in groups}
    return intervals.pop() if len(intervals) == 1 else None


@dataclass
class Statement:
    """Rule groups evaluated over input series, stated as one promtool test group."""

    test: dict[str, Any]
    """The entry of the unit-test file's ``tests``."""
    evaluation_interval: float
    group_order: list[str]
    checked: list[float]
    """The evaluation times whose firing alerts are stated."""
    store: SeriesStore
    """The input series and everything the rules wrote (recorded series, ``ALERTS``)."""
    transitions: list[AlertTransition] = field(default_factory=list)
    failures: list[RuleFailure] = field(default_factory=list)
    """Rule evaluations that failed: promtool stops a test at the first one."""

    def text(self, rule_files: Sequence[str]) -> str:
        return unit_test_text(rule_files, self.evaluation_interval, [self.test], self.group_order)


def _copy(series: Sequence[Series], end: float) -> SeriesStore:
    store = SeriesStore()
    for s in series:
        sid = store.series_id(s.name, {k: v for k, v in s.labels.items() if k != "__name__"})
        for t, v in zip(s.ts, s.vs):
            if t > end:
                break
            store.write(sid, t, v)
    return store


def _checked_steps(transitions: Sequence[AlertTransition], interval: float, last: int, checkpoint: float) -> list[int]:
    """Evaluation steps to check: every ``checkpoint`` seconds, the last one, and each
    transition's with the steps next to it and ``AROUND`` it."""
    every = max(1, round(checkpoint / interval))
    steps = set(range(0, last + 1, every)) | {last}
    offsets = {0, -1, 1} | {round(seconds / interval) for seconds in AROUND}
    for transition in transitions:
        at = round(transition.t / interval)
        steps |= {at + offset for offset in offsets}
    return sorted(step for step in steps if 0 <= step <= last)


def state_rules(series: Sequence[Series], groups: Sequence[RuleGroup], evaluation_interval: float, end: float,
                checkpoint: float = 600.0) -> Statement:
    """Evaluate ``groups`` over ``series`` (their samples up to ``end``) at ``0,
    evaluation_interval, ...`` up to ``end``, as promtool does, and state the firing alerts of
    every alerting rule at the checked times."""
    store = _copy(series, end)
    transitions: list[AlertTransition] = []
    failures: list[RuleFailure] = []
    engine = RuleEngine(list(groups), store, evaluation_interval, transitions.append, failures.append)
    last = math.floor(end / evaluation_interval + 1e-9)
    firing: list[dict[str, list[tuple[dict[str, str], dict[str, str]]]]] = []
    for step in range(last + 1):
        for index in range(len(engine.groups)):
            engine.evaluate_group(index, step * evaluation_interval)
        now: dict[str, list[tuple[dict[str, str], dict[str, str]]]] = {}
        for alert in engine.active_alerts():
            if alert.state == "firing":
                now.setdefault(alert.alertname, []).append((alert.labels, alert.annotations))
        firing.append(now)
    alertnames = list(dict.fromkeys(rule.alert for group in groups for rule in group.rules if rule.alert))
    steps = _checked_steps(transitions, evaluation_interval, last, checkpoint)
    grid = grid_step(series, end)
    test = {
        "interval": prom_duration(grid),
        "input_series": input_series(series, grid, end),
        "alert_rule_test": [
            alert_test(step * evaluation_interval, name, firing[step].get(name, ()))
            for step in steps
            for name in alertnames
        ],
    }
    return Statement(test, evaluation_interval, [group.name for group in groups],
                     [step * evaluation_interval for step in steps], store, transitions, failures)
