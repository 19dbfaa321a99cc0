"""The store's newest scrape in the Prometheus text format, read back with prometheus_client."""

from __future__ import annotations

import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tabletop.signals.exposition import StoreCollector, render
from tabletop.signals.store import SeriesStore
from tabletop.sim import node_controller
from tests.signals.test_exporters import INTERVAL, Drill


def parsed(store: SeriesStore) -> dict[str, object]:
    return {family.name: family for family in text_string_to_metric_families(render(store).decode())}


@pytest.fixture(scope="module")
def drill() -> Drill:
    d = Drill()
    d.scrape()
    d.advance(2 * INTERVAL)
    return d


def test_output_parses_back_with_the_real_families(drill: Drill) -> None:
    families = parsed(drill.store)
    assert families["DCGM_FI_DEV_GPU_UTIL"].type == "gauge"
    assert len(families["DCGM_FI_DEV_GPU_UTIL"].samples) == 40
    assert families["kube_pod_status_phase"].type == "gauge"
    assert len(families["kube_pod_status_phase"].samples) == 10 * 5
    assert "nginx_ingress_controller_requests" in families
    assert {s.labels["status"] for s in families["nginx_ingress_controller_requests"].samples} == \
        {"200", "429", "500", "502", "503", "504"}
    # Counters ending in _total come back as counters with their sample names unchanged.
    http = families["http_requests"]
    assert http.type == "counter" and {s.name for s in http.samples} == {"http_requests_total"}
    assert families["vllm:request_success"].type == "counter"
    # Help texts are the exporters' own.
    assert families["DCGM_FI_DEV_XID_ERRORS"].documentation == "Value of the last XID error encountered."
    # Every sample carries job and instance.
    for family in families.values():
        for sample in family.samples:
            assert sample.labels.get("job") and sample.labels.get("instance"), sample


def test_histograms_come_out_whole_and_in_order(drill: Drill) -> None:
    family = parsed(drill.store)["vllm:e2e_request_latency_seconds"]
    assert family.type == "histogram"
    pod = drill.fleet.deployments["chat-llm"].pods[0].name
    samples = [s for s in family.samples if s.labels["pod"] == pod]
    names = [s.name for s in samples]
    assert names == ["vllm:e2e_request_latency_seconds_bucket"] * 22 + [
        "vllm:e2e_request_latency_seconds_sum", "vllm:e2e_request_latency_seconds_count"]
    les = [s.labels["le"] for s in samples[:22]]
    assert les[:4] == ["0.3", "0.5", "0.8", "1.0"] and les[-2:] == ["7680.0", "+Inf"]
    values = [s.value for s in samples[:22]]
    assert values == sorted(values) and values[-1] == samples[-1].value > 0
    assert all(s.labels["job"] == "chat-llm" and s.labels["model_name"] == "llama-3.1-70b-instruct" for s in samples)


def test_values_are_the_stores_latest(drill: Drill) -> None:
    families = parsed(drill.store)
    expected = {tuple(sorted((k, v) for k, v in s.labels.items() if k != "__name__")): v
                for s, v in drill.store.latest() if s.name == "node_memory_MemAvailable_bytes"}
    got = {tuple(sorted(s.labels.items())): s.value for s in families["node_memory_MemAvailable_bytes"].samples}
    assert got == expected and len(got) == 5
    total = sum(1 for _ in drill.store.latest())
    assert sum(len(f.samples) for f in families.values()) == total


def test_counters_without_total_keep_their_real_name() -> None:
    store = SeriesStore()
    store.describe("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "counter", "Total number of double-bit volatile ECC errors.")
    store.describe("x_total", "counter", "x")
    store.begin_scrape(0.0)
    store.add(store.series_id("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", {"job": "j", "instance": "i", "gpu": "0"}), 2.0)
    store.add(store.series_id("x_total", {"job": "j", "instance": "i"}), 3.0)
    store.add(store.series_id("undescribed", {"job": "j", "instance": "i"}), 4.0)
    store.end_scrape()
    text = render(store).decode()
    assert 'DCGM_FI_DEV_ECC_DBE_VOL_TOTAL{gpu="0",instance="i",job="j"} 2.0' in text
    assert "# TYPE x_total counter" in text and 'x_total{instance="i",job="j"} 3.0' in text
    families = parsed(store)
    assert [s.name for s in families["DCGM_FI_DEV_ECC_DBE_VOL_TOTAL"].samples] == ["DCGM_FI_DEV_ECC_DBE_VOL_TOTAL"]
    assert families["undescribed"].samples[0].value == 4.0


def test_stale_series_are_not_exposed() -> None:
    d = Drill()
    d.scrape()
    node = d.fleet.nodes["gpu-serve-2"]
    node_controller.node_down(d.fleet, node, "test")
    d.run(5)
    d.scrape()
    families = parsed(d.store)
    assert not [s for s in families["DCGM_FI_DEV_GPU_UTIL"].samples if s.labels["Hostname"] == node.name]
    assert len(families["DCGM_FI_DEV_GPU_UTIL"].samples) == 32
    ups = {(s.labels["job"], s.labels["instance"]): s.value for s in families["up"].samples}
    assert ups[("nvidia-dcgm-exporter", f"{node.ip}:9400")] == 0
    assert ups[("node-exporter", f"{node.ip}:9100")] == 0


def test_the_collector_works_in_a_registry_of_its_own(drill: Drill) -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    registry.register(StoreCollector(drill.store))
    assert generate_latest(registry) == render(drill.store)


def test_only_exposition_imports_prometheus_client() -> None:
    code = ("import sys; import tabletop.signals.scraper, tabletop.signals.exporters; "
            "assert 'prometheus_client' not in sys.modules, 'prometheus_client imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
