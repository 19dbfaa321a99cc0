"""Whatever the file holds, loading it answers with InputError and located problems only."""

from __future__ import annotations

import copy
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tabletop.scenario.loader import load_scenario, validate_files
from tabletop.scenario.problems import InputError, Problem

from .conftest import RUNBOOK, SCENARIO

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BUNDLED = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "scenarios").mkdir()
    (root / "runbooks").mkdir()
    shutil.copy(RUNBOOK, root / "runbooks" / RUNBOOK.name)
    return root


def assert_located(problems: list[Problem]) -> None:
    assert problems
    for problem in problems:
        assert problem.file and problem.line >= 1 and problem.column >= 1 and problem.message
        assert problem.severity in ("error", "warning")


def load(path: Path) -> None:
    try:
        loaded = load_scenario(path)
    except InputError as error:
        assert_located(error.problems)
    else:
        assert loaded.scenario is not None


TOKENS = list("ab:-_ \n\t[]{},&*!|>'\"#?%@`~<=0.9\\é\x00") + [
    "kind: Scenario\n", "kind: Rubric\n", "kind: ResponderScript\n", "groups:\n", "commands:\n", "run: ",
    "<<: ", "&a ", "*a", "  - ", "faults:\n",
]
YAMLISH = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)


@FUZZ
@given(text=YAMLISH)
def test_yamlish_text(workdir: Path, text: str):
    path = workdir / "scenarios" / "text.yaml"
    path.write_text(text, encoding="utf-8")
    load(path)
    for problem in validate_files([path]):
        assert problem.line >= 1 and problem.message


MARKDOWN = st.lists(
    st.sampled_from(["# T\n", "1. ", "2. ", "\n", "   ", "`", "```", "promql\n", "kubectl ", "tabletop ", "cordon ", "<node>",
                     "query ", "mitigate ", "drain ", "node/x ", "sum(rate(x[5m])", "--now ", "step ", "~~~", "'", '"']),
    max_size=40,
).map("".join)


@FUZZ
@given(text=MARKDOWN)
def test_markdown_runbooks(workdir: Path, text: str):
    path = workdir / "runbooks" / "fuzz.md"
    path.write_text(text, encoding="utf-8")
    for problem in validate_files([path]):
        assert problem.line >= 1 and problem.column >= 1 and problem.message


@FUZZ
@given(data=st.binary(max_size=80))
def test_random_bytes(workdir: Path, data: bytes):
    path = workdir / "scenarios" / "bytes.yaml"
    path.write_bytes(data)
    load(path)


def paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path in nested data."""
    found = [prefix] if prefix else []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        found += paths(value, prefix + (key,))
    return found


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.just(10**400),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from(["5m", "node/gpu-serve-2", "gpu_xid", "sum(rate(x[5m])", "{{ $value", "-1", "T+", "../x.md", ""]),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 1, 1)),
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)


@FUZZ
@given(data=st.data())
def test_mutated_bundled_scenario(workdir: Path, data: st.DataObject):
    scenario = copy.deepcopy(BUNDLED)
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(paths(scenario)))
        parent = scenario
        for key in where[:-1]:
            parent = parent[key]
        last = where[-1]
        operation = data.draw(st.sampled_from(["delete", "replace", "rename"]))
        if operation == "delete":
            del parent[last]
        elif operation == "replace":
            parent[last] = data.draw(VALUES)
        elif isinstance(parent, dict):
            parent[data.draw(st.text(min_size=1, max_size=12))] = parent.pop(last)
    path = workdir / "scenarios" / "mutated.yaml"
    path.write_text(yaml.dump(scenario, Dumper=DUMPER, allow_unicode=True, sort_keys=False), encoding="utf-8")
    load(path)
