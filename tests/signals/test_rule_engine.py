"""Rule groups on virtual time: recording rules, the alert lifecycle, ALERTS series, problems."""

from __future__ import annotations

from typing import Any

import pytest

from tabletop.scenario.rules import RuleGroup
from tabletop.signals.rule_engine import (
    AlertTransition,
    RuleEngine,
    RuleFailure,
    RuleProblem,
    check_rule_group,
)
from tabletop.signals.store import SeriesStore

from . import load, query


class Drill:
    """An engine over a store, evaluating group 0 at given times and recording what it reports."""

    def __init__(self, store: SeriesStore, *groups: dict[str, Any], default_interval: float = 60.0):
        self.store = store
        self.transitions: list[AlertTransition] = []
        self.failures: list[RuleFailure] = []
        self.engine = RuleEngine(
            [RuleGroup.model_validate(g) for g in groups],
            store,
            default_interval,
            self.transitions.append,
            self.failures.append,
        )

    def run(self, *times: float, group: int = 0) -> None:
        for t in times:
            self.engine.evaluate_group(group, t)

    def states(self) -> list[tuple[float, str, str]]:
        return [(tr.t, tr.state, tr.previous) for tr in self.transitions]


def alert_group(expr: str, interval: str = "1m", **rule: Any) -> dict[str, Any]:
    return {"name": "g", "interval": interval, "rules": [{"alert": "High", "expr": expr, **rule}]}


def minutes(*ms: float) -> list[float]:
    return [m * 60.0 for m in ms]


def test_alert_fires_exactly_when_it_has_been_pending_for_the_for_duration() -> None:
    store = SeriesStore()
    load(store, 'x{a="q"}', "10x10")
    drill = Drill(store, alert_group("x > 5", **{"for": "2m"}))
    drill.run(*minutes(0, 1, 2, 3))
    assert drill.states() == [(0.0, "pending", "inactive"), (120.0, "firing", "pending")]
    firing = drill.transitions[-1]
    assert firing.active_since == 0.0 and firing.fired_at == 120.0 and firing.group == "g"


def test_for_is_checked_only_at_evaluations() -> None:
    store = SeriesStore()
    load(store, "x", "10x10")
    drill = Drill(store, alert_group("x > 5", interval="50s", **{"for": "2m"}))
    drill.run(0.0, 50.0, 100.0, 150.0)
    assert drill.states() == [(0.0, "pending", "inactive"), (150.0, "firing", "pending")]


def test_for_zero_fires_at_the_first_evaluation() -> None:
    store = SeriesStore()
    load(store, "x", "10")
    drill = Drill(store, alert_group("x > 5"))
    drill.run(0.0)
    assert drill.states() == [(0.0, "firing", "inactive")]


def test_flapping_condition_restarts_the_pending_period() -> None:
    store = SeriesStore()
    load(store, "x", "10 0 10 10 10")
    drill = Drill(store, alert_group("x > 5", **{"for": "2m"}))
    drill.run(*minutes(0, 1, 2, 3, 4))
    assert drill.states() == [
        (0.0, "pending", "inactive"),
        (60.0, "resolved", "pending"),
        (120.0, "pending", "inactive"),
        (240.0, "firing", "pending"),
    ]
    resolved = drill.transitions[1]
    assert not resolved.was_firing and resolved.fired_at is None
    assert drill.transitions[3].active_since == 120.0


def test_keep_firing_for() -> None:
    # As promtool 2.42 evaluates it: the condition ends at 4m; the alert keeps firing while
    # less than 3m have passed since, resolves at 7m, and a new alert starts pending at 10m.
    store = SeriesStore()
    load(store, 'x{a="q"}', "10 10 10 10 0 0 0 0 0 0 10")
    drill = Drill(store, alert_group("x > 5", **{"for": "2m", "keep_firing_for": "3m"}))
    drill.run(*minutes(*range(11)))
    assert drill.states() == [
        (0.0, "pending", "inactive"),
        (120.0, "firing", "pending"),
        (420.0, "resolved", "firing"),
        (600.0, "pending", "inactive"),
    ]
    assert drill.transitions[2].was_firing
    assert query(store, "ALERTS", 360.0) == {
        'ALERTS{a="q", alertname="High", alertstate="firing"}': 1.0
    }
    assert query(store, "ALERTS", 420.0) == {}


