"""The state of the incident that responders build up: roles, severity, hypotheses, progress."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Incident:
    roles: dict[str, str] = field(default_factory=dict)
    """Role → participant holding it."""
    severity: str | None = None
    hypotheses: list[tuple[str, str]] = field(default_factory=list)
    steps_done: dict[str, list[int]] = field(default_factory=dict)
    """Runbook id → step numbers done, in order."""
    status_updates: int = 0
    delivered_injects: set[str] = field(default_factory=set)
    replied_injects: set[str] = field(default_factory=set)
    resolved_at: float | None = None

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None
