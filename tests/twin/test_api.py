"""The twin's HTTP API, driven step by step: the test thread owns the drill and calls ``serve``.

Reads are answered by the server threads from what the drill thread published; writes wait for
the drill thread. Errors are Kubernetes ``Status`` objects with the API server's codes, and no
request, however malformed, stops the server or the drill.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tabletop.drill.engine import Drill
from tabletop.scenario.loader import LoadedScenario, load_scenario
from tabletop.sim import mitigations
from tabletop.twin.twin import Twin
from tests.twin.live import BUNDLED, SEED, needs_openssl

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


@pytest.fixture(scope="module")
def loaded() -> LoadedScenario:
    return load_scenario(BUNDLED)


class Client:
    """HTTP to a twin whose drill this (the test) thread owns."""

    def __init__(self, twin: Twin) -> None:
        self.twin = twin

    def connection(self, timeout: float = 10.0) -> http.client.HTTPConnection:
        certificate = self.twin.server.certificate
        if certificate is None:
            return http.client.HTTPConnection("127.0.0.1", self.twin.port, timeout=timeout)
        trust = ssl.create_default_context(cadata=certificate.pem.decode())
        return http.client.HTTPSConnection("127.0.0.1", self.twin.port, timeout=timeout, context=trust)

    def raw(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        connection = self.connection()
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        try:
            return response.status, json.loads(data)
        except ValueError:
            return response.status, data.decode()

    def __call__(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                 content_type: str = "application/json") -> tuple[int, Any]:
        """The request, with the drill served from this thread while it waits."""
        sent = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        result: list[tuple[int, Any]] = []
        worker = threading.Thread(target=lambda: result.append(
            self.raw(method, path, sent, {"Content-Type": content_type, **(headers or {})})))
        worker.start()
        while worker.is_alive():
            self.twin.serve()
            worker.join(0.002)
        return result[0]


@pytest.fixture
def twin(loaded: LoadedScenario) -> Iterator[Twin]:
    drill = Drill(loaded, seed=SEED)
    with Twin(drill, actor="alice", call_timeout=5.0) as served:
        yield served


@pytest.fixture
def api(twin: Twin) -> Client:
    return Client(twin)


def pod_names(twin: Twin, prefix: str = "ranker-") -> list[str]:
    return sorted(p.name for p in twin.drill.fleet.pods.values() if p.name.startswith(prefix) and p.alive)


def advance(twin: Twin, seconds: float) -> None:
    twin.drill.advance_to(round(twin.drill.now + seconds, 3))
    twin.serve()


def test_discovery(api: Client) -> None:
    assert api("GET", "/version")[1]["gitVersion"].startswith("v1.29")
    assert api("GET", "/api")[1]["versions"] == ["v1"]
    groups = {g["name"]: g["preferredVersion"]["groupVersion"] for g in api("GET", "/apis")[1]["groups"]}
    assert groups == {"apps": "apps/v1", "batch": "batch/v1", "policy": "policy/v1"}
    core = {r["name"]: r for r in api("GET", "/api/v1")[1]["resources"]}
    assert core["pods"]["shortNames"] == ["po"] and "delete" in core["pods"]["verbs"] and "create" not in core["pods"]["verbs"]
    assert core["pods/eviction"]["group"] == "policy" and core["pods/eviction"]["kind"] == "Eviction"
    assert core["nodes"]["shortNames"] == ["no"] and "patch" in core["nodes"]["verbs"]
    apps = {r["name"]: r for r in api("GET", "/apis/apps/v1")[1]["resources"]}
    assert apps["deployments"]["shortNames"] == ["deploy"] and apps["deployments/scale"]["group"] == "autoscaling"
    assert [r["name"] for r in api("GET", "/apis/policy/v1")[1]["resources"]] == ["poddisruptionbudgets"]
    assert api("GET", "/apis/policy/v1/namespaces/serving/poddisruptionbudgets")[1]["items"] == []
    assert api("GET", "/healthz") == (200, "ok")
    for path in ("/apis/nope/v1", "/api/v2", "/openapi/v2", "/api/v1/secrets", "/apis/apps/v1/statefulsets", "/nothing"):
        status, body = api("GET", path)
        assert status == 404 and body["kind"] == "Status" and body["reason"] == "NotFound", path


def test_errors_are_statuses_with_the_right_codes(api: Client, twin: Twin) -> None:
    pod = pod_names(twin)[0]
    cases: list[tuple[int, str, tuple[Any, ...], dict[str, Any]]] = [
        (404, "NotFound", ("GET", "/api/v1/namespaces/serving/pods/nope"), {}),
        (404, "NotFound", ("GET", f"/api/v1/namespaces/training/pods/{pod}"), {}),
        (405, "MethodNotAllowed", ("POST", "/api/v1/namespaces/serving/pods", {"kind": "Pod"}), {}),
        (405, "MethodNotAllowed", ("DELETE", "/apis/apps/v1/namespaces/serving/deployments/ranker"), {}),
        (405, "MethodNotAllowed", ("PUT", f"/api/v1/namespaces/serving/pods/{pod}", {}), {}),
        (405, "MethodNotAllowed", ("DELETE", "/api/v1/nodes/gpu-serve-0"), {}),
        (415, "UnsupportedMediaType", ("PATCH", "/api/v1/nodes/gpu-serve-0", {"spec": {}}), {"content_type": "application/apply-patch+yaml"}),
        (422, "Invalid", ("PATCH", "/api/v1/nodes/gpu-serve-0", {"metadata": {"labels": {"x": "y"}}}), {"content_type": "application/merge-patch+json"}),
        (422, "Invalid", ("PATCH", "/apis/apps/v1/namespaces/serving/deployments/ranker", {"spec": {"replicas": -1}}),
         {"content_type": "application/merge-patch+json"}),
        (422, "Invalid", ("PATCH", "/apis/apps/v1/namespaces/serving/deployments/ranker", {"spec": {"replicas": "3"}}),
         {"content_type": "application/merge-patch+json"}),
        (422, "Invalid", ("PATCH", "/apis/apps/v1/namespaces/serving/deployments/ranker", {"spec": {"paused": True}}),
         {"content_type": "application/merge-patch+json"}),
        (422, "Invalid", ("PATCH", "/apis/apps/v1/namespaces/serving/deployments/ranker",
                          [{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "ranker:v999"}]),
         {"content_type": "application/json-patch+json"}),
        (422, "Invalid", ("PATCH", "/apis/apps/v1/namespaces/serving/deployments/ranker", [{"op": "remove", "path": "/spec/nope"}]),
         {"content_type": "application/json-patch+json"}),
        (409, "Conflict", ("PATCH", "/api/v1/nodes/gpu-serve-0", {"metadata": {"resourceVersion": "1"}, "spec": {"unschedulable": True}}),
         {"content_type": "application/merge-patch+json"}),
        (409, "Conflict", ("PATCH", "/apis/apps/v1/namespaces/serving/deployments/ranker/scale",
                           {"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 2}}), {"content_type": "application/merge-patch+json"}),
        (400, "BadRequest", ("GET", "/api/v1/pods?labelSelector=app%20in%20(a"), {}),
        (400, "BadRequest", ("GET", "/api/v1/pods?fieldSelector=spec.containers%3Dx"), {}),
        (400, "BadRequest", ("POST", f"/api/v1/namespaces/serving/pods/{pod}/eviction", {"metadata": {"name": "other"}}), {}),
        (406, "NotAcceptable", ("GET", "/api/v1/pods", None, {"Accept": "application/vnd.kubernetes.protobuf"}), {}),
    ]
    for code, reason, args, options in cases:
        status, body = api(*args, **options)
        assert (status, body["kind"], body["reason"], body["code"]) == (code, "Status", reason, code), (args, body)
    status, body = api("PATCH", "/api/v1/nodes/gpu-serve-0", b"{not json", content_type="application/merge-patch+json")
    assert status == 400 and body["reason"] == "BadRequest"
    assert not any(e.kind == "command" for e in twin.drill.timeline.events)  # nothing above became a command


def test_a_command_the_drill_refuses_is_recorded_and_answered_409(api: Client, twin: Twin, monkeypatch: pytest.MonkeyPatch) -> None:
    patch = [{"op": "replace", "path": "/spec/template/spec/containers/0/image",
              "value": "registry.tabletop.local/serving/ranker:v117"}]
    status, body = api("PATCH", "/apis/apps/v1/namespaces/serving/deployments/ranker", patch, content_type="application/json-patch+json")
    assert status == 200 and body["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":v117")

    def on_fire(fleet: Any, node: Any, params: Any) -> list[str]:
        raise mitigations.Refused(f"node/{node.name} is on fire")

    monkeypatch.setitem(mitigations._HANDLERS, "cordon", on_fire)
    status, body = api("PATCH", "/api/v1/nodes/gpu-serve-1", {"spec": {"unschedulable": True}},
                       content_type="application/strategic-merge-patch+json")
    assert (status, body["reason"]) == (409, "Conflict") and "node/gpu-serve-1 is on fire" in body["message"]
    twin.drill.end("test")
    status, body = api("DELETE", f"/api/v1/namespaces/serving/pods/{pod_names(twin)[0]}")
    assert (status, body["reason"]) == (409, "Conflict") and "the drill has ended" in body["message"]
    commands = [(e.data["line"], e.data["ok"]) for e in twin.drill.timeline.events if e.kind == "command"]
    assert commands == [("mitigate rollback deployment/ranker", True), ("mitigate cordon node/gpu-serve-1", False)]


def test_writes_need_a_participant(api: Client, twin: Twin, loaded: LoadedScenario) -> None:
    pod = pod_names(twin)[0]
    status, body = api("DELETE", f"/api/v1/namespaces/serving/pods/{pod}", headers={"Impersonate-User": "mallory"})
    assert (status, body["reason"]) == (403, "Forbidden") and "not a participant" in body["message"]
    daemon = next(name for (ns, name) in twin.store.view.objects["pods"] if ns == "kube-system")
    status, body = api("DELETE", f"/api/v1/namespaces/kube-system/pods/{daemon}")
    assert (status, body["reason"]) == (403, "Forbidden")
    status, _ = api("DELETE", f"/api/v1/namespaces/serving/pods/{pod}", headers={"Impersonate-User": "farid"})
    assert status == 200
    assert [(e.actor, e.data["line"]) for e in twin.drill.timeline.events if e.kind == "command"] == [
        ("farid", f"mitigate delete_pod pod/{pod}")]
    with pytest.raises(ValueError, match="not a participant"):
        Twin(Drill(loaded), actor="mallory")
    with Twin(Drill(loaded)) as anonymous:
        status, body = Client(anonymous)("POST", f"/api/v1/namespaces/serving/pods/{pod_names(anonymous)[0]}/eviction", {})
        assert (status, body["reason"]) == (403, "Forbidden") and "--as" in body["message"]


def test_a_token_is_checked(loaded: LoadedScenario) -> None:
    needs_openssl()
    with Twin(Drill(loaded), actor="alice", token="t0ken") as twin:
        assert twin.url.startswith("https://127.0.0.1:")
        api = Client(twin)
        status, body = api("GET", "/api/v1/nodes")
        assert (status, body["reason"], body["code"]) == (401, "Unauthorized", 401)
        assert api("GET", "/api/v1/nodes", headers={"Authorization": "Bearer nope"})[0] == 401
        assert api("GET", "/version")[0] == 200
        status, body = api("GET", "/api/v1/nodes", headers={"Authorization": "Bearer t0ken"})
        assert status == 200 and len(body["items"]) == 5


def test_malformed_requests_do_not_stop_the_server_or_the_drill(api: Client, twin: Twin) -> None:
    garbage = [
        b"GARBAGE\r\n\r\n",
        b"GET /api/v1/pods HTTP/1.1\r\nHost: x\r\nContent-Length: banana\r\n\r\n",
        b"PATCH /api/v1/nodes/gpu-serve-0 HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n{",
        b"POST /api/v1/namespaces/serving/pods/x/eviction HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /api/v1/namespaces/%ff%fe/pods/%00 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 64,
        b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
    ]
    for data in garbage:
        with socket.create_connection(("127.0.0.1", twin.port), timeout=0.5) as sock:
            sock.sendall(data)
            with contextlib.suppress(ConnectionResetError, TimeoutError):
                sock.recv(65536)
    for body in (b"\xff\xfe", b"[1, 2", b'{"spec": {"replicas": 1e999}}', b'"just a string"', b"null"):
        status, answer = api("PATCH", "/apis/apps/v1/namespaces/serving/deployments/ranker", body,
                             content_type="application/merge-patch+json")
        assert status in (400, 422) and answer["kind"] == "Status"
    assert api("GET", "/version")[0] == 200
    advance(twin, 60)
    assert api("GET", "/api/v1/namespaces/serving/pods")[0] == 200


def test_reads_do_not_wait_for_the_drill_but_writes_do(loaded: LoadedScenario) -> None:
    with Twin(Drill(loaded), actor="alice", call_timeout=0.3) as twin:
        api = Client(twin)
        began = time.monotonic()
        status, body = api.raw("GET", "/api/v1/namespaces/serving/pods")  # nobody serves the drill
        assert status == 200 and len(body["items"]) == 10 and time.monotonic() - began < 0.3
        status, body = api.raw("DELETE", f"/api/v1/namespaces/serving/pods/{pod_names(twin)[0]}")
        assert (status, body["reason"]) == (504, "Timeout")
    assert twin.closed.is_set()


def test_lists_tables_and_dry_runs(api: Client, twin: Twin) -> None:
    status, table = api("GET", "/api/v1/namespaces/serving/pods?labelSelector=app%3Dranker", headers={"Accept": TABLE})
    assert status == 200 and table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in table["columnDefinitions"]][:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert [r["cells"][0] for r in table["rows"]] == pod_names(twin)
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    _, full = api("GET", "/api/v1/nodes?includeObject=Object", headers={"Accept": TABLE})
    assert full["rows"][0]["object"]["kind"] == "Node" and full["rows"][0]["cells"][1] == "Ready"
    _, one = api("GET", "/apis/apps/v1/namespaces/serving/deployments/chat-llm", headers={"Accept": TABLE})
    assert one["rows"][0]["cells"][:2] == ["chat-llm", "6/6"]
    _, listed = api("GET", "/api/v1/pods?fieldSelector=metadata.namespace%3Dkube-system")
    assert listed["kind"] == "PodList" and len(listed["items"]) == 10
    pod = pod_names(twin)[0]
    status, body = api("DELETE", f"/api/v1/namespaces/serving/pods/{pod}?dryRun=All")
    assert status == 200 and "deletionTimestamp" not in body["metadata"]
    status, body = api("DELETE", f"/api/v1/namespaces/serving/pods/{pod}", {"preconditions": {"uid": "other"}})
    assert (status, body["reason"]) == (409, "Conflict")
    assert not any(e.kind == "command" for e in twin.drill.timeline.events) and pod in pod_names(twin)


def watch_lines(api: Client, path: str, sink: list[dict[str, Any]], stop: threading.Event) -> None:
    connection = api.connection(timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    while not stop.is_set():
        line = response.readline()
        if not line:
            break
        sink.append(json.loads(line))
    connection.close()


def watching(api: Client, path: str) -> tuple[list[dict[str, Any]], Callable[[], None]]:
    seen: list[dict[str, Any]] = []
    stop = threading.Event()
    reader = threading.Thread(target=watch_lines, args=(api, path, seen, stop), daemon=True)
    reader.start()

    def finish() -> None:
        stop.set()
        reader.join(0.1)

    return seen, finish


def wait_until(twin: Twin, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        twin.serve()
        time.sleep(0.005)


def test_watch_follows_the_simulation(api: Client, twin: Twin) -> None:
    _, listed = api("GET", "/api/v1/namespaces/serving/pods?labelSelector=app%3Dranker")
    since = listed["metadata"]["resourceVersion"]
    seen, finish = watching(api, f"/api/v1/namespaces/serving/pods?watch=1&labelSelector=app%3Dranker&resourceVersion={since}")
    pending, finish_pending = watching(api, "/api/v1/namespaces/serving/pods?watch=true&fieldSelector=status.phase%3DPending")
    time.sleep(0.2)
    victim = pod_names(twin)[0]
    assert api("DELETE", f"/api/v1/namespaces/serving/pods/{victim}")[0] == 200
    advance(twin, 31)  # the grace period passes; the replacement is scheduled and starts
    advance(twin, 60)
    wait_until(twin, lambda: any(e["type"] == "DELETED" for e in seen))
    finish()
    kinds = [(e["type"], e["object"]["metadata"]["name"]) for e in seen]
    assert kinds[0] == ("MODIFIED", victim) and "deletionTimestamp" in seen[0]["object"]["metadata"]
    replacement = next(name for kind, name in kinds if kind == "ADDED")
    assert ("DELETED", victim) in kinds and ("MODIFIED", replacement) in kinds
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in seen]
    assert versions == sorted(versions) and versions[0] > int(since)
    wait_until(twin, lambda: [e["type"] for e in pending][-2:] == ["ADDED", "DELETED"])
    finish_pending()
    assert {e["object"]["metadata"]["name"] for e in pending} == {replacement}  # in the selection, then out of it


def test_watch_from_scratch_in_tables_and_too_old(api: Client, twin: Twin) -> None:
    seen, finish = watching(api, "/api/v1/nodes?watch=1")
    wait_until(twin, lambda: len(seen) == 5)
    finish()
    assert {e["type"] for e in seen} == {"ADDED"}
    connection = api.connection()
    connection.request("GET", "/api/v1/nodes?watch=1&resourceVersion=0&timeoutSeconds=1", headers={"Accept": TABLE})
    lines = [json.loads(line) for line in connection.getresponse().read().splitlines()]
    assert len(lines) == 5 and lines[0]["object"]["kind"] == "Table" and lines[0]["object"]["rows"][0]["cells"][0] == "gpu-serve-0"
    twin.store.history = deque(list(twin.store.history)[-3:], maxlen=3)
    connection = api.connection()
    connection.request("GET", "/api/v1/nodes?watch=1&resourceVersion=1&timeoutSeconds=1")
    event = json.loads(connection.getresponse().read())
    assert event["type"] == "ERROR" and (event["object"]["code"], event["object"]["reason"]) == (410, "Expired")
