"""Running Prometheus's ``promtool``: the exact oracle for rule files and rule evaluation.

promtool comes with the Debian package ``prometheus``; it is looked up on ``PATH`` as the live
stack's binaries are (``tabletop.stack.binaries.find``: MissingBinary names the package).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tabletop.stack.binaries import find


def run_promtool(*args: str | Path, timeout: float = 300) -> tuple[bool, str]:
    """Run ``promtool ARGS``; whether it succeeded and what it printed (stdout and stderr
    interleaved as written, so that each file's complaints follow its own header)."""
    result = subprocess.run(
        [str(find("promtool")), *map(str, args)],
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
