"""The Go-template subset of alert labels and annotations (outputs as Prometheus 2.42 renders)."""

from __future__ import annotations

import math

import pytest

from tabletop.signals.templating import check_template, render

LABELS = {"__name__": "x", "instance": "host:9090", "job": "api", "x": "abc", "n": "1234567"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ $labels.instance }} is {{ $value }}", "host:9090 is 1234.5678"),
        ("{{ .Labels.job | toUpper }} {{ toLower .Labels.job }}", "API api"),
        ("{{ $value | humanize }} {{ humanize $value }}", "1.235k 1.235k"),
        ("{{ $value | humanize1024 }} {{ .Labels.n | humanize1024 }}", "1.206ki 1.177Mi"),
        ("{{ 0.0123 | humanizePercentage }}", "1.23%"),
        ("{{ 93784 | humanizeDuration }} {{ 0.25 | humanizeDuration }} {{ 42.5 | humanizeDuration }}", "1d 2h 3m 4s 250ms 42.5s"),
        ('{{ printf "%.2f" $value }} {{ $value | printf "%8.3f|" }}', "1234.57 1234.568|"),
        ('{{ printf "%d %s %v %q" 3 "s" $value "q" }}', '3 s 1234.5678 "q"'),
        ('{{ printf "%d" $value }} {{ printf "%s" }} {{ printf "%d" 1 2 }}', "%!d(float64=1234.5678) %!s(MISSING) 1%!(EXTRA int=2)"),
        ('{{ printf "%5s|%-5s|" "ab" "cd" }}', "   ab|cd   |"),
        ('{{ title "hello world-foo_bar" }}', "Hello World-Foo_bar"),
        ("a  {{- $labels.job }}  b {{ $labels.job -}}   c", "aapi  b apic"),
        ("[{{ $labels.missing }}] {{ 1 }} {{ 1.5 }} {{ -3 }} {{ 1e6 }}", "[] 1 1.5 -3 1e+06"),
        ("{{/* a comment */}}ok {{ $externalLabels.cluster }}|{{ .ExternalURL }}|", "ok ||"),
        ("{{ ($value | humanize) }}", "1.235k"),
        ("no actions at all", "no actions at all"),
    ],
)
def test_render(template: str, expected: str) -> None:
    assert check_template(template) is None
    assert render(template, LABELS, 1234.5678) == expected


def test_special_values_print_as_go_does() -> None:
    assert render("{{ $value }}", {}, math.inf) == "+Inf"
    assert render("{{ $value }} {{ humanize $value }}", {}, math.nan) == "NaN NaN"
    assert render("{{ $value | humanize }}", {}, 0.000123) == "123u"
    assert render("{{ $value }}", {}, 1e-05) == "1e-05"


def test_failures_render_as_an_error_text() -> None:
    text = render("{{ $labels.x | humanize }}", LABELS, 1.0)
    assert text == (
        '<error expanding template: error calling humanize: strconv.ParseFloat: parsing "abc": '
        "invalid syntax>"
    )
    assert render("{{ if $value }}x{{ end }}", {}, 1.0) == "<error expanding template: {{if}} is not supported>"
    assert render("{{ $value", {}, 1.0) == "<error expanding template: unclosed action>"


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{{ if $value }}x{{ end }}", "{{if}} is not supported"),
        ("{{ range $labels }}{{ end }}", "{{range}} is not supported"),
        ('{{ query "up" }}', 'function "query" is not supported'),
        ("{{ $foo }}", 'undefined variable "$foo"'),
        ("{{ $x := 1 }}", "declaring or assigning variables is not supported"),
        ("{{ `raw` }}{{ , }}", "unexpected ',' in command"),
        ("{{ humanize }}", "wrong number of args for humanize: want 1 got 0"),
        ("{{ $value | humanize 2 }}", "wrong number of args for humanize: want 1 got 2"),
        ("{{ $value $value }}", "can't give argument to non-function"),
        ('{{ printf "%t" 1 }}', "printf verb %t is not supported"),
        ("{{ .Nope }}", "can't evaluate field Nope"),
        ("{{ $labels.a.b }}", "can't evaluate field b of Labels"),
        ("{{ }}", "missing value for command"),
        ("{{ ($value }}", "unclosed left paren"),
        ("{{ $value", "unclosed action"),
    ],
)
def test_check_template_names_the_problem(template: str, problem: str) -> None:
    assert check_template(template) == problem
