"""The scenario's rules rewritten for a real Prometheus that watches a paced drill.

A paced drill runs at speed S: virtual time ``V0 + (wall - W0) * S`` (``Clock``). Its metric
values are virtual (counters count virtual events, ``*_timestamp_seconds`` gauges hold virtual
Unix times) but Prometheus stamps every scraped sample with wall time and evaluates rules on
wall time. ``scale_expr`` rewrites an expression so that, evaluated by Prometheus at wall time
w over wall-stamped samples, it gives what the expression gives at virtual time
``V0 + (w - W0) * S`` in the headless rule engine; ``scale_rule_groups`` does so for every
rule and divides ``for``, ``keep_firing_for`` and group ``interval`` by S;
``prometheus_durations`` gives the scrape and evaluation intervals and the
``--query.lookback-delta`` flag the same way. Together an alert fires at the wall time that
corresponds to the virtual time it fires at headless, within one evaluation interval.

The rewrite walks promql-parser's AST and prints every node itself: the binding's own
``str()`` is not faithful (it prints ``x[1500ms]`` as ``x{}[1s]``, a step-less subquery
``x[5m:]`` as the range ``x[5m]``, and string values unescaped). Parentheses are exactly the
parsed ``ParenExpr`` nodes and every replacement is one parenthesised term, so precedence,
right-associative ``^``, unary minus, ``bool``, ``on``/``ignoring``, ``group_left``/
``group_right``, ``by``/``without`` and string literals (``"[5m]"`` stays text) come out as
they went in. The result is parsed again before it is returned.

Time in the expression
======================

====================================  =====================================================
construct                             on wall time
====================================  =====================================================
range ``v[r]``                        ``v[r/S]``: the same samples (they are S times denser
                                      on the wall clock)
subquery ``e[r:s]``                   ``e'[r/S:s/S]`` (``e'[r/S:]`` keeps the default step,
                                      the global evaluation interval, scaled by
                                      ``prometheus_durations``)
``offset d``                          ``offset d/S`` (negative offsets too)
``@ t``                               ``@ W0 + (t - V0)/S``; ``@ start()``, ``@ end()`` stay
``time()``, ``start()``, ``end()``    ``(V0 + (time() - W0) * S)``: Unix time is virtual
``timestamp(v)``, ``ts_of_*_over_     ``(V0 + (timestamp(v) - W0) * S)``: sample
time(v[r])``                          timestamps are wall times
``minute()`` ... ``year()`` (no       ``minute(vector(<virtual time()>))``; with an argument
argument: ``vector(time())``)         they read its values, which are virtual, and stay
``range()``, ``step()``               ``(range() * S)``: a span of seconds (0 in rules)
``rate``, ``irate``, ``deriv``        ``(rate(...) / S)``: per wall second is S times per
                                      virtual second
``predict_linear(v[r], t)``           ``predict_linear(v[r/S], t/S)``: the slope is per wall
                                      second, so t seconds ahead are t/S wall seconds
``increase``, ``delta``, ``idelta``,  stay: differences of values, and the extrapolation to
``changes``, ``resets``               the range's ends uses ratios of times, scale-free
``*_over_time`` (avg min max sum      stay: functions of the values in the range, whatever
count quantile stddev stdvar last     the spacing (``first_over_time``, ``mad_over_time``
present first mad absent)             too)
``double_exponential_smoothing``      stays: it reads the sequence of values, not their
                                      times (``holt_winters`` in Prometheus 2)
``histogram_quantile``,               stay: value functions; of rates they read the rates
``histogram_fraction``,               already divided by S (a ratio of rates is scale-free
``histogram_*``                       anyway)
math, trigonometry, ``clamp*``,       stay: values in, values out
``round``, ``sgn``, ``sort*``,
``label_*``, ``scalar``, ``vector``,
``absent``, ``info``, ``pi``,
``max_of``, ``min_of``
aggregations, binary operators        stay (their operands are rewritten)
====================================  =====================================================

Refused with ``TimescaleError`` (what cannot be made exact): a scaled duration below
Prometheus's 1 ms resolution; a subquery step that is not a whole number of milliseconds
once scaled, or a clock whose wall grid of that step does not fall on multiples of the step
in virtual time (Prometheus evaluates a subquery at multiples of its step since the Unix
epoch: ``V0 - W0 * S`` must be a multiple of the step); an ``@`` before 1970 on either
clock; reading ``ALERTS_FOR_STATE`` (Prometheus writes wall-clock activation times into it);
a function this table does not know. Other durations are rounded to the millisecond: off by
at most S/2 ms of virtual time. A step-less subquery (``e[r:]``) steps by Prometheus's global
evaluation interval, which an expression does not name: its grid is not checked.

What the rewrite cannot reach: the lookback of instant selectors (5m by default) is the
``--query.lookback-delta`` flag (``prometheus_durations``); staleness markers are
clock-free. Label and annotation templates are left as they are: ``$value`` is already
virtual, and the templates tabletop accepts run no queries.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import promql_parser as pp

from tabletop.scenario.rules import Rule, RuleGroup
from tabletop.signals.promtool_rules import prom_duration, rule_file_text
from tabletop.signals.promtool_series import format_number


class TimescaleError(ValueError):
    """A rule or duration that Prometheus on wall time cannot evaluate as the drill's clock does."""


