from tabletop.scenario.problems import InputError, Problem, format_path, format_problems


def test_format_path():
    assert format_path(("fleet", "deployments", 0, "replicas")) == "fleet.deployments[0].replicas"
    assert format_path(("labels", "nvidia.com/gpu.product")) == 'labels["nvidia.com/gpu.product"]'
    assert format_path(()) == ""


def test_problem_format():
    assert Problem("s.yaml", 3, 5, "metadata.id", "expected a string").format() == "s.yaml:3:5: metadata.id: expected a string"
    assert Problem("s.yaml", 1, 1, "", "the file is empty").format() == "s.yaml:1:1: the file is empty"
    warning = Problem("s.yaml", 2, 1, "faults[0].when.at", "late", "warning")
    assert warning.format() == "s.yaml:2:1: faults[0].when.at: warning: late"


def test_report_is_sorted_deduplicated_and_counted():
    problems = [
        Problem("b.yaml", 1, 1, "", "b"),
        Problem("a.yaml", 10, 2, "x", "second"),
        Problem("a.yaml", 2, 7, "y", "first"),
        Problem("a.yaml", 2, 7, "y", "first"),
        Problem("a.yaml", 12, 1, "z", "late", "warning"),
    ]
    assert format_problems(problems).splitlines() == [
        "a.yaml:2:7: y: first",
        "a.yaml:10:2: x: second",
        "a.yaml:12:1: z: warning: late",
        "b.yaml:1:1: b",
        "3 errors and 1 warning in 2 files",
    ]


def test_input_error_carries_all_problems():
    error = InputError([Problem("a.yaml", 2, 1, "", "two"), Problem("a.yaml", 1, 1, "", "one")])
    assert [p.message for p in error.problems] == ["one", "two"]
    assert str(error).endswith("2 errors in 1 file")
    assert len(error.errors) == 2