def test_alerts_series_and_their_stale_markers() -> None:
    store = SeriesStore()
    load(store, 'x{a="q"}', "10 10 10 0")
    drill = Drill(store, alert_group("x > 5", labels={"severity": "page"}, **{"for": "1m"}))
    drill.run(0.0)
    assert query(store, "ALERTS", 0.0) == {
        'ALERTS{a="q", alertname="High", alertstate="pending", severity="page"}': 1.0
    }
    drill.run(60.0)
    # The pending series got a stale marker at 60: only the firing one is left.
    assert query(store, "ALERTS", 60.0) == {
        'ALERTS{a="q", alertname="High", alertstate="firing", severity="page"}': 1.0
    }
    assert query(store, "ALERTS_FOR_STATE", 60.0) == {
        'ALERTS_FOR_STATE{a="q", alertname="High", severity="page"}': 0.0
    }
    drill.run(120.0, 180.0)
    assert query(store, "ALERTS", 180.0) == {}
    assert query(store, "ALERTS_FOR_STATE", 180.0) == {}


def test_labels_and_annotations_are_templated() -> None:
    store = SeriesStore()
    load(store, 'errors{job="api", instance="a:9090"}', "0.0567")
    drill = Drill(
        store,
        alert_group(
            "errors > 0.05",
            labels={"severity": "page", "team": "{{ $labels.job }}-oncall"},
            annotations={
                "summary": "{{ $labels.instance }}: {{ $value | humanizePercentage }} errors",
                "raw": "{{ .Value }}",
            },
        ),
    )
    drill.run(0.0)
    [fired] = drill.transitions
    assert fired.labels == {
        "alertname": "High",
        "instance": "a:9090",
        "job": "api",
        "severity": "page",
        "team": "api-oncall",
    }
    assert list(fired.labels) == sorted(fired.labels)
    assert fired.annotations == {"raw": "0.0567", "summary": "a:9090: 5.67% errors"}
    assert fired.value == 0.0567


def test_transitions_are_ordered_by_label_set() -> None:
    store = SeriesStore()
    for inst in ("c", "a", "b"):
        load(store, f'up{{instance="{inst}"}}', "0")
    drill = Drill(store, alert_group("up == 0"))
    drill.run(0.0)
    assert [tr.labels["instance"] for tr in drill.transitions] == ["a", "b", "c"]
    assert [a.labels["instance"] for a in drill.engine.active_alerts()] == ["a", "b", "c"]


def test_value_and_annotations_follow_the_latest_evaluation() -> None:
    store = SeriesStore()
    load(store, "x", "6 7 8")
    drill = Drill(store, alert_group("x > 5", annotations={"v": "{{ $value }}"}, **{"for": "5m"}))
    drill.run(0.0, 60.0, 120.0)
    [alert] = drill.engine.active_alerts()
    assert (alert.state, alert.value, alert.annotations, alert.active_since) == ("pending", 8.0, {"v": "8"}, 0.0)


def test_recording_rules_feed_later_rules_and_go_stale() -> None:
    store = SeriesStore()
    load(store, 'req{job="api", code="500"}', "0+6x3")
    load(store, 'req{job="api", code="200"}', "0+54x3")
    load(store, 'req{job="web", code="200"}', "0+60x1")  # stops after t=60
    groups = [
        {
            "name": "rec",
            "rules": [
                {"record": "job:req:rate1m", "expr": "sum by (job) (rate(req[1m]))", "labels": {"tier": "1"}},
                {"alert": "Busy", "expr": "job:req:rate1m > 0.5"},
            ],
        },
        {"name": "other", "interval": "30s", "rules": [{"record": "total", "expr": "sum(job:req:rate1m)"}]},
    ]
    drill = Drill(store, *groups, default_interval=15.0)
    assert [(g.name, g.interval) for g in drill.engine.groups] == [("rec", 15.0), ("other", 30.0)]
    drill.run(60.0)
    drill.run(60.0, group=1)
    assert query(store, "job:req:rate1m", 60.0) == {
        'job:req:rate1m{job="api", tier="1"}': 1.0,
        'job:req:rate1m{job="web", tier="1"}': 1.0,
    }
    assert query(store, "total", 60.0) == {"total{}": 2.0}
    assert [(tr.labels["job"], tr.state) for tr in drill.transitions] == [("api", "firing"), ("web", "firing")]
    drill.run(180.0)  # the web series has no samples in [120, 180] any more
    assert query(store, "job:req:rate1m", 180.0) == {'job:req:rate1m{job="api", tier="1"}': 1.0}
    assert query(store, 'job:req:rate1m{job="web"}', 179.0) == {'job:req:rate1m{job="web", tier="1"}': 1.0}


