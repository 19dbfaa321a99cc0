"""Rule groups against promtool: recording rules feeding alerts, ``for`` and ``keep_firing_for``
edges, templated labels and annotations. Every evaluation's firing alerts are stated."""

from __future__ import annotations

import pytest

from .harness import Outcome, RuleCase, run_cases

NAN20 = " ".join(["NaN"] * 20)

RECORDING = RuleCase(
    "recording-feeds-alert",
    series=[
        ('http_requests_total{job="api", code="200"}', "0+100x30"),
        ('http_requests_total{job="api", code="500"}', "0x5 0+30x10 300x14"),
        ('http_requests_total{job="web", code="200"}', "0+50x30"),
        ('http_requests_total{job="web", code="500"}', "0+1x30"),
        ('queue_depth{job="api"}', "1 2 3 _x3 5 stale 7x21"),
    ],
    groups=[
        {"name": "record", "rules": [
            {"record": "job:http_errors:ratio_rate5m",
             "expr": 'sum by (job) (rate(http_requests_total{code="500"}[5m]))\n'
                     "  / sum by (job) (rate(http_requests_total[5m]))"},
            {"record": "job:queue_depth:max", "expr": "max by (job) (queue_depth)", "labels": {"source": "recorded"}},
            {"record": "cluster:scalar:one", "expr": "1"},
        ]},
        {"name": "alert", "rules": [
            {"alert": "HighErrorRatio", "expr": "job:http_errors:ratio_rate5m > 0.1", "for": "3m",
             "labels": {"severity": "page", "team": "{{ $labels.job }}-oncall"},
             "annotations": {"summary": "{{ $labels.job }} fails {{ $value | humanizePercentage }} of requests",
                             "value": "{{ $value }}"}},
            {"alert": "QueueBacklog", "expr": 'job:queue_depth:max{source="recorded"} >= 5', "for": "2m",
             "annotations": {"summary": "queue at {{ $value }}"}},
            {"alert": "AlertsFiring", "expr": 'count(ALERTS{alertstate="firing"}) > 0',
             "annotations": {"count": "{{ $value }} firing"}},
        ]},
    ],
    end=1800,
    exprs=["job:http_errors:ratio_rate5m", "job:queue_depth:max", "cluster:scalar:one", "ALERTS", "ALERTS_FOR_STATE"],
)

FOR_EDGES = RuleCase(
    "for-edges",
    series=[
        ('x{case="exact"}', "0 1 1 1 0 0 0 0 0 0 0 0"),
        ('x{case="flap"}', "0 1 1 0 1 1 0 1 1 0 1 0"),
        ('x{case="refire"}', "0 1 1 1 1 0 0 1 1 1 1 1 0"),
        ('x{case="now"}', "0 1 0 1 1 0 0 1 0 0 0 0"),
        ('x{case="gap"}', "0 1 1 _ _ 1 1 1 _x6 1"),
    ],
    groups=[{"name": "for", "rules": [
        {"alert": "ForExact", "expr": 'x{case="exact"} > 0', "for": "2m"},
        {"alert": "Flapping", "expr": 'x{case="flap"} > 0', "for": "2m"},
        {"alert": "Refire", "expr": 'x{case="refire"} > 0', "for": "1m", "annotations": {"v": "{{ $value }}"}},
        {"alert": "Immediate", "expr": 'x{case="now"} > 0'},
        {"alert": "ThroughGaps", "expr": 'x{case="gap"} > 0', "for": "3m"},
    ]}],
    end=900,
)

FOR_HALF_STEPS = RuleCase(
    "for-between-scrapes",
    series=[('y{case="slow"}', "0 0 1 1 1 0 1 1 1 1 0 0 0 0")],
    groups=[{"name": "fast", "interval": "30s", "rules": [
        {"alert": "NinetySeconds", "expr": "y > 0", "for": "90s"},
        {"alert": "SixtySeconds", "expr": "y > 0", "for": "1m"},
    ]}],
    end=840,
    evaluation_interval=30.0,
)

KEEP_FIRING = RuleCase(
    "keep-firing-for",
    series=[
        ('z{k="a"}', "0 1 1 1 0 0 0 0 0 0 0 0"),
        ('z{k="b"}', "0 1 1 1 0 0 1 0 0 0 0 0 0 0"),
        ('z{k="c"}', "0 1 0 0 0 0 0"),
        ('z{k="d"}', "0 5 6 7 0 0 0 0 0 8 9 9 0 0 0 0 0 0"),
    ],
    groups=[{"name": "keep", "rules": [
        {"alert": "KeepFiring", "expr": "z > 0", "for": "1m", "keep_firing_for": "3m",
         "labels": {"severity": "warning"}, "annotations": {"value": "{{ $value }}", "who": "{{ $labels.k }}"}},
        {"alert": "KeepFiringImmediately", "expr": 'z{k="d"} > 6', "keep_firing_for": "150s"},
    ]}],
    end=1200,
)

