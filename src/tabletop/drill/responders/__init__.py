"""Scripted responders for headless drills: expert, novice, a YAML script, or a recording."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tabletop.drill.responders.base import Responder
    from tabletop.scenario.loader import LoadedScenario

BUILT_IN = ("expert", "novice")


def make_responder(choice: str, loaded: "LoadedScenario") -> "Responder":
    """``expert``, ``novice`` or the path of a responder script (checked against the scenario)."""
    if choice == "expert":
        from tabletop.drill.responders.expert import ExpertResponder

        return ExpertResponder()
    if choice == "novice":
        from tabletop.drill.responders.novice import NoviceResponder

        return NoviceResponder()
    from tabletop.drill.responders.scripted import ScriptResponder
    from tabletop.scenario.loader import load_script

    return ScriptResponder(load_script(Path(choice), loaded.scenario))
