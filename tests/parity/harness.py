"""Parity cases: tabletop evaluates, a promtool unit-test file states its results, promtool judges.

Each case writes its own test file (and rule file); ``run_cases`` passes all of them to one
``promtool test rules`` call and splits the output by file. A case passes when promtool has no
complaint, except the errors tabletop also raised. A failure names the expression or alert, the
evaluation time, tabletop's answer and promtool's complaint.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import promql_parser as pp

from tabletop.scenario.rules import RuleGroup
from tabletop.signals.promql import PromQLError, parse_query
from tabletop.signals.promtool import run_unit_tests
from tabletop.signals.promtool_rules import prom_duration, rule_file_text
from tabletop.signals.promtool_series import GAP, decode, input_series
from tabletop.signals.promtool_tests import Statement, expr_tests, state_rules, unit_test_text
from tabletop.signals.store import SeriesStore

Key = tuple[str, str, float]
"""("expr", expression, seconds) or ("alert", alertname, seconds)."""

_UNIT = {"y": 31536000.0, "w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001,
         "us": 1e-6, "µs": 1e-6, "ns": 1e-9}  # fmt: skip
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|y|w|d|h|m|s)")
_COMPLAINT = re.compile(r"^ {4}(?:expr|alertname|rule): ", re.M)
_EXPR = re.compile(r'^ {4}expr: ("(?:[^"\\]|\\.)*"), time: ([0-9a-zµ.]+),(?P<err> err:)?')
_ALERT = re.compile(r"^ {4}alertname: (.*?), time: ([0-9a-zµ.]+),")


def seconds(duration: str) -> float:
    """A Go or Prometheus duration (``1m30s``, ``1h0m0s``, ``1d1h``, ``500ms``) in seconds."""
    return sum(float(n) * _UNIT[u] for n, u in _PART.findall(duration))


def store_of(series: Sequence[tuple[str, str]], interval: float) -> SeriesStore:
    """A store holding ``series`` (promtool series text and values), read the way promtool does."""
    store = SeriesStore()
    for text, values in series:
        selector = pp.parse(text)
        labels = {m.name: m.value for m in selector.matchers.matchers}
        name = selector.name or labels.pop("__name__")
        sid = store.series_id(name, labels)
        for i, value in enumerate(decode(values)):
            if value != GAP:
                store.write(sid, i * interval, value)  # type: ignore[arg-type]
    return store


@dataclass
class Expected:
    """What tabletop answered for one entry of a test file."""

    what: str
    tabletop: str
    error: bool = False
    """tabletop refused to evaluate it: promtool must report an error too."""


@dataclass
class Built:
    tests: str
    rules: str | None
    expected: dict[Key, Expected]


def _expr_entries(expr: str, t: float, store: SeriesStore, expected: dict[Key, Expected]) -> list[dict[str, Any]]:
    """Entries stating ``expr`` at ``t``; an expression tabletop cannot evaluate is stated with
    no samples and must make promtool complain with an error."""
    what = f"expr {expr!r} at {t:g}s"
    try:
        result = parse_query(expr).instant(store, t)
    except PromQLError as error:
        expected[("expr", expr, t)] = Expected(what, f"error: {error}", error=True)
        return [{"expr": expr, "eval_time": prom_duration(t), "exp_samples": []}]
    entries = expr_tests(expr, t, result)
    for entry in entries:
        expected[("expr", entry["expr"], t)] = Expected(what, repr(list(result) if isinstance(result, list) else result))
    return entries


@dataclass
class ExprCase:
    """Instant queries over input series, each at each of ``times`` (seconds)."""

    id: str
    series: Sequence[tuple[str, str]]
    exprs: Sequence[str]
    times: Sequence[float]
    interval: float = 60.0

    def build(self) -> Built:
        store = store_of(self.series, self.interval)
        expected: dict[Key, Expected] = {}
        entries = [e for expr in self.exprs for t in self.times for e in _expr_entries(expr, t, store, expected)]
        test = {"interval": f"{self.interval:g}s", "input_series": input_series(store, self.interval, float("inf")),
                "promql_expr_test": entries}
        # promtool loads samples only up to the last multiple of evaluation_interval that is not
        # after the latest eval_time: make that multiple the latest eval_time itself.
        return Built(unit_test_text([], max(self.times) or 60.0, [test]), None, expected)


@dataclass
class RuleCase:
    """Rule groups evaluated every ``evaluation_interval`` up to ``end``; every evaluation's
    firing alerts are stated, and ``exprs`` (e.g. recorded series, ``ALERTS``) at each time."""

    id: str
    series: Sequence[tuple[str, str]]
    groups: Sequence[dict[str, Any]]
    end: float
    interval: float = 60.0
    evaluation_interval: float = 60.0
    exprs: Sequence[str] = field(default_factory=tuple)

    def build(self) -> Built:
        store = store_of(self.series, self.interval)
        groups = [RuleGroup.model_validate(g) for g in self.groups]
        statement = state_rules(list(store), groups, self.evaluation_interval, self.end,
                                checkpoint=self.evaluation_interval)
        return built_statement(self.id, statement, groups, self.exprs)


def built_statement(case_id: str, statement: Statement, groups: Sequence[RuleGroup], exprs: Sequence[str]) -> Built:
    """Files for a rule statement, with ``exprs`` stated at each of its checked times over the
    store the rules ran on (recorded series and ``ALERTS`` included)."""
    assert not statement.failures, statement.failures
    expected: dict[Key, Expected] = {}
    for entry in statement.test["alert_rule_test"]:
        t = seconds(entry["eval_time"])
        alerts = [(a["exp_labels"], a.get("exp_annotations", {})) for a in entry["exp_alerts"]]
        expected[("alert", entry["alertname"], t)] = Expected(f"alert {entry['alertname']} at {t:g}s", repr(alerts))
    statement.test["promql_expr_test"] = [
        e for expr in exprs for t in statement.checked for e in _expr_entries(expr, t, statement.store, expected)
    ]
    return Built(statement.text([f"{case_id}.rules.yaml"]), rule_file_text(groups), expected)


class Case(Protocol):
    id: str

    def build(self) -> Built: ...


@dataclass
class Outcome:
    """promtool's verdict on one case's file."""

    case: str
    output: str
    expected: dict[Key, Expected]

    def failures(self) -> list[str]:
        starts = [m.start() for m in _COMPLAINT.finditer(self.output)] + [len(self.output)]
        head = self.output[: starts[0]].replace("FAILED:", "").replace("SUCCESS", "").strip()
        problems = [f"promtool could not run the test file: {head}"] if head else []
        complained: set[Key] = set()
        for start, end in zip(starts, starts[1:]):
            block = self.output[start:end].rstrip()
            key, is_error = _key(block)
            complained.add(key)
            expected = self.expected.get(key)
            if expected is not None and expected.error and is_error:
                continue
            what = expected.what if expected else f"{key[0]} {key[1]!r} at {key[2]:g}s"
            if key[0] == "alert":
                problems.append(f"{what}:\n{_alert_difference(block)}")
                continue
            tabletop = expected.tabletop if expected else "(not stated by the case)"
            problems.append(f"{what}:\n  tabletop: {tabletop}\n  promtool:\n{block}")
        for key, expected in self.expected.items():
            if expected.error and key not in complained:
                problems.append(f"{expected.what}: tabletop refused it ({expected.tabletop}) but promtool evaluated it")
        return problems

    def check(self) -> None:
        problems = self.failures()
        assert not problems, f"{self.case}: promtool disagrees with tabletop:\n\n" + "\n\n".join(problems)


_ENTRY = re.compile(r"Labels:(\{.*\})\s*\n\s*Annotations:(\{.*\})")
_PAIR = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def _alert_difference(block: str) -> str:
    """What differs between the alerts tabletop stated (exp) and those promtool computed (got)."""
    expected_part, _, got_part = block.partition("got:")
    stated = dict(_ENTRY.findall(expected_part))
    computed = dict(_ENTRY.findall(got_part))
    lines = []
    for labels in sorted(stated.keys() | computed.keys()):
        if labels not in computed:
            lines.append(f"  only tabletop fires {labels}")
        elif labels not in stated:
            lines.append(f"  only promtool fires {labels}")
        elif stated[labels] != computed[labels]:
            ours, theirs = dict(_PAIR.findall(stated[labels])), dict(_PAIR.findall(computed[labels]))
            for name in sorted(ours.keys() | theirs.keys()):
                if ours.get(name) != theirs.get(name):
                    lines.append(f"  {labels} annotation {name}:\n    tabletop: {ours.get(name)}\n    promtool: {theirs.get(name)}")
    return "\n".join(lines) or block


def _key(block: str) -> tuple[Key, bool]:
    if (m := _EXPR.match(block)) is not None:
        return ("expr", ast.literal_eval(m.group(1)), seconds(m.group(2))), m.group("err") is not None
    if (m := _ALERT.match(block)) is not None:
        return ("alert", m.group(1), seconds(m.group(2))), False
    return ("rule", block.splitlines()[0].strip(), 0.0), False


def run_cases(cases: Sequence[Case], directory: Path) -> dict[str, Outcome]:
    """Build every case's files in ``directory``, run promtool once on all of them."""
    built: dict[str, tuple[Path, Built]] = {}
    for case in cases:
        assert case.id not in built, f"two cases are called {case.id}"
        files = case.build()
        path = directory / f"{case.id}.yaml"
        path.write_text(files.tests, encoding="utf-8")
        if files.rules is not None:
            (directory / f"{case.id}.rules.yaml").write_text(files.rules, encoding="utf-8")
        built[case.id] = (path, files)
    _, output = run_unit_tests(*(path for path, _ in built.values()))
    sections = _sections(output)
    return {
        case_id: Outcome(case_id, sections.get(str(path), f"no output for {path}:\n{output}"), files.expected)
        for case_id, (path, files) in built.items()
    }


def _sections(output: str) -> dict[str, str]:
    """promtool's output for each file, by file name."""
    parts = re.split(r"^Unit Testing:  (.*)$", output, flags=re.M)
    return {parts[i].strip(): parts[i + 1].strip("\n") for i in range(1, len(parts) - 1, 2)}