@dataclass(frozen=True)
class Clock:
    """The drill's clock against the wall clock (Unix seconds): at wall time ``wall_origin``
    the drill's virtual Unix time was ``virtual_origin``, and it runs ``speed`` virtual seconds
    per wall second."""

    speed: float
    wall_origin: float
    virtual_origin: float

    def __post_init__(self) -> None:
        if not (isinstance(self.speed, int | float) and math.isfinite(self.speed) and self.speed > 0):
            raise TimescaleError(f"the drill's speed must be a positive number, got {self.speed!r}")
        for name in ("wall_origin", "virtual_origin"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value)):
                raise TimescaleError(f"the clock's {name} must be a finite number of Unix seconds, got {value!r}")

    def virtual(self, wall: float) -> float:
        """The virtual Unix time at wall time ``wall``."""
        return self.virtual_origin + (wall - self.wall_origin) * self.speed

    def wall(self, virtual: float) -> float:
        """The wall time at which the drill's virtual Unix time is ``virtual``."""
        return self.wall_origin + (virtual - self.virtual_origin) / self.speed

    def grid_offset(self, step: float) -> float:
        """Virtual seconds (in ``[0, step)``) from a multiple of ``step`` to the virtual time of
        each wall-clock multiple of ``step / speed``: 0 when the two grids coincide."""
        return math.fmod(self.virtual_origin - self.wall_origin * self.speed, step) % step


# -- durations ------------------------------------------------------------------------------------

RESOLUTION_MS = 1
"""Prometheus counts durations and timestamps in whole milliseconds."""
GRID_TOLERANCE = 1e-3
"""Virtual seconds by which a subquery's wall grid may miss the virtual one (float noise)."""


def _wall_ms(seconds: float, speed: float, what: str) -> int:
    """``seconds`` of virtual time as whole milliseconds of wall time; TimescaleError when a
    non-zero duration would be shorter than Prometheus's resolution."""
    ms = seconds * 1000 / speed
    if 0 < ms < RESOLUTION_MS:
        raise TimescaleError(
            f"{what} at speed {speed:g}x would last {ms:.3g} ms of wall time, below Prometheus's "
            f"{RESOLUTION_MS} ms resolution: use a speed of at most {seconds * 1000 / RESOLUTION_MS:g}x")
    return round(ms)


def _wall_seconds(seconds: float, speed: float, what: str) -> float:
    return _wall_ms(seconds, speed, what) / 1000


def _seconds(delta: timedelta) -> float:
    return delta / timedelta(seconds=1)


