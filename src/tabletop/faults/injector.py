"""Puts the scenario's faults into the fleet on the drill clock and reports their life.

A fault is injected at its ``when.at`` time, or at the first rule evaluation (not before
``when.after``) at which its ``when.condition`` returns samples. After every change in the
fleet the injector asks each active fault whether its impact is over (``fault.mitigated``)
and whether it has ended. The mitigation is credited to the command issued at that moment,
else to the latest responder mitigation since the injection that touched the fault's target
(a rollback or a failover takes effect minutes after its command). A fault whose duration is
up has no impact left: it is recorded as mitigated (by no command) when it ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tabletop.faults.base import ActiveFault
from tabletop.faults.catalog import CATALOG
from tabletop.scenario.faults import FaultBase
from tabletop.sim.fleet import Fleet

Record = Callable[..., Any]
"""``record(kind, data)``, or ``record(kind, data, actor)`` for faults injected at run time."""


class FaultInjector:
    def __init__(self, fleet: Fleet, faults: list[FaultBase], record: Record) -> None:
        self.fleet = fleet
        self.record = record
        self.scheduled = list(faults)
        """The scenario's faults this drill injects (none when it leaves them to an experiment)."""
        self.active: list[ActiveFault] = []
        self.waiting: list[FaultBase] = [f for f in faults if f.when.condition is not None]
        self._mitigated: set[str] = set()
        self._ended: set[str] = set()
        self.last_command: tuple[int, float] | None = None
        """(seq, time) of the latest responder command, to credit mitigations."""
        self.mitigations: list[tuple[int, float, frozenset[str]]] = []
        """(seq, time, objects touched) of each responder mitigation, to credit delayed effects."""
        for fault in faults:
            if fault.when.at is not None:
                fleet.later(fault.when.at, lambda fault=fault: self.inject(fault))
        fleet.watchers.append(self.check)

    def check_conditions(self, holds: Callable[[str], bool]) -> None:
        """Inject condition-triggered faults whose condition holds now."""
        for fault in list(self.waiting):
            if self.fleet.now >= fault.when.after and holds(fault.when.condition or ""):
                self.waiting.remove(fault)
                self.inject(fault)

    def inject(self, spec: FaultBase, actor: str | None = None, command: int | None = None) -> ActiveFault:
        """Put ``spec`` into the fleet now; ``actor`` is who asked for it at run time (the
        ``fault.injected`` event's actor; None for the scenario's own and background faults),
        ``command`` the seq of the ``fault`` command that did."""
        fault = CATALOG[spec.kind](spec, self.fleet)  # type: ignore[attr-defined]
        params = fault.inject()
        self.active.append(fault)
        data = {
            "fault": spec.id, "kind": spec.kind, "target": spec.target,  # type: ignore[attr-defined]
            "description": spec.description, "params": params,
        }
        if command is not None:
            data["command"] = command
        if actor is None:
            self.record("fault.injected", data)
        else:
            self.record("fault.injected", data, actor)
        if spec.duration is not None:
            self.fleet.later(spec.duration, lambda: self._expire(fault))
        self.fleet.changed()
        return fault

    def status(self, fault_id: str) -> str | None:
        """``ended``, ``mitigated`` (impact over, fault still there), ``active``, ``waiting`` (for its
        condition), or None for a fault not injected yet (or unknown)."""
        if fault_id in self._ended:
            return "ended"
        if fault_id in self._mitigated:
            return "mitigated"
        if any(f.spec.id == fault_id for f in self.active):
            return "active"
        if any(f.id == fault_id for f in self.waiting):
            return "waiting"
        return None

    def mitigation_applied(self, seq: int, touched: frozenset[str]) -> None:
        """A responder's mitigation (command ``seq``) changed the ``kind/name`` objects ``touched``."""
        self.mitigations.append((seq, self.fleet.now, touched))

    def _expire(self, fault: ActiveFault) -> None:
        if fault.spec.id in self._ended:
            return
        fault.stop()
        if fault.spec.id not in self._mitigated:
            self._mitigated.add(fault.spec.id)
            self.record("fault.mitigated", {"fault": fault.spec.id, "command": None})
        self._end(fault, "duration")

    def _credit(self, fault: ActiveFault, now: float) -> int | None:
        if self.last_command and self.last_command[1] == now:
            return self.last_command[0]
        target = fault.spec.target  # type: ignore[attr-defined]
        return next((seq for seq, t, touched in reversed(self.mitigations) if t >= fault.injected_at and target in touched), None)

    def _end(self, fault: ActiveFault, reason: str) -> None:
        self._ended.add(fault.spec.id)
        self.record("fault.ended", {"fault": fault.spec.id, "reason": reason})

    def check(self) -> None:
        now = self.fleet.now
        for fault in self.active:
            fault_id = fault.spec.id
            if fault_id in self._ended:
                continue
            if fault_id not in self._mitigated and fault.impact_over():
                self._mitigated.add(fault_id)
                self.record("fault.mitigated", {"fault": fault_id, "command": self._credit(fault, now)})
            reason = fault.ended()
            if reason is not None:
                self._end(fault, reason)

