"""The fleet as API objects, with resourceVersions, published for the server threads.

``sync`` (drill thread only) compares every object's fingerprint with the last one seen;
an object that changed is rendered again under the next resourceVersion (one counter for the
whole twin, like etcd's revision) and its change is kept for watches. Events come from the
timeline's ``fleet.event`` entries. After a sync the store publishes an immutable ``View`` (one
attribute rebinding); server threads read only views and the kept changes, never the fleet.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tabletop.twin import objects
from tabletop.twin.objects import Key, Rendered, World
from tabletop.twin.resources import RESOURCES
from tabletop.twin.tables import Age, encode_cells, row_cells

if TYPE_CHECKING:
    from tabletop.drill.engine import Drill
    from tabletop.twin.watch import Watcher

HISTORY = 50_000
"""Changes kept for watches resuming from a resourceVersion (older ones get 410 Expired)."""
EVENTS = 5_000
"""Kubernetes events kept (the oldest expire)."""
RECHECK = 1.0
"""Wall seconds between full comparisons when nothing on the timeline says the fleet changed."""


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


@dataclass(eq=False)
class Entry:
    """One object as the API serves it (immutable once published)."""

    resource: str
    namespace: str
    name: str
    rv: int
    obj: dict[str, Any]
    raw: bytes
    labels: dict[str, str]
    fields: dict[str, str]
    cells: tuple[bytes | Age, ...]
    fingerprint: Any = None
    _meta: bytes | None = field(default=None, repr=False)

    @property
    def uid(self) -> str:
        return self.obj["metadata"]["uid"]

    def partial(self) -> bytes:
        """The object as ``PartialObjectMetadata`` (what table rows carry by default)."""
        if self._meta is None:
            self._meta = (b'{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":'
                          + _dumps(self.obj["metadata"]) + b"}")
        return self._meta

    def row(self, now: float, include: str = "Metadata") -> bytes:
        cells = row_cells(self.cells, now)
        if include == "None":
            return b'{"cells":' + cells + b"}"
        return b'{"cells":' + cells + b',"object":' + (self.raw if include == "Object" else self.partial()) + b"}"

    def with_rv(self, rv: int) -> "Entry":
        obj = dict(self.obj, metadata=dict(self.obj["metadata"], resourceVersion=str(rv)))
        return Entry(self.resource, self.namespace, self.name, rv, obj, _dumps(obj), self.labels, self.fields, self.cells,
                     self.fingerprint)


@dataclass(frozen=True)
class Change:
    """What a watch sees: ADDED, MODIFIED or DELETED, with the object before and after."""

    type: str
    before: Entry | None
    after: Entry

    @property
    def rv(self) -> int:
        return self.after.rv


@dataclass
class View:
    """Everything servable at one moment: objects by resource, the resourceVersion and the drill's clock."""

    rv: int
    now: float
    objects: dict[str, dict[Key, Entry]]
    _sorted: dict[str, list[Entry]] = field(default_factory=dict)
    _items: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def sorted(self, resource: str) -> list[Entry]:
        listed = self._sorted.get(resource)
        if listed is None:
            listed = self._sorted[resource] = [e for _, e in sorted(self.objects[resource].items())]
        return listed

    def at(self, now: float) -> "View":
        """The same objects at a later moment of the drill."""
        return View(self.rv, now, self.objects, self._sorted, self._items)

    def changed(self, rv: int, now: float, objects: dict[str, dict[Key, Entry]], resources: set[str]) -> "View":
        """A view where ``resources`` changed (what was worked out for the others is kept)."""
        return View(rv, now, objects, {r: v for r, v in self._sorted.items() if r not in resources},
                    {k: v for k, v in self._items.items() if k[0] not in resources})

    def items(self, resource: str, namespace: str) -> bytes:
        """The JSON items of a whole list (``namespace`` "" for all), joined once per view."""
        joined = self._items.get((resource, namespace))
        if joined is None:
            entries = self.sorted(resource)
            joined = self._items[(resource, namespace)] = b",".join(
                e.raw for e in entries if not namespace or e.namespace == namespace)
        return joined


def make_entry(resource: str, key: Key, rendered: Rendered, rv: int, fingerprint: Any = None) -> Entry:
    obj = rendered.obj
    obj["metadata"]["resourceVersion"] = str(rv)
    return Entry(resource, key[0], key[1], rv, obj, _dumps(obj), dict(obj["metadata"].get("labels") or {}),
                 objects.fields(resource, obj), encode_cells(rendered.cells), fingerprint)