def test_recording_a_scalar_and_removing_a_label() -> None:
    store = SeriesStore()
    load(store, 'x{a="1", drop="me"}', "3")
    drill = Drill(
        store,
        {
            "name": "g",
            "rules": [
                {"record": "now", "expr": "time()"},
                {"record": "x:clean", "expr": "x", "labels": {"drop": ""}},
            ],
        },
    )
    drill.run(30.0)
    assert query(store, "now", 30.0) == {"now{}": 30.0}
    assert query(store, "x:clean", 30.0) == {'x:clean{a="1"}': 3.0}


def test_evaluation_errors_are_reported_once_and_keep_the_alert_state() -> None:
    store = SeriesStore()
    load(store, 'a{job="x", i="1"}', "1x5")
    load(store, 'a{job="x", i="2"}', "1x5")
    load(store, 'b{job="x"}', "1x5")
    drill = Drill(store, alert_group("a + on(job) group_left b > 1"))
    drill.run(0.0)
    assert drill.states() == [(0.0, "firing", "inactive")] * 2
    load(store, 'b{job="x", extra="1"}', "1x5")  # "b" now matches twice: a matching error
    drill.run(60.0, 120.0)
    assert [(f.t, f.rule) for f in drill.failures] == [(60.0, "High")]
    assert "many-to-many matching not allowed" in drill.failures[0].message
    assert len(drill.transitions) == 2
    assert [a.state for a in drill.engine.active_alerts()] == ["firing", "firing"]


def test_duplicate_alert_label_sets_fail_the_rule() -> None:
    store = SeriesStore()
    load(store, 'up{instance="a"}', "0")
    load(store, 'up{instance="b"}', "0")
    drill = Drill(store, alert_group("up == 0", labels={"instance": "all"}))
    drill.run(0.0)
    assert drill.transitions == []
    assert drill.failures[0].message == "vector contains metrics with the same labelset after applying alert labels"


def test_group_limit() -> None:
    store = SeriesStore()
    load(store, 'up{instance="a"}', "0 0")
    load(store, 'up{instance="b"}', "1 0")
    group = alert_group("up == 0")
    group["limit"] = 1
    drill = Drill(store, group)
    drill.run(0.0, 60.0)
    assert drill.states() == [(0.0, "firing", "inactive"), (60.0, "resolved", "firing")]
    assert drill.failures[0].message == "exceeded limit of 1 with 2 alerts"
    assert drill.engine.active_alerts() == []


def test_invalid_rules_are_refused_when_the_engine_is_built() -> None:
    with pytest.raises(ValueError, match=r"rules\[0\]\.expr"):
        Drill(SeriesStore(), alert_group("rate(x[5m:1m])"))


def test_check_rule_group_reports_every_problem() -> None:
    group = RuleGroup.model_validate(
        {
            "name": "g",
            "rules": [
                {"alert": "A", "expr": "up == 0", "labels": {"team": "{{ $labels.job | nope }}"}},
                {"alert": "B", "expr": 'sum(rate(x[5m])) >\n  holt_winters(y[1h], 0.5, 0.5)'},
                {"alert": "C", "expr": '"a string"', "annotations": {"s": "{{ if $value }}x{{ end }}"}},
                {"record": "bad name", "expr": "up", "labels": {"1x": "y"}},
                {"record": "ok:rule", "expr": "hour() > 8"},
            ],
        }
    )
    problems = check_rule_group(group)
    assert problems == [
        RuleProblem("rules[0].labels.team", 'template: function "nope" is not supported'),
        RuleProblem("rules[1].expr", "unknown function with name 'holt_winters'", 2, 3),
        RuleProblem("rules[2].expr", "a rule expression must be a vector or a scalar"),
        RuleProblem("rules[2].annotations.s", "template: {{if}} is not supported"),
        RuleProblem("rules[3].record", "invalid recording rule name 'bad name'"),
        RuleProblem("rules[3].labels.1x", "invalid label name '1x'"),
        RuleProblem(
            "rules[4].expr",
            "function hour() cannot be used: it reads the calendar, and a drill's clock is virtual",
            1,
            1,
        ),
    ]