def _duration_text(delta: timedelta) -> str:
    """A promql-parser duration (possibly negative, for offsets) in Prometheus notation."""
    seconds = _seconds(delta)
    return ("-" if seconds < 0 else "") + prom_duration(abs(seconds))


# -- the function table ---------------------------------------------------------------------------

PER_SECOND = frozenset({"rate", "irate", "deriv"})
SAMPLE_TIMES = frozenset({"timestamp", "ts_of_min_over_time", "ts_of_max_over_time", "ts_of_last_over_time",
                          "ts_of_first_over_time"})
NOW = frozenset({"time", "start", "end"})
SPANS = frozenset({"range", "step"})
CALENDAR = frozenset({"minute", "hour", "day_of_week", "day_of_month", "day_of_year", "days_in_month", "month",
                      "year"})
PREDICT = "predict_linear"
AS_IS = frozenset({
    "increase", "delta", "idelta", "changes", "resets",
    "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time", "quantile_over_time",
    "stddev_over_time", "stdvar_over_time", "last_over_time", "present_over_time", "first_over_time",
    "mad_over_time", "absent_over_time", "double_exponential_smoothing", "holt_winters",
    "histogram_quantile", "histogram_fraction", "histogram_count", "histogram_sum", "histogram_avg",
    "histogram_stddev", "histogram_stdvar",
    "abs", "ceil", "floor", "exp", "sqrt", "ln", "log2", "log10", "sgn", "round", "clamp", "clamp_min", "clamp_max",
    "acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan", "tanh", "deg", "rad", "pi",
    "sort", "sort_desc", "sort_by_label", "sort_by_label_desc", "label_replace", "label_join",
    "scalar", "vector", "absent", "info", "max_of", "min_of",
})  # fmt: skip
"""Functions whose result does not depend on how fast time runs (see the module's table)."""
WALL_SERIES = frozenset({"ALERTS_FOR_STATE"})
"""Series Prometheus writes itself whose values are wall-clock times."""

# -- printing -------------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_MATCH_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}


def _string(value: str) -> str:
    """A PromQL double-quoted string (Go escapes) that reads back as ``value``."""
    return json.dumps(value, ensure_ascii=False)


def _label(name: str) -> str:
    return name if _LABEL_NAME.fullmatch(name) else _string(name)


def _labels(names: Sequence[str]) -> str:
    return "(" + ", ".join(_label(name) for name in names) + ")"


def _matcher(m: Any) -> str:
    return f"{_label(m.name)}{_MATCH_OPS[str(m.op)]}{_string(m.value)}"


