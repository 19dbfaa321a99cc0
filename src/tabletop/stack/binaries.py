"""Where the monitoring stack's binaries are: Prometheus's and Alertmanager's Debian packages.

``find(tool)`` looks each tool up on ``PATH`` (``signals/promtool.py`` finds promtool with it) and
raises ``MissingBinary`` with one line naming the Debian package that provides it:

=============  ===========================================  ==========================
tool           names tried on PATH                          Debian package
=============  ===========================================  ==========================
prometheus     ``prometheus``                               ``prometheus``
promtool       ``promtool``                                 ``prometheus``
alertmanager   ``prometheus-alertmanager``, ``alertmanager``  ``prometheus-alertmanager``
amtool         ``amtool``                                   ``prometheus-alertmanager``
=============  ===========================================  ==========================
"""

from __future__ import annotations

import shutil
from pathlib import Path

TOOLS: dict[str, tuple[tuple[str, ...], str]] = {
    "prometheus": (("prometheus",), "prometheus"),
    "promtool": (("promtool",), "prometheus"),
    "alertmanager": (("prometheus-alertmanager", "alertmanager"), "prometheus-alertmanager"),
    "amtool": (("amtool",), "prometheus-alertmanager"),
}
"""Each tool: the executable names tried in order, and the Debian package that installs it."""


class MissingBinary(RuntimeError):
    """A tool of the stack is not on PATH; the message says which package to install."""


def package(tool: str) -> str:
    """The Debian package that provides ``tool``."""
    return TOOLS[tool][1]


def install_hint(tool: str) -> str:
    """``install the Debian package `prometheus` (apt-get install prometheus)``."""
    name = package(tool)
    return f"install the Debian package `{name}` (apt-get install {name})"


def find(tool: str) -> Path:
    """The path of ``tool`` (one of ``TOOLS``); MissingBinary naming its package when absent."""
    if tool not in TOOLS:
        raise ValueError(f"unknown tool {tool!r} (known: {', '.join(TOOLS)})")
    for name in TOOLS[tool][0]:
        found = shutil.which(name)
        if found is not None:
            return Path(found)
    raise MissingBinary(f"{tool} not found: {install_hint(tool)}")
