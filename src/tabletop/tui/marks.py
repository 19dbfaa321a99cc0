"""CSS classes that follow the drill's state (``-paging``, ``-flash``, ``-breached``...)."""

from __future__ import annotations

from textual.dom import DOMNode


def mark(node: DOMNode, name: str, on: bool) -> None:
    """Add or remove a class only when it changes: every change restyles the node and its children."""
    if node.has_class(name) != on:
        node.set_class(on, name)
