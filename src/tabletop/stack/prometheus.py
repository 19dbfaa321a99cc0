"""A real Prometheus beside a paced drill: it scrapes the drill's /metrics and runs its rules.

``with Prometheus(folder, target=..., rules={name: text}, ...) as prometheus:`` writes into
``folder`` ``prometheus.yml`` (one scrape job ``tabletop`` on ``target`` with ``honor_labels:
true``, so the simulated exporters keep their own ``job``/``instance``; ``rule_files:
[rules/*.yml]``; the Alertmanager to notify, if any), ``rules/`` (the rule files given, e.g.
time-scaled by ``stack/timescale.py``, one per group as ``stack/alignment.py`` names them),
``prometheus-data/`` (its TSDB, emptied first
unless ``keep_data``) and ``prometheus.log``, and serves on ``127.0.0.1`` (``server.py``: free
port, ready check, stop). ``--web.enable-lifecycle`` lets ``reload`` swap the rules while it runs.

Prometheus resends a firing alert to Alertmanager at most every ``--rules.alert.resend-delay``
(1m by default, an hour of a 60x drill) and marks it to end after four times that: the delay
defaults here to the evaluation interval, so what fires reaches Alertmanager at the next
evaluation and an alert Prometheus stops sending ends within a few of them.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from tabletop.signals.promtool_rules import dump_yaml
from tabletop.stack.binaries import find
from tabletop.stack.server import POLL, Managed, Server, ServerError

JOB = "tabletop"


class Prometheus(Managed):
    """Prometheus in ``folder`` scraping ``target`` (``host:port``) with ``rules`` (file name →
    rule file text) loaded."""

    def __init__(self, folder: Path, *, target: str, rules: dict[str, str], scrape_interval: str, evaluation_interval: str,
                 lookback_delta: str, alertmanager_url: str | None = None, resend_delay: str | None = None,
                 metrics_path: str = "/metrics",
                 binary: Path | None = None, keep_data: bool = False, data: Path | None = None,
                 ready_timeout: float = 30.0, stop_timeout: float = 10.0) -> None:
        self.folder = Path(os.path.abspath(folder))  # as Prometheus names its rule files (alignment.py)
        self.keep_data = keep_data
        self.target = target
        self.metrics_path = metrics_path
        self.rule_texts = dict(rules)
        self.scrape_interval = scrape_interval
        self.evaluation_interval = evaluation_interval
        self.lookback_delta = lookback_delta
        self.alertmanager_url = alertmanager_url
        self.resend_delay = resend_delay or evaluation_interval
        self.config_file = self.folder / "prometheus.yml"
        self.rules_folder = self.folder / "rules"
        self.data = Path(data) if data is not None else self.folder / "prometheus-data"
        """Its storage (default: in ``folder``; a drill's stack keeps it in a temporary folder)."""
        self.server = Server("Prometheus", binary or find("prometheus"), self.folder / "prometheus.log", self._arguments,
                             ready_timeout=ready_timeout, stop_timeout=stop_timeout)

    def prometheus_yml(self) -> dict[str, Any]:
        """The configuration written to prometheus.yml."""
        config: dict[str, Any] = {
            "global": {"scrape_interval": self.scrape_interval, "evaluation_interval": self.evaluation_interval},
            "scrape_configs": [{
                "job_name": JOB,
                "honor_labels": True,  # the drill speaks for many exporters: keep their job/instance labels
                **({"metrics_path": self.metrics_path} if self.metrics_path != "/metrics" else {}),
                "static_configs": [{"targets": [self.target]}],
            }],
            "rule_files": [f"{self.rules_folder.name}/*.yml"],  # relative to prometheus.yml
        }
        if self.alertmanager_url is not None:
            config["alerting"] = {"alertmanagers": [alertmanager(self.alertmanager_url)]}
        return config

    def _arguments(self, address: str) -> list[str]:
        return [f"--config.file={self.config_file}", f"--storage.tsdb.path={self.data}",
                f"--web.listen-address={address}", "--web.enable-lifecycle",
                f"--query.lookback-delta={self.lookback_delta}", f"--rules.alert.resend-delay={self.resend_delay}"]

    def write_files(self) -> None:
        self.config_file.write_text(dump_yaml(self.prometheus_yml()))
        self._write_rules(self.rule_texts)

    def _write_rules(self, rules: dict[str, str]) -> None:
        shutil.rmtree(self.rules_folder, ignore_errors=True)
        self.rules_folder.mkdir(parents=True)
        for name, text in rules.items():
            (self.rules_folder / name).write_text(text)

    def reload(self, rules: dict[str, str] | None = None) -> None:
        """Reload the configuration, with ``rules`` (file name → text) as the new rules when given.

        ServerError (with Prometheus's reason) when it refuses them: it keeps running the rules it
        had, and rules/ is put back to them, so a restart runs them too.
        """
        if rules is not None:
            self._write_rules(rules)
        try:
            self.server.request("POST", "/-/reload")
            info = self.server.request("GET", "/api/v1/status/runtimeinfo")["data"]
            if not info.get("reloadConfigSuccess"):
                raise ServerError(f"Prometheus reports its last reload failed; {self.server.log_tail(5)}")
            expected = [name for text in (rules or self.rule_texts).values() for name in _group_names(text)]
            loaded = [group["name"] for group in self.rules()]
            if sorted(loaded) != sorted(expected):
                raise ServerError(f"Prometheus runs the rule groups {loaded} after the reload, not {expected}")
        except ServerError as error:
            if rules is not None:
                self._write_rules(self.rule_texts)
            raise ServerError(f"Prometheus did not reload {self.rules_folder}: {error}") from None
        if rules is not None:
            self.rule_texts = dict(rules)

    def wait_connected(self, timeout: float = 15.0) -> None:
        """Wait until the target has been scraped (healthy) and the Alertmanager, if any, is in use.

        Prometheus hands discovered targets and Alertmanagers to its scrape and notify loops
        every 5 s of wall time (fixed in 2.x), so for up to 5 s after ``start`` nothing is
        scraped and what fires reaches no Alertmanager: a drill should start its clock after this.
        """
        deadline = time.monotonic() + timeout
        while True:
            targets = self.server.request("GET", "/api/v1/targets?state=active")["data"]["activeTargets"]
            scraped = any(t.get("health") == "up" for t in targets)
            notified = self.alertmanager_url is None or bool(
                self.server.request("GET", "/api/v1/alertmanagers")["data"]["activeAlertmanagers"])
            if scraped and notified:
                return
            if time.monotonic() > deadline:
                errors = "; ".join(f"{t['scrapeUrl']}: {t.get('lastError') or t.get('health')}" for t in targets)
                missing = [] if scraped else [f"no healthy scrape of {self.target} ({errors or 'no target yet'})"]
                missing += [] if notified else [f"Alertmanager {self.alertmanager_url} not in use yet"]
                raise ServerError(f"Prometheus not connected within {timeout:g} s: {', '.join(missing)}")
            time.sleep(POLL)

    def alerts(self) -> list[dict[str, Any]]:
        """``GET /api/v1/alerts``: the pending and firing alerts."""
        return list(self.server.request("GET", "/api/v1/alerts")["data"]["alerts"])

    def rules(self) -> list[dict[str, Any]]:
        """``GET /api/v1/rules``: the rule groups with each rule's state, health and alerts."""
        return list(self.server.request("GET", "/api/v1/rules")["data"]["groups"])


def alertmanager(url: str) -> dict[str, Any]:
    """The ``alerting.alertmanagers`` entry of one Alertmanager at ``url``."""
    parts = urlsplit(url)
    entry: dict[str, Any] = {"scheme": parts.scheme or "http", "api_version": "v2",
                             "static_configs": [{"targets": [parts.netloc]}]}
    if parts.path.strip("/"):
        entry["path_prefix"] = parts.path
    return entry


def _group_names(rule_text: str) -> list[str]:
    try:
        data = yaml.safe_load(rule_text) or {}
    except yaml.YAMLError:
        return []
    groups = data.get("groups") if isinstance(data, dict) else None
    return [group.get("name") for group in groups or [] if isinstance(group, dict)]
