"""Pick lists for dialogs, read off the scenario and the simulated fleet (names only)."""

from __future__ import annotations

from tabletop.drill.views import ViewError, rows
from tabletop.faults.catalog import CATALOG
from tabletop.scenario.faults import TARGET_KIND
from tabletop.sim.action_specs import ACTIONS
from tabletop.sim.fleet import Fleet
from tabletop.tui.dialogs.palette import Mitigation
from tabletop.tui.dialogs.params import Param
from tabletop.tui.format import clip

TABLES = {"node": "nodes", "pod": "pods", "deployment": "deployments", "job": "jobs", "featurestore": "featurestores",
          "store": "featurestores", "pipeline": "pipelines"}
"""Object kinds (as targets and placeholder names use them) → the ``get`` view listing them."""
SHOWN = {"pods": ("STATUS", "NODE"), "nodes": ("STATUS", "GPUS"), "deployments": ("READY", "VERSION"),
         "jobs": ("STATE",), "featurestores": ("STATE",), "pipelines": ("PSI",)}


def choices(fleet: Fleet, kind: str) -> list[tuple[str, str]]:
    """(label, name) of every object of ``kind``, labelled with what ``get`` shows of it."""
    table = TABLES.get(kind)
    if table is None:
        return []
    try:
        found = rows(fleet, table)
    except ViewError:
        return []
    return [(f"{row['NAME']}  " + "  ".join(row.get(col, "") for col in SHOWN.get(table, ())), row["NAME"]) for row in found]


def targets(fleet: Fleet) -> list[str]:
    """Every ``kind/name`` of the fleet (for completion)."""
    tables = {"node": fleet.nodes, "pod": fleet.pods, "deployment": fleet.deployments, "job": fleet.jobs,
              "featurestore": fleet.stores, "pipeline": fleet.pipelines}
    return [f"{kind}/{name}" for kind, objects in tables.items() for name in sorted(objects)]


def step_param(fleet: Fleet, name: str) -> Param:
    """A runbook placeholder: a pick list when it names a kind of fleet object."""
    options = choices(fleet, name)
    return Param(name, f"pick the {name}" if options else f"<{name}>", True, tuple(options))


def mitigations(fleet: Fleet) -> list[Mitigation]:
    entries = []
    for action in ACTIONS.values():
        for _, name in choices(fleet, action.target_kind):
            entries.append(Mitigation(action.name, f"{action.target_kind}/{name}", action.summary))
    return entries


def action_params(action: str) -> list[Param]:
    spec = ACTIONS[action]
    out = []
    for name, param in spec.params.items():
        bounds = ""
        if param.minimum is not None and param.maximum is not None:
            bounds = f" ({param.minimum:g}–{param.maximum:g})"
        out.append(Param(name, f"{param.help}{bounds}", param.required))
    return out


def causes() -> list[tuple[str, str]]:
    """Fault kinds a hypothesis can name, with the first line of their description."""
    found = []
    for kind, cls in CATALOG.items():
        doc = " ".join((cls.__doc__ or "").split()).removeprefix("Effect: ")
        first = doc.split(": ")[0].split(". ")[0]
        target = TARGET_KIND.get(kind, "")
        found.append((kind, f"on a {target}: {clip(first, 44)}" if target else clip(first, 50)))
    return found