class _Rewrite:
    """Prints a promql-parser AST as PromQL, with the drill's time mapped onto the wall clock."""

    def __init__(self, clock: Clock, source: str) -> None:
        self.clock = clock
        self.source = source
        self.kinds: dict[type, Callable[[Any], str]] = {
            pp.VectorSelector: self.vector_selector,
            pp.MatrixSelector: self.matrix_selector,
            pp.SubqueryExpr: self.subquery,
            pp.Call: self.call,
            pp.AggregateExpr: self.aggregate,
            pp.BinaryExpr: self.binary,
            pp.UnaryExpr: self.unary,
            pp.ParenExpr: lambda node: f"({self.node(node.expr)})",
            pp.NumberLiteral: lambda node: format_number(node.val),
            pp.StringLiteral: lambda node: _string(node.val),
        }

    def error(self, message: str) -> TimescaleError:
        return TimescaleError(f"{message} (in {self.source.strip()!r})")

    def node(self, node: Any) -> str:
        kind = self.kinds.get(type(node))
        if kind is None:
            raise self.error(f"{type(node).__name__} is not supported")
        return kind(node)

    def number(self, value: float) -> str:
        return format_number(float(value))

    # time ----------------------------------------------------------------------------------
    def virtual_time(self, wall: str) -> str:
        """The virtual Unix time of the wall time ``wall`` (a scalar or vector expression)."""
        c = self.clock
        return f"({self.number(c.virtual_origin)} + ({wall} - {self.number(c.wall_origin)}) * {self.number(c.speed)})"

    def duration(self, delta: timedelta, what: str) -> str:
        seconds = _seconds(delta)
        try:
            ms = _wall_ms(abs(seconds), self.clock.speed, f"{what} {_duration_text(delta)}")
        except TimescaleError as exc:
            raise self.error(str(exc)) from None
        return ("-" if seconds < 0 else "") + prom_duration(ms / 1000)

    def modifiers(self, node: Any) -> str:
        """`` @ t`` and `` offset d`` of a selector or subquery, on the wall clock."""
        out = ""
        if node.at is not None:
            kind = str(node.at.type)
            if kind == "AtModifierType.Start":
                out += " @ start()"
            elif kind == "AtModifierType.End":
                out += " @ end()"
            else:
                out += f" @ {self.number(self.wall_at(node.at))}"
        if node.offset is not None:
            out += f" offset {self.duration(node.offset, 'offset')}"
        return out

    def wall_at(self, at: Any) -> float:
        try:
            virtual = _seconds(at.at - _EPOCH)
        except (OverflowError, ValueError):
            raise self.error("an @ timestamp beyond the year 9999 is not supported") from None
        except BaseException as exc:
            # promql-parser's binding panics (pyo3 PanicException, a BaseException) reading a
            # timestamp before 1970.
            if type(exc).__name__ != "PanicException":
                raise
            raise self.error("an @ timestamp before 1970 is not supported") from None
        wall = self.clock.wall(virtual)
        if wall < 0:
            raise self.error(f"@ {virtual:g} is wall time {wall:g} with this clock, before 1970")
        return wall

    # selectors -----------------------------------------------------------------------------
    def selector(self, node: Any) -> str:
        name = node.name
        if name in WALL_SERIES:
            raise self.error(f"{name} holds wall-clock activation times, which no rewrite makes virtual")
        matchers = node.matchers
        if matchers.or_matchers:
            inside = " or ".join(", ".join(_matcher(m) for m in group) for group in matchers.or_matchers)
        else:
            inside = ", ".join(_matcher(m) for m in matchers.matchers)
        for m in matchers.matchers:
            if m.name == "__name__" and m.value in WALL_SERIES and str(m.op) == "MatchOp.Equal":
                raise self.error(f"{m.value} holds wall-clock activation times, which no rewrite makes virtual")
        if name is None:
            return "{" + inside + "}"
        if not _METRIC_NAME.fullmatch(name):
            return "{" + ", ".join([_string(name)] + ([inside] if inside else [])) + "}"
        return f"{name}{{{inside}}}" if inside else name

    def vector_selector(self, node: Any) -> str:
        return self.selector(node) + self.modifiers(node)

    def matrix_selector(self, node: Any) -> str:
        vs = node.vector_selector
        return f"{self.selector(vs)}[{self.duration(node.range, 'range')}]{self.modifiers(vs)}"

    def subquery(self, node: Any) -> str:
        step = ""
        if node.step is not None:
            step = self.step(node.step)
        return f"{self.node(node.expr)}[{self.duration(node.range, 'subquery range')}:{step}]{self.modifiers(node)}"

    def step(self, delta: timedelta) -> str:
        """A subquery step: Prometheus evaluates the subquery at wall times that are multiples of
        the step since 1970, which must be multiples of the virtual step in virtual time."""
        seconds, speed = _seconds(delta), self.clock.speed
        text = prom_duration(seconds)
        ms = seconds * 1000 / speed
        if abs(ms - round(ms)) > 1e-6 * max(1.0, ms):
            raise self.error(
                f"subquery step {text} at speed {speed:g}x is {ms:.6g} ms of wall time; Prometheus aligns "
                f"subquery steps to whole milliseconds, so its points would drift off the multiples of {text} "
                f"of virtual time: use a speed that divides {text} into whole milliseconds")
        offset = self.clock.grid_offset(seconds)
        if min(offset, seconds - offset) > GRID_TOLERANCE:
            raise self.error(
                f"subquery step {text}: with this clock Prometheus evaluates it {offset:g}s of virtual time past "
                f"the multiples of {text} the drill uses; start the clock where virtual_origin - wall_origin * "
                f"speed is a multiple of {text}")
        return self.duration(delta, "subquery step")

    # functions -----------------------------------------------------------------------------
    def call(self, node: Any) -> str:
        name = node.func.name
        args = [self.node(arg) for arg in node.args]
        text = f"{name}({', '.join(args)})"
        speed = self.number(self.clock.speed)
        if name in PER_SECOND:
            return f"({text} / {speed})"
        if name in SAMPLE_TIMES or name in NOW:
            return self.virtual_time(text)
        if name in SPANS:
            return f"({text} * {speed})"
        if name in CALENDAR:
            return text if args else f"{name}(vector({self.virtual_time('time()')}))"
        if name == PREDICT:
            ahead = node.args[1]
            if isinstance(ahead, pp.NumberLiteral):
                args[1] = self.number(ahead.val / self.clock.speed)
            else:
                args[1] = f"({args[1]}) / {speed}"
            return f"{name}({', '.join(args)})"
        if name in AS_IS:
            return text
        raise self.error(f"function {name}() has no known behaviour under a faster clock")

    # operators -----------------------------------------------------------------------------
    def aggregate(self, node: Any) -> str:
        out = str(node.op)
        if node.modifier is not None:
            word = "by" if str(node.modifier.type) == "AggModifierType.By" else "without"
            out += f" {word} {_labels(node.modifier.labels)}"
            out += " "
        operands = ([self.node(node.param)] if node.param is not None else []) + [self.node(node.expr)]
        return f"{out}({', '.join(operands)})"

    def binary(self, node: Any) -> str:
        op = str(node.op)
        lhs = self.node(node.lhs)
        if op == "^" and isinstance(node.lhs, pp.NumberLiteral) and lhs.startswith("-"):
            lhs = f"({lhs})"  # -2 ^ 2 reads as -(2 ^ 2)
        return f"{lhs} {op}{self.bin_modifier(node.modifier)} {self.node(node.rhs)}"

    def bin_modifier(self, m: Any) -> str:
        if m is None:
            return ""
        out = " bool" if m.return_bool else ""
        if m.matching is not None:
            word = "on" if str(m.matching.type) == "LabelModifierType.Include" else "ignoring"
            out += f" {word} {_labels(m.matching.labels)}"
        card = str(m.card)
        if card == "VectorMatchCardinality.ManyToOne":
            out += f" group_left {_labels(m.group_labels or [])}"
        elif card == "VectorMatchCardinality.OneToMany":
            out += f" group_right {_labels(m.group_labels or [])}"
        fill = m.fill_values
        if fill is not None and (fill.lhs is not None or fill.rhs is not None):
            if fill.lhs is not None and fill.rhs is not None and _same(fill.lhs, fill.rhs):
                out += f" fill ({self.number(fill.lhs)})"
            else:
                out += f" fill_left ({self.number(fill.lhs)})" if fill.lhs is not None else ""
                out += f" fill_right ({self.number(fill.rhs)})" if fill.rhs is not None else ""
        return out

    def unary(self, node: Any) -> str:
        operand = self.node(node.expr)
        return f"- {operand}" if operand.startswith("-") else f"-{operand}"


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


