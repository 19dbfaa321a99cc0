"""The ``promtool`` fixture: the oracle every parity test runs (see tests/prometheus_binaries.py)."""

from __future__ import annotations

import pytest

from tests.prometheus_binaries import prometheus_binary


@pytest.fixture(scope="session")
def promtool() -> str:
    return prometheus_binary("promtool")
