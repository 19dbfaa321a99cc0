"""Alertmanager's inhibition (``routing.inhibit_rules``) for the headless pager.

An alert (the target) is muted while another alert (the source) fires such that, for one rule,
the target matches ``target_matchers``, the source matches ``source_matchers`` and the two have
the same value of every ``equal`` label, a label missing from both counting as the same (as in
Alertmanager 0.25's ``inhibit/inhibit.go``: ``Mutes`` and ``hasEqual``). Every firing alert can
be a source, whether it pages, is recorded only (``policy: null``) or matches no route: Prometheus
sends Alertmanager all of them. An alert never inhibits itself: when the target matches a rule's
source matchers too, sources that also match its target matchers do not count for that rule
(Alertmanager's ``excludeTwoSidedMatch``), so ``severity="critical"`` on both sides does not make
two critical alerts mute each other. Rules are tried in order and, within a rule, sources in the
order they started firing; the first one found is the one named (Alertmanager keeps one too).

When muting applies, and what happens when it ends, is the pager's part (``pager/pager.py``):

- An alert is checked when it fires and, if it joined a group that waits, again when the group's
  ``group_wait`` ends (Alertmanager checks at each notification of the group, so a source that
  starts firing during the wait mutes alerts that were already waiting). A muted alert that would
  page is held back: ``alert.inhibited`` {alertname, labels, rule (index in ``inhibit_rules``),
  by {alertname, labels}} once, at the first check that mutes it. It stays in its group: a group
  whose firing alerts are all held back pages nobody.
- An alert already on a page when its source starts firing stays on it (Alertmanager already
  notified it; later notifications leave it out, which headless has no equivalent of).
- Un-inhibition: when a source resolves, every held-back alert that still fires and that no other
  source mutes pages at that very instant, after the rule evaluations of that instant: it joins
  its group's open page, or waits with its group if the group's ``group_wait`` has not ended yet
  (then pages with it), or else opens a page at once. A held-back alert that resolves first never
  pages. Alertmanager notifies it at the first notification of its group after the source
  resolved: the end of ``group_wait`` if that is still to come, else the group's next
  ``group_interval`` tick, up to ``group_interval`` (default 5m of drill time) later. Headless has
  no ``group_interval`` (a joining alert pages at once), so it pages at once here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tabletop.pager.routing import matches
from tabletop.scenario.oncall import InhibitRule

AlertKey = tuple[str, tuple[tuple[str, str], ...]]


def alert_key(alertname: str, labels: dict[str, str]) -> AlertKey:
    return alertname, tuple(sorted(labels.items()))


@dataclass(frozen=True)
class Source:
    alertname: str
    labels: dict[str, str]


class Inhibitor:
    """The firing alerts, and which of them mutes an alert under the rules."""

    def __init__(self, rules: Sequence[InhibitRule]) -> None:
        self.rules = list(rules)
        self._firing: dict[AlertKey, Source] = {}
        """Every alert firing now, in the order they started firing."""

    def fired(self, alertname: str, labels: dict[str, str]) -> None:
        if self.rules:
            key = alert_key(alertname, labels)
            self._firing.pop(key, None)
            self._firing[key] = Source(alertname, labels)

    def resolved(self, alertname: str, labels: dict[str, str]) -> None:
        self._firing.pop(alert_key(alertname, labels), None)

    def muted_by(self, alertname: str, labels: dict[str, str]) -> dict[str, Any] | None:
        """``{rule, by: {alertname, labels}}`` of the first rule and firing source that mute this
        alert, or None."""
        target = _with_name(alertname, labels)
        for index, rule in enumerate(self.rules):
            if not _all(rule.target_matchers, target):
                continue
            two_sided = _all(rule.source_matchers, target)
            for source in self._firing.values():
                candidate = _with_name(source.alertname, source.labels)
                if not _all(rule.source_matchers, candidate):
                    continue
                if any(candidate.get(name, "") != target.get(name, "") for name in rule.equal):
                    continue
                if two_sided and _all(rule.target_matchers, candidate):
                    continue
                return {"rule": index, "by": {"alertname": source.alertname, "labels": source.labels}}
        return None


def _with_name(alertname: str, labels: dict[str, str]) -> dict[str, str]:
    """The labels Alertmanager matches: the alert's, ``alertname`` among them."""
    return labels if labels.get("alertname") == alertname else {**labels, "alertname": alertname}


def _all(matchers: list[str], labels: dict[str, str]) -> bool:
    return all(matches(matcher, labels) for matcher in matchers)