# -- the API --------------------------------------------------------------------------------------

def scale_expr(expr: str, clock: Clock) -> str:
    """``expr`` for Prometheus on wall time: at wall time w it gives what ``expr`` gives at the
    drill's virtual time ``clock.virtual(w)`` (see the module's table); TimescaleError naming
    the construct when that cannot be made exact."""
    try:
        tree = pp.parse(expr)
    except ValueError as exc:
        raise TimescaleError(f"not a PromQL expression ({exc}): {expr.strip()!r}") from None
    scaled = _Rewrite(clock, expr).node(tree)
    try:
        pp.parse(scaled)
    except ValueError as exc:  # a printer bug: say so rather than hand Prometheus a broken rule
        raise TimescaleError(f"the rewrite of {expr.strip()!r} does not parse ({exc}): {scaled!r}") from None
    return scaled


def _scaled_rule(rule: Rule, clock: Clock) -> Rule:
    update: dict[str, Any] = {"expr": scale_expr(rule.expr, clock)}
    if rule.for_:
        update["for_"] = _wall_seconds(rule.for_, clock.speed, f"for {prom_duration(rule.for_)}")
    if rule.keep_firing_for:
        update["keep_firing_for"] = _wall_seconds(
            rule.keep_firing_for, clock.speed, f"keep_firing_for {prom_duration(rule.keep_firing_for)}")
    return rule.model_copy(update=update)


