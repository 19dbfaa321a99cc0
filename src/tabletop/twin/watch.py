"""Watches: a server thread's view of the changes the drill thread publishes.

A watch starts from a resourceVersion (the changes kept since then are replayed; too old gives
410 Expired) or, without one, from the current objects as ADDED events. Then every published
change of its resource reaches its queue; the server thread filters it by namespace and
selectors the way the API server's watch cache does (an object leaving the selection is
DELETED for this watch, one entering it ADDED) and writes one JSON line per event.
"""

from __future__ import annotations

import json
import queue
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tabletop.twin.errors import ApiError, expired
from tabletop.twin.selectors import FieldSelector, LabelSelector
from tabletop.twin.store import Change, Entry, Store
from tabletop.twin.tables import table

MAX_QUEUED = 100_000
"""A watcher this far behind is dropped (it reconnects from its last resourceVersion)."""


@dataclass(frozen=True)
class Filter:
    resource: str
    namespace: str
    """"" for all namespaces."""
    labels: LabelSelector | None = None
    fields: FieldSelector | None = None

    def matches(self, entry: Entry) -> bool:
        if self.namespace and entry.namespace != self.namespace:
            return False
        if self.labels is not None and not self.labels.matches(entry.labels):
            return False
        return self.fields is None or self.fields.matches(entry.fields)


class Watcher:
    """Changes of one resource, queued by the drill thread for one server thread."""

    def __init__(self, resource: str) -> None:
        self.resource = resource
        self.queue: queue.SimpleQueue[list[Change] | None] = queue.SimpleQueue()
        self.dropped = False

    def offer(self, changes: list[Change]) -> None:
        """Drill thread: hand over the changes of a sync (held: ``Store.lock``)."""
        mine = [c for c in changes if c.after.resource == self.resource]
        if mine and not self.dropped:
            if self.queue.qsize() > MAX_QUEUED:
                self.dropped = True
                self.queue.put(None)
            else:
                self.queue.put(mine)

    def close(self) -> None:
        self.queue.put(None)


def start(store: Store, flt: Filter, since: int | None) -> tuple[Watcher, list[Change], int]:
    """Register a watcher; returns it, the events to send first and the resourceVersion they reach."""
    watcher = Watcher(flt.resource)
    with store.lock:
        view = store.view
        if since is None:
            first = [Change("ADDED", None, e) for e in view.sorted(flt.resource)]
        else:
            kept = store.changes_since(since)
            if kept is None:
                raise expired(f"too old resource version: {since} ({store.history[0].rv - 1 if store.history else view.rv})")
            first = [c for c in kept if c.after.resource == flt.resource]
        store.watchers.add(watcher)
        return watcher, first, view.rv


def stop(store: Store, watcher: Watcher) -> None:
    with store.lock:
        store.watchers.discard(watcher)


def visible(changes: Iterable[Change], flt: Filter) -> Iterator[tuple[str, Entry]]:
    """(type, object) events this watch shows."""
    for change in changes:
        now_in = flt.matches(change.after)
        if change.type == "ADDED":
            if now_in:
                yield "ADDED", change.after
        elif change.type == "DELETED":
            if change.before is not None and flt.matches(change.before):
                yield "DELETED", change.after
        else:
            was_in = change.before is not None and flt.matches(change.before)
            if was_in and now_in:
                yield "MODIFIED", change.after
            elif now_in:
                yield "ADDED", change.after
            elif was_in:
                yield "DELETED", change.after


def event_line(kind: str, entry: Entry, now: float, as_table: str | None = None) -> bytes:
    """One watch event as a JSON line; ``as_table`` ("v1"/"v1beta1") wraps the object in a one-row Table."""
    body = entry.raw if as_table is None else table(entry.resource, [entry.row(now)], str(entry.rv), as_table)
    return b'{"type":"' + kind.encode() + b'","object":' + body + b"}\n"


def bookmark_line(api_version: str, kind: str, rv: int) -> bytes:
    return json.dumps({"type": "BOOKMARK", "object": {"kind": kind, "apiVersion": api_version,
                                                      "metadata": {"resourceVersion": str(rv)}}}).encode() + b"\n"


def error_line(error: ApiError) -> bytes:
    return b'{"type":"ERROR","object":' + error.body() + b"}\n"
