"""What the generated Markdown documents (postmortem draft, facilitator's guide) share: a strict
jinja2 environment and table-cell escaping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jinja2


def cell(value: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(value).split()).replace("|", "\\|")


def environment(**filters: Callable[..., Any]) -> jinja2.Environment:
    """Undefined names fail loudly; blocks leave no blank lines behind; ``cell`` and ``filters`` are filters."""
    env = jinja2.Environment(
        autoescape=False, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.filters["cell"] = cell
    env.filters.update(filters)
    return env
