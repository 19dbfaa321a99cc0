"""The /metrics endpoint over a drill: what it serves, how it refuses, and that nothing a client
sends brings it down."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tabletop.drill.live import Publisher
from tabletop.drill.run import run_headless
from tabletop.drill.responders import make_responder
from tabletop.scenario.loader import load_scenario
from tabletop.signals.metrics_server import CONTENT_TYPE, MetricsServer

BUNDLED = Path(__file__).resolve().parents[2] / "scenarios" / "serving-gpu-node-failure.yaml"


@pytest.fixture(scope="module")
def exposition() -> bytes:
    """What the live publisher hands the server ten simulated minutes into the bundled drill."""
    loaded = load_scenario(BUNDLED)
    drill = run_headless(loaded, make_responder("expert", loaded), seed=7, until=600)
    published: list[bytes] = []
    Publisher(SimpleNamespace(publish=published.append), drill)()  # type: ignore[arg-type]
    return published[-1]


@pytest.fixture
def server(exposition: bytes) -> Iterator[MetricsServer]:
    with MetricsServer() as running:
        running.publish(exposition)
        yield running


def request(server: MetricsServer, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def raw(server: MetricsServer, data: bytes) -> bytes:
    """Send ``data`` as is, return whatever comes back before the server closes."""
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_metrics_parse_back_with_the_fleet_and_the_drill(server: MetricsServer) -> None:
    status, headers, body = request(server, "GET", "/metrics")
    assert status == 200 and headers["content-type"] == CONTENT_TYPE
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    gpu = families["DCGM_FI_DEV_GPU_UTIL"]
    assert gpu.type == "gauge" and {s.labels["Hostname"] for s in gpu.samples} >= {"gpu-serve-2"}
    assert all(s.labels["job"] == "nvidia-dcgm-exporter" for s in gpu.samples)
    replicas = families["kube_deployment_spec_replicas"].samples
    assert [s.value for s in replicas if s.labels["deployment"] == "chat-llm"] == [6]
    # The drill's own series carry no job/instance: Prometheus labels them with the scrape target.
    (info,) = families["tabletop_drill_info"].samples
    assert info.labels == {"scenario": "serving-gpu-node-failure", "seed": "7", "responder": "expert"}
    assert families["tabletop_drill_elapsed_seconds"].samples[0].value == 600
    # No timestamps: Prometheus stamps samples with its own scrape time, not the drill's.
    assert all(s.timestamp is None for f in families.values() for s in f.samples)


def test_query_strings_head_index_and_unknown_paths(server: MetricsServer, exposition: bytes) -> None:
    assert request(server, "GET", "/metrics?name[]=up")[2] == exposition
    status, headers, body = request(server, "HEAD", "/metrics")
    assert status == 200 and body == b"" and int(headers["content-length"]) == len(exposition)
    status, _, body = request(server, "GET", "/")
    assert status == 200 and b"/metrics" in body
    assert request(server, "GET", "/metric")[0] == 404
    assert request(server, "GET", "/metrics/x")[0] == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"])
def test_other_methods_are_not_allowed(server: MetricsServer, method: str) -> None:
    status, headers, _ = request(server, method, "/metrics")
    assert status == 405 and headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize(("garbage", "status"), [
    (b"\x00\xff\xfe garbage\r\n\r\n", 400),
    (b"GET\r\n\r\n", 400),
    (b"GET /metrics HTTP/9.9\r\n\r\n", 505),
    (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414),
    (b"GET /metrics HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n", 431),
    (b"GET /metrics HTTP/1.1\r\nHost", 200),
    (b"", None),
], ids=["binary", "no-path", "version", "long-line", "many-headers", "cut-short", "empty"])
def test_malformed_requests_do_not_stop_the_server(server: MetricsServer, exposition: bytes, garbage: bytes,
                                                   status: int | None) -> None:
    reply = raw(server, garbage)
    # Request lines it cannot parse are answered HTTP/0.9 style: a bare status line.
    line = reply.split(b"\r\n", 1)[0].removeprefix(b"HTTP/1.0 ")
    assert (int(line[:3]) if reply else None) == status, reply[:200]
    assert b"<html" not in reply
    assert request(server, "GET", "/metrics")[::2] == (200, exposition)


def test_binds_loopback_by_default_and_reports_the_port() -> None:
    server = MetricsServer()
    try:
        assert server.host == "127.0.0.1" and server.port > 0  # the address the socket is bound to
        assert server.url == f"http://127.0.0.1:{server.port}/metrics"
    finally:
        server.close()


def test_a_busy_port_fails_at_construction() -> None:
    with MetricsServer() as first:
        with pytest.raises(OSError):
            MetricsServer(port=first.port)


def test_readers_see_whole_published_bodies_while_the_drill_publishes(server: MetricsServer, exposition: bytes) -> None:
    bodies = [bytes([65 + n]) * (1000 * (n + 1)) for n in range(5)]
    seen: list[bytes] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.append(request(server, "GET", "/metrics")[2])

    readers = [threading.Thread(target=read) for _ in range(4)]
    for reader in readers:
        reader.start()
    for n in range(300):
        server.publish(bodies[n % len(bodies)])
    done.set()
    for reader in readers:
        reader.join()
    assert seen and set(seen) <= {*bodies, exposition}


def test_close_stops_serving_and_frees_the_port() -> None:
    server = MetricsServer().start()
    port = server.port
    server.close()
    assert "tabletop-metrics" not in {thread.name for thread in threading.enumerate()}
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    MetricsServer(port=port).close()


def test_a_silent_client_does_not_hold_up_others(server: MetricsServer, exposition: bytes) -> None:
    with socket.create_connection((server.host, server.port), timeout=5):
        assert request(server, "GET", "/metrics")[::2] == (200, exposition)
