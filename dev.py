#!/usr/bin/env python3
"""Set up the project's virtual environment when needed, then run one task in it.

    python3 dev.py drill [ARGS...]   the drill console on the bundled default scenario
                                     (continues an unfinished one in out/drill)
    python3 dev.py run [ARGS...]     a headless drill of it (expert responder)
    python3 dev.py test [ARGS...]    the whole test suite (ARGS go to pytest)
    python3 dev.py bench [ARGS...]   the benchmarks
    python3 dev.py tabletop ARGS...  any tabletop command

Only a Python 3.11+ interpreter is needed: the environment lives in .venv and is
reinstalled whenever pyproject.toml changes.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".tabletop-installed"
DEFAULT_SCENARIO = ROOT / "scenarios" / "serving-gpu-node-failure.yaml"
CONSOLE_OUT = ROOT / "out" / "drill"


def venv_bin(name: str) -> Path:
    folder = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" else ""
    return VENV / folder / f"{name}{suffix}"


def ensure_environment() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"tabletop needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not venv_bin("python").exists():
        print("dev.py: creating .venv", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    print("dev.py: installing tabletop and its test dependencies into .venv", file=sys.stderr)
    pip = [str(venv_bin("python")), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted + "\n")


def unfinished(timeline: Path) -> bool:
    """A console drill was left before its end (its timeline has no drill.ended line)."""
    if not timeline.exists():
        return False
    for line in reversed(timeline.read_text(encoding="utf-8", errors="replace").splitlines()):
        try:
            return json.loads(line).get("kind") != "drill.ended"
        except ValueError:
            continue  # a line cut off by a crash
    return False


def console_command(rest: list[str]) -> list[str]:
    tabletop = str(venv_bin("tabletop"))
    timeline = CONSOLE_OUT / "timeline.jsonl"
    if not rest and unfinished(timeline):
        print(f"dev.py: continuing the unfinished drill in {timeline}", file=sys.stderr)
        return [tabletop, "drill", "--resume", str(timeline)]
    return [tabletop, "drill", str(DEFAULT_SCENARIO), "--out", str(CONSOLE_OUT), *rest]


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"drill", "run", "test", "bench", "tabletop"}:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    task, rest = argv[0], argv[1:]
    ensure_environment()
    if task == "drill":
        command = console_command(rest)
    elif task == "run":
        command = [str(venv_bin("tabletop")), "run", str(DEFAULT_SCENARIO), "--headless",
                   "--responder", "expert", "--out", str(ROOT / "out" / "run"), *rest]
    elif task == "test":
        command = [str(venv_bin("python")), "-m", "pytest", *rest]
    elif task == "bench":
        command = [str(venv_bin("python")), str(ROOT / "benchmarks" / "run.py"), *rest]
    else:
        command = [str(venv_bin("tabletop")), *rest]
    return subprocess.run(command, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
