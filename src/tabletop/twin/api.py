"""The Kubernetes API's routes over the twin: discovery, reads, watches, writes, logs.

Reads and watches are answered from the store's published view in the server thread; writes
and logs go to the drill thread through ``Twin.call``. Every failure is a ``Status``: 401
without the configured token, 403 for a caller who is not a participant, 404 for unknown paths
and objects, 405 for verbs a resource does not serve, 406/415 for media types it does not
speak, 409 for stale writes and refused commands, 410 for watches too far behind, 422 for
changes the simulation cannot make. Paths under /tabletop/ are the drill's control API
(``tabletop.twin.control_api``), not Kubernetes'.
"""

from __future__ import annotations

import hmac
import json
import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tabletop.twin import errors, resources, watch
from tabletop.twin.actions import patcher, replacer, scale_of
from tabletop.twin.control_api import ControlApi
from tabletop.twin.objects import FIELDS
from tabletop.twin.patch import PATCH_TYPES
from tabletop.twin.resources import Resource
from tabletop.twin.selectors import FieldSelector, SelectorError, field_selector, label_selector
from tabletop.twin.server import Request, Response, Stream
from tabletop.twin.store import Entry, View
from tabletop.twin.tables import table

if TYPE_CHECKING:
    from tabletop.twin.twin import Twin

PUBLIC = frozenset({"/healthz", "/livez", "/readyz", "/version"})
"""Paths answered without credentials (as an API server lets anyone read them)."""
WATCH_TIMEOUT = 1800.0
BOOKMARK_EVERY = 10.0
FOLLOW_POLL = 0.25
_LIST_KINDS = {r.name: f"{r.kind}List" for r in resources.RESOURCES}


@dataclass(frozen=True)
class Target:
    resource: Resource
    namespace: str
    name: str
    sub: str
    watch: bool


def _json(obj: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(obj).encode())


def _media(accept: str) -> str | None:
    """"json", "table:v1" or "table:v1beta1" for the first acceptable media range; None if none is."""
    if not accept.strip():
        return "json"
    for part in accept.split(","):
        media, *raw = [p.strip() for p in part.split(";")]
        params = dict(p.partition("=")[::2] for p in raw if "=" in p)
        if media not in ("application/json", "application/*", "*/*"):
            continue
        shape = params.get("as")
        if shape is None:
            return "json"
        if shape == "Table" and params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1"):
            return f"table:{params['v']}"
    return None


