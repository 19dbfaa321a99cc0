"""Running Prometheus's ``promtool``: the exact oracle for rule files and rule evaluation.

promtool comes with the Debian package ``prometheus``; it is looked up on ``PATH``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

INSTALL_HINT = "install the Debian package 'prometheus' (apt-get install prometheus), which provides promtool"


class PromtoolMissing(RuntimeError):
    """promtool is not on PATH."""


def find_promtool() -> str:
    """Path of the promtool binary; PromtoolMissing (saying how to install it) when absent."""
    found = shutil.which("promtool")
    if found is None:
        raise PromtoolMissing(f"promtool is not on PATH: {INSTALL_HINT}")
    return found


def run_promtool(*args: str | Path, timeout: float = 300) -> tuple[bool, str]:
    """Run ``promtool ARGS``; whether it succeeded and what it printed (stdout and stderr
    interleaved as written, so that each file's complaints follow its own header)."""
    result = subprocess.run(
        [find_promtool(), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    return result.returncode == 0, result.stdout


def check_rule_files(*files: str | Path) -> tuple[bool, str]:
    """``promtool check rules FILE...``."""
    return run_promtool("check", "rules", *files)


def run_unit_tests(*files: str | Path) -> tuple[bool, str]:
    """``promtool test rules FILE...``."""
    return run_promtool("test", "rules", *files)
