"""The real Prometheus and Alertmanager binaries (Debian packages ``prometheus`` and
``prometheus-alertmanager``) that oracle tests run.

``prometheus_binary(name)`` returns the path of ``prometheus`` or ``promtool``,
``alertmanager_binary(name)`` that of ``alertmanager`` or ``amtool`` (both found by
``tabletop.stack.binaries.find``). When one is missing the test is skipped, or fails when
``TABLETOP_REQUIRE_PROMETHEUS=1`` (resp. ``TABLETOP_REQUIRE_ALERTMANAGER=1``; CI sets them, so
the oracle tests cannot silently stop running). The fixtures wrap them: import them into a test
module (``from tests.prometheus_binaries import promtool``) and ask for them by name.
"""

from __future__ import annotations

import os

import pytest

from tabletop.stack.binaries import MissingBinary, find

REQUIRE = "TABLETOP_REQUIRE_PROMETHEUS"
REQUIRE_ALERTMANAGER = "TABLETOP_REQUIRE_ALERTMANAGER"


def _required(tool: str, require: str) -> str:
    try:
        return str(find(tool))
    except MissingBinary as missing:
        if os.environ.get(require) == "1":
            pytest.fail(f"{missing}; {require}=1 requires it", pytrace=False)
        pytest.skip(str(missing))


def prometheus_binary(name: str) -> str:
    return _required(name, REQUIRE)


def alertmanager_binary(name: str) -> str:
    return _required(name, REQUIRE_ALERTMANAGER)


@pytest.fixture
def prometheus() -> str:
    return prometheus_binary("prometheus")


@pytest.fixture
def promtool() -> str:
    return prometheus_binary("promtool")


@pytest.fixture
def alertmanager() -> str:
    return alertmanager_binary("alertmanager")


@pytest.fixture
def amtool() -> str:
    return alertmanager_binary("amtool")