class Api:
    def __init__(self, twin: "Twin") -> None:
        self.twin = twin
        self.store = twin.store
        self.control = ControlApi(twin)

    # entry point ---------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response | Stream:
        path = request.path.rstrip("/") or "/"
        if path in ("/healthz", "/livez", "/readyz"):
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if path not in PUBLIC:
            self._authenticate(request)
        if ControlApi.handles(path):  # the drill's own verbs (tabletop.chaos.sim reaches them)
            return self.control.handle(request, path)
        if request.method in ("GET", "HEAD"):
            discovery = self._discovery(path, request)
            if discovery is not None:
                return discovery
        if path.startswith("/openapi/") or path in ("/openapi", "/swagger.json"):
            raise errors.no_such_path()
        target = self._route(path, request)
        return self._dispatch(request, target)

    def _authenticate(self, request: Request) -> None:
        token = self.twin.token
        if token is None or self.twin.identity(request.headers) is not None:
            return
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
            raise errors.unauthorized()

    def _discovery(self, path: str, request: Request) -> Response | None:
        if path == "/version":
            return _json(resources.version_document())
        if path == "/api":
            return _json(resources.api_versions(request.headers.get("host", self.twin.address)))
        if path == "/apis":
            return _json(resources.api_group_list())
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) == 2:
            found = resources.resource_list("", parts[1])
        elif parts[0] == "apis" and len(parts) == 2:
            if parts[1] not in resources.GROUPS:
                raise errors.no_such_path()
            return _json(resources.api_group(parts[1]))
        elif parts[0] == "apis" and len(parts) == 3:
            found = resources.resource_list(parts[1], parts[2])
        else:
            return None
        if found is None:
            raise errors.no_such_path()
        return _json(found)

    # routing -------------------------------------------------------------------------------------
    def _route(self, path: str, request: Request) -> Target:
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) >= 3 and parts[1] == "v1":
            group, version, rest = "", "v1", parts[2:]
        elif parts[0] == "apis" and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise errors.no_such_path()
        legacy_watch = rest[0] == "watch"
        if legacy_watch:
            rest = rest[1:]
        namespace = ""
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        if not rest:
            raise errors.no_such_path()
        resource = resources.resource(group, version, rest[0])
        if resource is None or len(rest) > 3:
            raise errors.no_such_path()
        if namespace and not resource.namespaced:
            raise errors.no_such_path()
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        if sub and resources.subresource(resource.name, sub) is None:
            raise errors.no_such_path()
        wants_watch = legacy_watch or request.query.get("watch", "") in ("1", "true", "True")
        return Target(resource, namespace, name, sub, wants_watch)

    def _dispatch(self, request: Request, target: Target) -> Response | Stream:
        method = request.method
        resource, name, sub = target.resource, target.name, target.sub
        if method in ("GET", "HEAD"):
            if not name or target.watch and not sub:
                return self._watch(request, target) if target.watch else self._list(request, target)
            if sub == "log":
                return self._log(request, target)
            if sub == "scale":
                return _json(scale_of(self._get_entry(target)))
            return self._get(request, target)
        if method == "DELETE" and resource.name == "pods" and name and not sub:
            return self._delete_pod(request, target)
        if method == "POST" and resource.name == "pods" and sub == "eviction":
            return self._evict(request, target)
        if method in ("PATCH", "PUT") and name and (
                (resource.name in ("nodes", "deployments") and not sub) or (resource.name == "deployments" and sub == "scale")):
            return self._write(request, target)
        raise errors.method_not_allowed()

    # reads ---------------------------------------------------------------------------------------
    def _entries(self, view: View, request: Request, target: Target) -> list[Entry]:
        resource = target.resource.name
        labels, fields = self._selectors(request, resource)
        listed = view.sorted(resource)
        namespace = target.namespace
        return [e for e in listed if (not namespace or e.namespace == namespace)
                and (labels is None or labels.matches(e.labels)) and (fields is None or fields.matches(e.fields))]

    @staticmethod
    def _selectors(request: Request, resource: str) -> tuple[Any, Any]:
        try:
            return (label_selector(request.query.get("labelSelector")),
                    field_selector(request.query.get("fieldSelector"), frozenset(FIELDS[resource]), resource))
        except SelectorError as error:
            raise errors.bad_request(str(error)) from None

    def _media(self, request: Request) -> str:
        media = _media(request.headers.get("accept", ""))
        if media is None:
            raise errors.not_acceptable("application/json, application/json;as=Table;v=v1;g=meta.k8s.io")
        return media

    def _list(self, request: Request, target: Target) -> Response:
        media = self._media(request)
        view = self.store.view
        resource = target.resource
        head = (f'{{"kind":"{_LIST_KINDS[resource.name]}","apiVersion":"{resource.api_version}",'
                f'"metadata":{{"resourceVersion":"{view.rv}"}},"items":[').encode()
        if media == "json" and not request.query.get("labelSelector") and not request.query.get("fieldSelector"):
            return Response(200, head + view.items(resource.name, target.namespace) + b"]}")
        entries = self._entries(view, request, target)
        if media.startswith("table:"):
            include = request.query.get("includeObject", "Metadata")
            body = table(resource.name, [e.row(view.now, include) for e in entries], str(view.rv), media[6:])
            return Response(200, body)
        return Response(200, head + b",".join(e.raw for e in entries) + b"]}")

    def _get_entry(self, target: Target, view: View | None = None) -> Entry:
        view = view or self.store.view
        entry = view.objects[target.resource.name].get((target.namespace, target.name))
        if entry is None:
            raise errors.not_found(target.resource.name, target.resource.group, target.name)
        return entry

    def _get(self, request: Request, target: Target) -> Response:
        media = self._media(request)
        view = self.store.view
        entry = self._get_entry(target, view)
        if media.startswith("table:"):
            include = request.query.get("includeObject", "Metadata")
            return Response(200, table(target.resource.name, [entry.row(view.now, include)], str(entry.rv), media[6:]))
        return Response(200, entry.raw)

    def _watch(self, request: Request, target: Target) -> Stream:
        media = self._media(request)
        resource = target.resource.name
        labels, fields = self._selectors(request, resource)
        if target.name:
            named = (("metadata.name", True, target.name),)
            fields = FieldSelector(named + (fields.terms if fields is not None else ()))
        flt = watch.Filter(resource, target.namespace, labels, fields)
        raw_rv = request.query.get("resourceVersion", "")
        since = None
        if raw_rv not in ("", "0"):
            try:
                since = int(raw_rv)
            except ValueError:
                raise errors.bad_request(f"invalid resource version {raw_rv!r}") from None
        try:
            timeout = float(request.query.get("timeoutSeconds", WATCH_TIMEOUT))
        except ValueError:
            raise errors.bad_request("timeoutSeconds must be a number") from None
        bookmarks = request.query.get("allowWatchBookmarks", "") in ("1", "true")
        try:
            watcher, first, _ = watch.start(self.store, flt, since)
        except errors.ApiError as error:  # too old: the API server says so in the stream
            return Stream(iter([watch.error_line(error)]))
        as_table = media[6:] if media.startswith("table:") else None
        return Stream(self._watch_stream(watcher, first, flt, as_table, timeout, bookmarks, target.resource))

    def _watch_stream(self, watcher: watch.Watcher, first: list[Any], flt: watch.Filter, as_table: str | None,
                      timeout: float, bookmarks: bool, resource: Resource) -> Iterator[bytes]:
        store = self.store
        try:
            now = store.view.now
            initial = [watch.event_line(kind, entry, now, as_table) for kind, entry in watch.visible(first, flt)]
            if initial:
                yield b"".join(initial)
            deadline = time.monotonic() + timeout
            last = time.monotonic()
            while not self.twin.closed.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                try:
                    batch = watcher.queue.get(timeout=min(remaining, 0.5))
                except queue.Empty:
                    if bookmarks and time.monotonic() - last >= BOOKMARK_EVERY:
                        last = time.monotonic()
                        yield watch.bookmark_line(resource.api_version, resource.kind, store.view.rv)
                    continue
                if batch is None:
                    return
                now = store.view.now
                lines = [watch.event_line(kind, entry, now, as_table) for kind, entry in watch.visible(batch, flt)]
                if lines:
                    last = time.monotonic()
                    yield b"".join(lines)
        finally:
            watch.stop(store, watcher)

    def _log(self, request: Request, target: Target) -> Response | Stream:
        self._get_entry(target)
        writes = self.twin.writes
        namespace, name, query = target.namespace, target.name, dict(request.query)
        lines, cursor, alive = self.twin.call(lambda: writes.pod_log(namespace, name, query))
        text = "".join(line + "\n" for line in lines).encode()
        if "limitBytes" in query and query["limitBytes"].isdigit():
            text = text[: int(query["limitBytes"])]
        if query.get("follow", "false") != "true":
            return Response(200, text, "text/plain")

        def follow(cursor: int = cursor, alive: bool = alive) -> Iterator[bytes]:
            yield text
            rest = {k: v for k, v in query.items() if k not in ("tailLines", "sinceSeconds", "sinceTime")}
            while alive and not self.twin.closed.wait(FOLLOW_POLL):
                try:
                    more, cursor, alive = self.twin.call(lambda c=cursor: writes.pod_log(namespace, name, rest, c))
                except errors.ApiError:
                    return
                if more:
                    yield "".join(line + "\n" for line in more).encode()

        return Stream(follow(), "text/plain")

    # writes --------------------------------------------------------------------------------------
    def _actor(self, request: Request, verb: str, target: Target) -> str:
        identity = self.twin.identity(request.headers)
        if identity is not None:
            return identity
        actor = request.headers.get("impersonate-user") or self.twin.actor
        resource = target.resource
        if actor is None:
            raise errors.forbidden(None, verb, resource.name, resource.group, target.name, target.namespace,
                                   "the twin acts for a drill participant: start it with --as PARTICIPANT or use kubectl --as=PARTICIPANT")
        if actor not in self.twin.participants:
            raise errors.forbidden(actor, verb, resource.name, resource.group, target.name, target.namespace,
                                   f"{actor!r} is not a participant of this drill (participants: {', '.join(sorted(self.twin.participants))})")
        return actor

    @staticmethod
    def _body(request: Request, required: bool = True) -> Any:
        if not request.body.strip():
            if required:
                raise errors.bad_request("the request needs a JSON body")
            return None
        try:
            return json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as error:
            raise errors.bad_request(f"the body is not valid JSON: {error}") from None

    @staticmethod
    def _dry_run(request: Request, body: Any = None) -> bool:
        if request.query.get("dryRun"):
            return True
        return isinstance(body, dict) and bool(body.get("dryRun"))

    def _delete_pod(self, request: Request, target: Target) -> Response:
        actor = self._actor(request, "delete", target)
        body = self._body(request, required=False)
        options = body if isinstance(body, dict) else {}
        grace: Any = request.query.get("gracePeriodSeconds", options.get("gracePeriodSeconds"))
        if grace is not None:
            try:
                grace = int(grace)
            except (TypeError, ValueError):
                raise errors.bad_request(f"gracePeriodSeconds must be a whole number, not {grace!r}") from None
            grace = None if grace < 0 else min(grace, 3600)
        preconditions = options.get("preconditions") or {}
        if not isinstance(preconditions, dict):
            raise errors.bad_request("preconditions must be an object")
        dry_run = self._dry_run(request, options)
        writes = self.twin.writes
        entry = self.twin.call(lambda: writes.delete_pod(actor, target.namespace, target.name, grace, preconditions, dry_run))
        return Response(200, entry.raw)

    def _evict(self, request: Request, target: Target) -> Response:
        actor = self._actor(request, "create", target)
        body = self._body(request, required=False)
        if body is not None and not isinstance(body, dict):
            raise errors.bad_request("the body must be an Eviction object")
        writes = self.twin.writes
        dry_run = self._dry_run(request, (body or {}).get("deleteOptions"))
        self.twin.call(lambda: writes.evict_pod(actor, target.namespace, target.name, body, dry_run))
        return _json({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}, 201)

    def _write(self, request: Request, target: Target) -> Response:
        actor = self._actor(request, "patch" if request.method == "PATCH" else "update", target)
        body = self._body(request)
        if request.method == "PATCH":
            content_type = request.headers.get("content-type", "").split(";")[0].strip()
            if content_type not in PATCH_TYPES:
                raise errors.unsupported_media_type(content_type, PATCH_TYPES)
            change = patcher(content_type, body)
        else:
            change = replacer(body)
        dry_run = self._dry_run(request)
        writes = self.twin.writes
        namespace, name = target.namespace, target.name
        if target.resource.name == "nodes":
            entry = self.twin.call(lambda: writes.write_node(actor, name, change, dry_run))
        elif target.sub == "scale":
            entry = self.twin.call(lambda: writes.write_scale(actor, namespace, name, change, dry_run))
            return _json(scale_of(entry))
        else:
            entry = self.twin.call(lambda: writes.write_deployment(actor, namespace, name, change, dry_run))
        return Response(200, entry.raw)