class Store:
    def __init__(self, drill: "Drill") -> None:
        self.drill = drill
        self.world = World(drill)
        self.kinds = [kind(self.world) for kind in objects.KINDS]
        self.rv = 0
        self.entries: dict[str, dict[Key, Entry]] = {r.name: {} for r in RESOURCES}
        """Every resource served; those without a kind (events aside) stay empty."""
        self._event_keys: deque[Key] = deque()
        self._timeline_seen = 0
        self._pods: dict[str, tuple[str, str]] = {}
        """Pod name -> (namespace, uid) of the last pod seen with that name (for events)."""
        self.lock = threading.Lock()
        """Held while publishing, and by a watch taking its starting point."""
        self.history: deque[Change] = deque(maxlen=HISTORY)
        self.watchers: set["Watcher"] = set()
        self.view = View(0, drill.now, {r: {} for r in self.entries})
        self._synced: tuple[int, int] | None = None
        self._checked = 0.0

    # drill thread ------------------------------------------------------------------------------
    def sync(self, force: bool = False) -> None:
        """Bring the objects up to date with the fleet and publish them (drill thread).

        Whatever the API shows changes with an event on the timeline, or with a pod coming or
        going; without either (and unless ``force``d) only the clock moves on, and the fleet is
        compared in full only every ``RECHECK`` seconds, in case."""
        drill = self.drill
        mark = (len(drill.timeline.events), len(drill.fleet.pods))
        if not force and mark == self._synced and time.monotonic() - self._checked < RECHECK:
            if self.view.now != drill.now:
                self.view = self.view.at(drill.now)
            return
        self._synced = mark
        self._checked = time.monotonic()
        changes: list[Change] = []
        changed: set[str] = set()
        self.world.begin()
        for kind in self.kinds:
            if self._sync_kind(kind, changes):
                changed.add(kind.resource)
        if self._sync_events(changes):
            changed.add("events")
        if not changes:
            if self.view.now != self.drill.now:
                self.view = self.view.at(self.drill.now)
            return
        published = dict(self.view.objects)
        for resource in changed:
            published[resource] = dict(self.entries[resource])
        with self.lock:
            self.view = self.view.changed(self.rv, self.drill.now, published, changed)
            self.history.extend(changes)
            for watcher in list(self.watchers):
                watcher.offer(changes)

    def _sync_kind(self, kind: Any, changes: list[Change]) -> bool:
        resource = kind.resource
        old = self.entries[resource]
        new: dict[Key, Entry] = {}
        before = len(changes)
        for key, fingerprint, item in kind.items():
            entry = old.get(key)
            if entry is not None and entry.fingerprint == fingerprint:
                new[key] = entry
                continue
            self.rv += 1
            fresh = make_entry(resource, key, kind.render(item), self.rv, fingerprint)
            if entry is not None and entry.uid != fresh.uid:
                changes.append(Change("DELETED", entry, entry.with_rv(self.rv)))
                self.rv += 1
                fresh = fresh.with_rv(self.rv)
                entry = None
            new[key] = fresh
            changes.append(Change("ADDED" if entry is None else "MODIFIED", entry, fresh))
            if resource == "pods":
                self._pods[key[1]] = (key[0], fresh.uid)
        if len(new) != len(old) or len(changes) != before:
            for key in old.keys() - new.keys():
                self.rv += 1
                changes.append(Change("DELETED", old[key], old[key].with_rv(self.rv)))
        self.entries[resource] = new
        return len(changes) != before

    def _sync_events(self, changes: list[Change]) -> bool:
        events = self.drill.timeline.events
        if len(events) == self._timeline_seen:
            return False
        store = self.entries["events"]
        before = len(changes)
        for event in events[self._timeline_seen:]:
            if event.kind != "fleet.event":
                continue
            rendered = objects.render_event(self.world, event.seq, event.t, event.data, self._pods)
            if rendered is None:
                continue
            metadata = rendered.obj["metadata"]
            key = (metadata["namespace"], metadata["name"])
            self.rv += 1
            entry = make_entry("events", key, rendered, self.rv)
            store[key] = entry
            self._event_keys.append(key)
            changes.append(Change("ADDED", None, entry))
            while len(self._event_keys) > EVENTS:
                gone = store.pop(self._event_keys.popleft())
                self.rv += 1
                changes.append(Change("DELETED", gone, gone.with_rv(self.rv)))
        self._timeline_seen = len(events)
        return len(changes) != before

    def entry(self, resource: str, namespace: str, name: str) -> Entry | None:
        """The current entry (drill thread, after a sync)."""
        return self.entries[resource].get((namespace, name))

    # any thread ----------------------------------------------------------------------------------
    def changes_since(self, rv: int) -> list[Change] | None:
        """Changes after ``rv``, or None when they are no longer kept (call holding ``lock``)."""
        history = self.history
        if rv >= self.view.rv:
            return []
        if not history or history[0].rv > rv + 1:
            return None
        return [c for c in history if c.rv > rv]
