"""Who is on call in a rota at a given moment, and when the shifts change."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from tabletop.scenario.oncall import Rota


def on_call(rota: Rota, moment: datetime) -> str:
    shifts = math.floor((moment - rota.start).total_seconds() / rota.shift_length)
    return rota.members[shifts % len(rota.members)]


def shift_changes(rota: Rota, begin: datetime, end: datetime) -> list[datetime]:
    """Shift boundaries strictly after ``begin`` and not after ``end`` where the person changes."""
    first = math.floor((begin - rota.start).total_seconds() / rota.shift_length) + 1
    changes = []
    index = first
    while True:
        moment = rota.start + timedelta(seconds=index * rota.shift_length)
        if moment > end:
            return changes
        if on_call(rota, moment) != on_call(rota, moment - timedelta(seconds=1)):
            changes.append(moment)
        index += 1