def scale_rule_groups(groups: Sequence[RuleGroup], clock: Clock) -> list[RuleGroup]:
    """The groups with every expression rewritten by ``scale_expr`` and ``for``,
    ``keep_firing_for`` and ``interval`` divided by the speed; labels and annotations as they
    are. One TimescaleError lists every rule that cannot be rewritten, each as ``group 'g',
    alert 'A': ...``."""
    problems: list[str] = []
    out: list[RuleGroup] = []
    for group in groups:
        update: dict[str, Any] = {}
        if group.interval:
            try:
                update["interval"] = _wall_seconds(group.interval, clock.speed, f"interval {prom_duration(group.interval)}")
            except TimescaleError as exc:
                problems.append(f"group {group.name!r}: {exc}")
        rules = []
        for rule in group.rules:
            try:
                rules.append(_scaled_rule(rule, clock))
            except TimescaleError as exc:
                kind = "alert" if rule.alert is not None else "record"
                problems.append(f"group {group.name!r}, {kind} {rule.name!r}: {exc}")
        out.append(group.model_copy(update={**update, "rules": rules}))
    if problems:
        raise TimescaleError("\n".join(problems))
    return out


def scaled_rule_file(groups: Sequence[RuleGroup], clock: Clock) -> str:
    """One Prometheus rule file of the groups rewritten by ``scale_rule_groups``."""
    return rule_file_text(scale_rule_groups(groups, clock))


def prometheus_durations(scrape_interval: float, evaluation_interval: float, lookback_delta: float = 300.0, *,
                         clock: Clock) -> dict[str, str]:
    """Wall-clock Prometheus durations for a drill whose scrape and evaluation intervals and
    lookback (seconds of virtual time; Prometheus's default lookback is 5m) are given:
    ``scrape_interval``, ``scrape_timeout`` and ``evaluation_interval`` for prometheus.yml's
    ``global`` section and ``query.lookback-delta`` for the ``--query.lookback-delta`` flag.
    The scrape timeout is the scaled scrape interval: a scrape takes wall time, and Prometheus
    refuses a timeout longer than the interval."""
    speed = clock.speed
    for name, seconds in (("scrape_interval", scrape_interval), ("evaluation_interval", evaluation_interval),
                          ("lookback delta", lookback_delta)):
        if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds > 0):
            raise TimescaleError(f"{name} must be a positive number of seconds, got {seconds!r}")
    scrape = prom_duration(_wall_seconds(scrape_interval, speed, f"scrape_interval {prom_duration(scrape_interval)}"))
    evaluation = prom_duration(
        _wall_seconds(evaluation_interval, speed, f"evaluation_interval {prom_duration(evaluation_interval)}"))
    lookback = prom_duration(_wall_seconds(lookback_delta, speed, f"lookback delta {prom_duration(lookback_delta)}"))
    return {"scrape_interval": scrape, "scrape_timeout": scrape, "evaluation_interval": evaluation,
            "query.lookback-delta": lookback}
