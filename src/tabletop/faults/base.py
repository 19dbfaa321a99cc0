"""What every fault of the catalog does: inject itself, say when its impact is over, end."""

from __future__ import annotations

from typing import Any, ClassVar

from tabletop.scenario.faults import FaultBase
from tabletop.sim.fleet import Fleet


class ActiveFault:
    """A fault injected into the fleet.

    ``inject`` changes the fleet and returns the parameters worth recording. The injector asks
    ``impact_over`` and ``ended`` after every change in the fleet: the first tells when the
    fleet no longer suffers from the fault (a mitigation worked, or it healed), the second when
    the fault itself is gone (e.g. a GPU reset). ``stop`` undoes the fault when its duration is up.
    """

    kind: ClassVar[str]

    def __init__(self, spec: FaultBase, fleet: Fleet) -> None:
        self.spec = spec
        self.fleet = fleet
        self.injected_at = fleet.now

    @property
    def target(self) -> Any:
        return self.fleet.lookup(self.spec.target)

    def inject(self) -> dict[str, Any]:
        raise NotImplementedError

    def impact_over(self) -> bool:
        return False

    def ended(self) -> str | None:
        """Why the fault is over (``reboot``, ``mitigation``, ...), or None while it lasts."""
        return None

    def stop(self) -> None:
        """Undo the fault at the end of its duration."""
