"""Stakeholder messages delivered at their time or when their condition first holds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy

from tabletop.scenario.model import Inject
from tabletop.timers import later


class InjectScheduler:
    def __init__(self, env: simpy.Environment, injects: list[Inject], deliver: Callable[[Inject], Any]) -> None:
        self.env = env
        self.deliver = deliver
        self.by_id = {i.id: i for i in injects}
        self.waiting = [i for i in injects if i.when.condition is not None]
        self.delivered: list[str] = []
        for inject in injects:
            if inject.when.at is not None:
                later(env, inject.when.at, lambda inject=inject: self._deliver(inject))

    def check_conditions(self, holds: Callable[[str], bool]) -> None:
        for inject in list(self.waiting):
            if self.env.now >= inject.when.after and holds(inject.when.condition or ""):
                self.waiting.remove(inject)
                self._deliver(inject)

    def deliver_next_now(self) -> Inject | None:
        """Facilitator: deliver the earliest undelivered inject right away."""
        pending = [i for i in self.by_id.values() if i.id not in self.delivered]
        if not pending:
            return None
        inject = min(pending, key=lambda i: i.when.at if i.when.at is not None else float("inf"))
        if inject in self.waiting:
            self.waiting.remove(inject)
        self._deliver(inject)
        return inject

    def _deliver(self, inject: Inject) -> None:
        if inject.id in self.delivered:
            return
        self.delivered.append(inject.id)
        self.deliver(inject)
