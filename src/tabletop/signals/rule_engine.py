"""Prometheus rule groups evaluated on virtual time, the way Prometheus 2.42's rule manager does.

The drill schedules ``evaluate_group(i, t)`` every ``groups[i].interval`` seconds; nothing here
reads a clock. A group's rules run in order at the same ``t``. A recording rule writes its
result into the store (so later rules see it); an alerting rule moves each of its alerts
through pending → firing → resolved, reports every change as an ``AlertTransition`` and writes
the ``ALERTS`` and ``ALERTS_FOR_STATE`` series. Series a rule stops returning get a stale marker.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from tabletop.scenario.rules import Rule, RuleGroup
from tabletop.signals.promql import (
    InstantVector,
    PromQLError,
    Query,
    Sample,
    Scalar,
    StringValue,
    parse_query,
)
from tabletop.signals.store import STALE, LabelKey, SeriesStore, label_key
from tabletop.signals.templating import check_template, render

PENDING, FIRING, RESOLVED, INACTIVE = "pending", "firing", "resolved", "inactive"
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


@dataclass(frozen=True, slots=True)
class AlertTransition:
    """One alert changing state. ``previous`` is the state it left: ``"inactive"`` for a new
    alert, ``"pending"`` or ``"firing"``; a resolved alert that never fired has previous
    ``"pending"``."""

    t: float
    group: str
    alertname: str
    state: str
    """``"pending"``, ``"firing"`` or ``"resolved"``."""
    previous: str
    labels: dict[str, str]
    """The alert's identity: series labels without ``__name__``, rule labels, ``alertname``."""
    annotations: dict[str, str]
    value: float
    active_since: float
    fired_at: float | None
    """When it started firing (None if it has not fired)."""

    @property
    def was_firing(self) -> bool:
        return self.previous == FIRING


@dataclass(frozen=True, slots=True)
class ActiveAlert:
    group: str
    alertname: str
    state: str
    labels: dict[str, str]
    annotations: dict[str, str]
    value: float
    active_since: float
    fired_at: float | None


@dataclass(frozen=True, slots=True)
class RuleFailure:
    """A rule whose evaluation failed (reported when its error message changes)."""

    t: float
    group: str
    rule: str
    message: str


