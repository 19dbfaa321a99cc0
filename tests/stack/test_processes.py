"""The stack's real servers: Prometheus and Alertmanager on loopback, from start to stop."""

from __future__ import annotations

import pytest

from tabletop.stack.binaries import MissingBinary, find
from tests.prometheus_binaries import REQUIRE_ALERTMANAGER, alertmanager_binary


def test_a_missing_binary_names_its_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(MissingBinary) as raised:
        find("alertmanager")
    assert str(raised.value) == ("alertmanager not found: install the Debian package `prometheus-alertmanager` "
                                 "(apt-get install prometheus-alertmanager)")
    for tool, package in (("amtool", "prometheus-alertmanager"), ("prometheus", "prometheus"), ("promtool", "prometheus")):
        with pytest.raises(MissingBinary, match=f"^{tool} not found: install the Debian package `{package}`"):
            find(tool)
    monkeypatch.setenv(REQUIRE_ALERTMANAGER, "1")  # CI: fail, not skip (tests/drill/test_live_prometheus.py tests skips)
    with pytest.raises(pytest.fail.Exception, match="`prometheus-alertmanager`.*; TABLETOP_REQUIRE_ALERTMANAGER=1 requires"):
        alertmanager_binary("alertmanager")


def test_alertmanager_is_found_under_either_name(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = tmp_path / "alertmanager"
    plain.write_text("#!/bin/sh\n")
    plain.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find("alertmanager") == plain
