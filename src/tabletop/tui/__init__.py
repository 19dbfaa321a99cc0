"""The drill console: a Textual terminal UI over a ``DrillSession``.

This is the only package that imports textual. It is a thin client of the engine: every
action goes through ``session.execute(actor, line)`` with a canonical command line, and every
number on screen is read off ``session.board``.

Importing this package itself loads nothing heavy (tools that walk the package, like the
core-import test, import it): ``TabletopApp`` is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tabletop.tui.app import TabletopApp

__all__ = ["TabletopApp"]


def __getattr__(name: str) -> Any:
    if name == "TabletopApp":
        from tabletop.tui.app import TabletopApp

        return TabletopApp
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