VALUES = ["0", "1", "-1", "0.5", "1234.5678", "0.000123", "1e9", "1e-9", "123456789", "-42.5", "90061", "3599.9",
          "0.0015", "NaN", "Inf", "-Inf", "1e27", "1023", "1024", "1048576", "2.5e-07", "-0.25", "86400", "59.99"]
TEMPLATES = RuleCase(
    "templates",
    series=[(f'tmpl{{i="v{n:02d}", word="hello wörld-foo_bar straße {n}", num="{v}"}}', " ".join([v] * 4))
            for n, v in enumerate(VALUES)],
    groups=[{"name": "templates", "rules": [
        {"alert": "Templated", "expr": "tmpl",
         "labels": {"team": "team-{{ $labels.i }}", "size": "{{ $value | humanize }}", "empty": "{{ .Labels.nope }}"},
         "annotations": {
             "humanize": "{{ $value | humanize }}",
             "humanize1024": "{{ humanize1024 $value }}",
             "duration": "{{ $value | humanizeDuration }}",
             "percentage": "{{ $value | humanizePercentage }}",
             "label_number": "{{ $labels.num | humanize }} {{ humanizeDuration $labels.num }}",
             "printf": '{{ printf "%.2f" $value }}',
             "printf_mixed": '{{ printf "%s=%v|%5.1f%%|%-8s|%q|%e|%x|%d" $labels.i $value $value $labels.i $labels.i $value 255 42 }}',
             "printf_wrong": '{{ printf "%d %s" $value $value }}',
             "printf_floats": '{{ printf "%g|%G|%.3g|%8.2e|%+.1f|%E|%F|%-9.4g|" $value $value $value $value $value $value $value $value }}',
             "printf_ints": '{{ printf "%5d|%-4d|%04d|%x|%X|%o|%v|%q|%s" 42 7 -3 255 255 8 12 "a\\"b" "s" }}',
             "printf_missing": '{{ printf "%s and %s" $labels.i }}',
             "value": "{{ $value }} {{ .Value }}",
             "labels": "{{ $labels }}",
             "dot": "{{ .Labels.i }}",
             "strings": '{{ $labels.word | toUpper }} {{ title $labels.word }} {{ toLower "ABC" }}',
             "trim": "[ {{- $labels.i -}} ]  {{/* a comment */}}!",
             "external": "{{ $externalURL }}{{ $externalLabels.env }}",
             "not_a_number": "{{ $labels.word | humanize }}",
             "errors": '{{ humanize $labels }}{{ printf "%s" ($labels.word | humanizeDuration) }}',
             "type_errors": "{{ $value | toUpper }}|{{ toLower $value }}|{{ title 5 }}",
             "multiline": "line one\\n  é {{ humanize1024 $labels.word }}",
         }},
    ]}],
    end=120,
)

SHARED_NAMES = RuleCase(
    "one-alert-name-in-two-groups",
    series=[('disk_free{node="n1"}', "0.5-0.05x12"), ('disk_free{node="n2"}', "0.9x12")],
    groups=[
        {"name": "warning", "rules": [
            {"alert": "DiskFilling", "expr": "disk_free < 0.3", "labels": {"severity": "warning"}}]},
        {"name": "critical", "rules": [
            {"alert": "DiskFilling", "expr": "disk_free < 0.1", "for": "1m", "labels": {"severity": "critical"}},
            {"alert": "NoLabelsNoAnnotations", "expr": "vector(1)"},
            {"alert": "AbsentMetric", "expr": 'absent(disk_free{node="n3"})', "for": "2m",
             "annotations": {"node": "{{ $labels.node }}"}}]},
    ],
    end=720,
)

CASES = [RECORDING, FOR_EDGES, FOR_HALF_STEPS, KEEP_FIRING, TEMPLATES, SHARED_NAMES]


@pytest.fixture(scope="module")
def outcomes(promtool: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    return run_cases(CASES, tmp_path_factory.mktemp("rules"))


@pytest.mark.parametrize("case", [case.id for case in CASES])
def test_rules_agree_with_promtool(case: str, outcomes: dict[str, Outcome]) -> None:
    outcomes[case].check()
