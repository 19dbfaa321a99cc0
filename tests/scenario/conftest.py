"""A writable copy of the bundled drill (scenario, runbook) to break in tests."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tabletop.scenario.loader import load_scenario
from tabletop.scenario.problems import InputError

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"
RUNBOOK = ROOT / "runbooks" / "serving-gpu-node-failure.md"


class Drill:
    """Files under a temporary directory, named relative to it (the working directory)."""

    scenario = "scenarios/s.yaml"
    runbook = "runbooks/serving-gpu-node-failure.md"

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "scenarios").mkdir()
        (root / "runbooks").mkdir()
        shutil.copy(SCENARIO, root / self.scenario)
        shutil.copy(RUNBOOK, root / self.runbook)

    def text(self, name: str = scenario) -> str:
        return (self.root / name).read_text(encoding="utf-8")

    def write(self, name: str, text: str) -> None:
        (self.root / name).parent.mkdir(parents=True, exist_ok=True)
        (self.root / name).write_text(text, encoding="utf-8")

    def replace(self, old: str, new: str, name: str = scenario) -> None:
        text = self.text(name)
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {name}"
        self.write(name, text.replace(old, new))

    def replace_section(self, key: str, text: str) -> None:
        """Replace the top-level section ``key:`` of the scenario (up to the next one)."""
        old = self.text()
        new, count = re.subn(rf"(?ms)^{key}:\n.*?(?=^\S)", lambda _: text, old)
        assert count == 1, f"no section {key!r}"
        self.write(self.scenario, new)

    def where(self, needle: str, name: str = scenario, at: str = "") -> str:
        """``file:line:column`` of the only occurrence of ``needle`` in a file, or of ``at``
        inside it."""
        text = self.text(name)
        assert text.count(needle) == 1, f"{needle!r} occurs {text.count(needle)} times in {name}"
        index = text.index(needle) + needle.index(at)
        line = text.count("\n", 0, index) + 1
        return f"{name}:{line}:{index - (text.rfind(chr(10), 0, index) + 1) + 1}"

    def problems(self) -> list[str]:
        """Every problem of loading the scenario, formatted; [] when it loads."""
        try:
            loaded = load_scenario(self.scenario)
        except InputError as error:
            return [p.format() for p in error.problems]
        return [p.format() for p in loaded.warnings]


@pytest.fixture
def drill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Drill:
    monkeypatch.chdir(tmp_path)
    return Drill(tmp_path)
