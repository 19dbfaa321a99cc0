"""The core never loads the terminal UI, and ``tabletop --help`` loads nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("textual", "kubernetes", "chaoslib", "prometheus_client", "simpy", "pydantic")


def run_python(code: str) -> dict:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_core_module_imports_without_textual() -> None:
    loaded = run_python(
        "import importlib, json, pkgutil, sys\n"
        "import tabletop\n"
        "names = [m.name for m in pkgutil.walk_packages(tabletop.__path__, 'tabletop.') if not m.name.startswith('tabletop.tui')]\n"
        "for name in names: importlib.import_module(name)\n"
        "print(json.dumps({'modules': names, 'textual': 'textual' in sys.modules}))\n"
    )
    assert len(loaded["modules"]) > 50  # the walk really found the package
    assert "tabletop.drill.engine" in loaded["modules"] and "tabletop.signals.promql" in loaded["modules"]
    assert loaded["textual"] is False


def test_help_does_not_import_heavy_packages() -> None:
    loaded = run_python(
        "import json, sys\n"
        "from tabletop.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    assert loaded == []