class RuleProblem(NamedTuple):
    """A problem found by ``check_rule_group``: where (key path inside the group), what, and
    for expressions the 1-based line and column inside the expression when known."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None


class RuleEvaluationError(Exception):
    """A rule evaluation that fails the way Prometheus's would (duplicates, limits...);
    ``transitions`` are the alerts it resolved by failing."""

    def __init__(self, message: str, transitions: list[AlertTransition] | None = None) -> None:
        super().__init__(message)
        self.transitions = transitions or []


@dataclass(slots=True)
class _Alert:
    labels: dict[str, str]
    source: dict[str, str]
    """Labels of the result sample it comes from (what templates see as ``$labels``)."""
    value: float
    active_since: float
    state: str = PENDING
    fired_at: float | None = None
    keep_firing_since: float | None = None
    series: dict[str, tuple[int, int]] = field(default_factory=dict)
    """ALERTS and ALERTS_FOR_STATE series ids by state."""


def _sorted(labels: dict[str, str]) -> dict[str, str]:
    return dict(sorted(labels.items()))


def _as_vector(result: InstantVector | Scalar | StringValue) -> list[Sample]:
    """A rule's result as samples: a scalar is one sample without labels (rules are checked
    to be vectors or scalars)."""
    if isinstance(result, Scalar):
        return [Sample({}, result.value)]
    return result


class _Output:
    """The series a rule writes, and those it wrote at its previous evaluation (they get a
    stale marker when they are not written again)."""

    def __init__(self, store: SeriesStore) -> None:
        self.store = store
        self._sids: dict[tuple[str, LabelKey], int] = {}
        self._previous: set[int] = set()

    def sid(self, name: str, labels: dict[str, str], key: LabelKey) -> int:
        """The series ``name{labels}`` (``key`` is ``label_key(labels)``), registered once."""
        sid = self._sids.get((name, key))
        if sid is None:
            sid = self._sids[(name, key)] = self.store.series_id(name, labels)
        return sid

    def write(self, samples: list[tuple[int, float]], t: float) -> None:
        returned = set()
        for sid, value in samples:
            if self._append(sid, t, value):
                returned.add(sid)
        for sid in sorted(self._previous - returned):
            self._append(sid, t, STALE)
        self._previous = returned

    def _append(self, sid: int, t: float, value: float | None) -> bool:
        """Like Prometheus's appender: a sample not newer than the series' newest is dropped."""
        ts = self.store.series(sid).ts
        if ts and ts[-1] >= t:
            return False
        self.store.write(sid, t, value)
        return True


class _RecordingRule:
    def __init__(self, rule: Rule, query: Query, store: SeriesStore) -> None:
        self.rule = rule
        self.query = query
        self.output = _Output(store)
        self.last_error: str | None = None

    def evaluate(self, store: SeriesStore, t: float, limit: int) -> list[AlertTransition]:
        samples = _as_vector(self.query.instant(store, t))
        out = []
        seen = set()
        for sample in samples:
            labels = {k: v for k, v in sample.labels.items() if k != "__name__"}
            for name, value in self.rule.labels.items():
                if value:
                    labels[name] = value
                else:
                    labels.pop(name, None)
            key = label_key(labels)
            if key in seen:
                raise RuleEvaluationError(
                    "vector contains metrics with the same labelset after applying rule labels"
                )
            seen.add(key)
            out.append((self.output.sid(self.rule.record, labels, key), sample.value))
        if limit > 0 and len(out) > limit:
            raise RuleEvaluationError(f"exceeded limit of {limit} with {len(out)} series")
        self.output.write(out, t)
        return []


class _AlertingRule:
    def __init__(self, rule: Rule, query: Query, store: SeriesStore, group: str) -> None:
        self.rule = rule
        self.query = query
        self.group = group
        self.output = _Output(store)
        self.active: dict[LabelKey, _Alert] = {}
        self.last_error: str | None = None
        self.template_name = f"__alert_{rule.alert}"
        """Prometheus's name for the rule's templates (it appears in their error texts)."""

    def evaluate(self, store: SeriesStore, t: float, limit: int) -> list[AlertTransition]:
        results = self._results(_as_vector(self.query.instant(store, t)))
        if not results and not self.active:  # the usual case: nothing to track, nothing changes
            self.output.write([], t)
            return []
        before = {key: alert.state for key, alert in self.active.items()}
        for key, (labels, source, value) in results.items():
            alert = self.active.get(key)
            if alert is not None:
                alert.source = source
                alert.value = value
            else:
                self.active[key] = _Alert(labels, source, value, active_since=t)
        changes: list[tuple[LabelKey, str, str, _Alert]] = []
        for key, alert in list(self.active.items()):
            if key not in results:
                if not self._keeps_firing(alert, t):
                    del self.active[key]
                    changes.append((key, RESOLVED, alert.state, alert))
                    continue
            else:
                alert.keep_firing_since = None
            if alert.state == PENDING and t - alert.active_since >= self.rule.for_:
                alert.state = FIRING
                alert.fired_at = t
            previous = before.get(key, INACTIVE)
            if alert.state != previous:
                changes.append((key, alert.state, previous, alert))
        if limit > 0 and len(self.active) > limit:
            # Prometheus forgets all alerts of the rule; they are reported resolved.
            count = len(self.active)
            dropped = sorted((k, a) for k, a in self.active.items() if k in before)
            self.active = {}
            raise RuleEvaluationError(
                f"exceeded limit of {limit} with {count} alerts",
                [self._transition(t, RESOLVED, before[key], alert) for key, alert in dropped],
            )
        self.output.write(self._series(), t)
        changes.sort(key=lambda change: change[0])
        return [self._transition(t, state, previous, alert) for _, state, previous, alert in changes]

    def _results(self, samples: list[Sample]) -> dict[LabelKey, tuple[dict, dict, float]]:
        """Alert labels, source labels and value of each result sample, keyed by label set."""
        rule = self.rule
        results: dict[LabelKey, tuple[dict, dict, float]] = {}
        for sample in samples:
            labels = {k: v for k, v in sample.labels.items() if k != "__name__"}
            for name, template in rule.labels.items():
                value = render(template, sample.labels, sample.value, name=self.template_name)
                if value:
                    labels[name] = value
                else:
                    labels.pop(name, None)
            labels["alertname"] = rule.alert or ""
            key = label_key(labels)
            if key in results:
                raise RuleEvaluationError(
                    "vector contains metrics with the same labelset after applying alert labels"
                )
            results[key] = (_sorted(labels), sample.labels, sample.value)
        return results

    def _annotations(self, alert: _Alert) -> dict[str, str]:
        """Annotations as of the alert's latest evaluation (rendered when asked for: they
        depend on nothing but its source labels and value)."""
        return {
            name: render(template, alert.source, alert.value, name=self.template_name)
            for name, template in sorted(self.rule.annotations.items())
        }

    def _keeps_firing(self, alert: _Alert, t: float) -> bool:
        if alert.state != FIRING or self.rule.keep_firing_for <= 0:
            return False
        if alert.keep_firing_since is None:
            alert.keep_firing_since = t
        return t - alert.keep_firing_since < self.rule.keep_firing_for

    def _series(self) -> list[tuple[int, float]]:
        """``ALERTS`` and ``ALERTS_FOR_STATE`` samples of the active alerts. Their labels start
        from the rule's own (untemplated) labels, as Prometheus's do."""
        out = []
        for alert in self.active.values():
            sids = alert.series.get(alert.state)
            if sids is None:
                labels = _sorted({**self.rule.labels, **alert.labels, "alertname": self.rule.alert})
                with_state = _sorted({**labels, "alertstate": alert.state})
                sids = alert.series[alert.state] = (
                    self.output.sid("ALERTS", with_state, label_key(with_state)),
                    self.output.sid("ALERTS_FOR_STATE", labels, label_key(labels)),
                )
            out.append((sids[0], 1.0))
            out.append((sids[1], float(int(alert.active_since))))
        return out

    def _transition(self, t: float, state: str, previous: str, alert: _Alert) -> AlertTransition:
        return AlertTransition(
            t=t,
            group=self.group,
            alertname=self.rule.alert or "",
            state=state,
            previous=previous,
            labels=alert.labels,
            annotations=self._annotations(alert),
            value=alert.value,
            active_since=alert.active_since,
            fired_at=alert.fired_at,
        )

    def snapshot(self) -> list[ActiveAlert]:
        return [
            ActiveAlert(
                group=self.group,
                alertname=self.rule.alert or "",
                state=alert.state,
                labels=alert.labels,
                annotations=self._annotations(alert),
                value=alert.value,
                active_since=alert.active_since,
                fired_at=alert.fired_at,
            )
            for _, alert in sorted(self.active.items(), key=lambda item: item[0])
        ]


@dataclass(slots=True)
class GroupState:
    """A rule group as the engine runs it."""

    name: str
    interval: float
    """Seconds between evaluations: the group's own interval or the engine's default."""
    spec: RuleGroup
    rules: list[_RecordingRule | _AlertingRule] = field(default_factory=list)


class RuleEngine:
    def __init__(
        self,
        groups: list[RuleGroup],
        store: SeriesStore,
        default_interval: float,
        on_transition: Callable[[AlertTransition], None],
        on_failure: Callable[[RuleFailure], None] | None = None,
    ) -> None:
        """Parses every rule; ValueError listing all problems if any rule is invalid."""
        problems = [
            f"group {g.name!r}: {p.path}: {p.message}" for g in groups for p in check_rule_group(g)
        ]
        if problems:
            raise ValueError("invalid rules:\n" + "\n".join(problems))
        self.store = store
        self.on_transition = on_transition
        self.on_failure = on_failure
        self.groups: list[GroupState] = []
        for spec in groups:
            state = GroupState(spec.name, spec.interval or default_interval, spec)
            for rule in spec.rules:
                query = parse_query(rule.expr)
                if rule.record is not None:
                    state.rules.append(_RecordingRule(rule, query, store))
                else:
                    state.rules.append(_AlertingRule(rule, query, store, spec.name))
            self.groups.append(state)

    def evaluate_group(self, index: int, t: float) -> None:
        """Evaluate the rules of group ``index`` at virtual time ``t``, in order."""
        group = self.groups[index]
        for rule in group.rules:
            try:
                transitions = rule.evaluate(self.store, t, group.spec.limit)
            except PromQLError as exc:
                self._failed(group, rule, t, str(exc))
                continue
            except RuleEvaluationError as exc:
                self._failed(group, rule, t, str(exc))
                transitions = exc.transitions
            else:
                rule.last_error = None
            for transition in transitions:
                self.on_transition(transition)

    def _failed(
        self, group: GroupState, rule: _RecordingRule | _AlertingRule, t: float, message: str
    ) -> None:
        if rule.last_error != message and self.on_failure is not None:
            self.on_failure(RuleFailure(t, group.name, rule.rule.name, message))
        rule.last_error = message

    def active_alerts(self) -> list[ActiveAlert]:
        """Pending and firing alerts, by group, rule and label set."""
        return [
            alert
            for group in self.groups
            for rule in group.rules
            if isinstance(rule, _AlertingRule)
            for alert in rule.snapshot()
        ]


def check_rule_group(group: RuleGroup) -> list[RuleProblem]:
    """Every problem of the group's rules: expressions, names, label and annotation templates."""
    problems: list[RuleProblem] = []
    if group.limit < 0:
        problems.append(RuleProblem("limit", "must not be negative"))
    for i, rule in enumerate(group.rules):
        at = f"rules[{i}]"
        if rule.record is not None and not _METRIC_NAME.fullmatch(rule.record):
            problems.append(RuleProblem(f"{at}.record", f"invalid recording rule name {rule.record!r}"))
        try:
            query = parse_query(rule.expr)
        except PromQLError as exc:
            problems.append(RuleProblem(f"{at}.expr", exc.message, exc.line, exc.column))
        else:
            if query.value_type not in ("vector", "scalar"):
                problems.append(RuleProblem(f"{at}.expr", "a rule expression must be a vector or a scalar"))
        for name, value in rule.labels.items():
            if not _LABEL_NAME.fullmatch(name) or name == "__name__":
                problems.append(RuleProblem(f"{at}.labels.{name}", f"invalid label name {name!r}"))
            elif rule.alert is not None and (error := check_template(value)) is not None:
                problems.append(RuleProblem(f"{at}.labels.{name}", f"template: {error}"))
        for name, value in rule.annotations.items():
            if not _LABEL_NAME.fullmatch(name):
                problems.append(RuleProblem(f"{at}.annotations.{name}", f"invalid annotation name {name!r}"))
            elif (error := check_template(value)) is not None:
                problems.append(RuleProblem(f"{at}.annotations.{name}", f"template: {error}"))
    return problems
