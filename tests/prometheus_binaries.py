"""The real Prometheus binaries (Debian package ``prometheus``) that oracle tests run.

``prometheus_binary(name)`` returns the path of ``prometheus`` or ``promtool``. When one is
missing the test is skipped, or fails when ``TABLETOP_REQUIRE_PROMETHEUS=1`` (CI sets it, so
the oracle tests cannot silently stop running). The fixtures wrap it: import them into a test
module (``from tests.prometheus_binaries import promtool``) and ask for them by name.
"""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRE = "TABLETOP_REQUIRE_PROMETHEUS"


def prometheus_binary(name: str) -> str:
    path = shutil.which(name)
    if path is not None:
        return path
    message = f"{name} not found: install the Debian package `prometheus` (apt-get install prometheus)"
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{message}; {REQUIRE}=1 requires it", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def prometheus() -> str:
    return prometheus_binary("prometheus")


@pytest.fixture
def promtool() -> str:
    return prometheus_binary("promtool")
