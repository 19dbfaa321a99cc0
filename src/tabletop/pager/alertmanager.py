"""Pages from a real Alertmanager's notifications (a drill run with ``--stack``).

Alertmanager has already routed, grouped and waited (``group_wait``), so each notification
acts on its group's page at once: the first firing notification of a group opens a page on the
receiver's escalation policy, later ones add the alerts that joined, and the page resolves when
the last of its alerts does. A group is the policy and the group labels, as for tabletop's own
pages: two routes (``continue``) to one policy notify under two group keys, but page once. Escalation, acknowledgement, hand-offs and rotas
then work as for tabletop's own routing. A receiver named after an escalation policy pages
that policy; ``RECORD_ONLY`` pages nobody (a route with ``policy: null``); any other receiver
(a team's own alertmanager.yml) pages the scenario's default policy, or nobody without one.

A notification arrives as an ``alertmanager.notification`` event (see tabletop.drill.events):
it came from outside the simulation, so a replay records it again at its time and the pages
follow from it exactly as they did.
"""

from __future__ import annotations

from typing import Any

from tabletop.pager.pager import Page, Pager

RECORD_ONLY = "tabletop_record_only"
"""The receiver of routes whose ``policy`` is null: recorded, nobody paged (an underscore, which
no policy id has, so it never collides with one)."""


class AlertmanagerPaging:
    def __init__(self, pager: Pager) -> None:
        self.pager = pager
        self._pages: dict[tuple[str, tuple[tuple[str, str], ...]], Page] = {}
        """The page of each policy and group labels."""

    def policy_for(self, receiver: str) -> str | None:
        if receiver in self.pager.policies:
            return receiver
        if receiver == RECORD_ONLY:
            return None
        return self.pager.scenario.routing.policy

    def notified(self, data: dict[str, Any]) -> None:
        """Act on one recorded notification (the data of ``alertmanager.notification``)."""
        policy = self.policy_for(data["receiver"])
        if policy is None:
            return
        group_key = data["group_key"]
        group = (policy, tuple(sorted(data["group_labels"].items())))
        firing = [a for a in data["alerts"] if a["status"] == "firing"]
        resolved = [a for a in data["alerts"] if a["status"] != "firing"]
        page = self._pages.get(group)
        if page is None or not page.open:
            if not firing:
                return
            first = firing[0]
            source = {"source": "alertmanager", "receiver": data["receiver"], "group_key": group_key,
                      "fingerprints": [a["fingerprint"] for a in firing]}
            page = self.pager.open_page(policy, dict(data["group_labels"]),
                                        first["annotations"].get("summary", _name(first)),
                                        [(_name(a), _labels(a)) for a in firing], source)
            self._pages[group] = page
        else:
            for alert in firing:
                self.pager.add_alert(page, _name(alert), _labels(alert), {"fingerprint": alert["fingerprint"]})
        for alert in resolved:
            if page.open:
                self.pager.drop_alert(page, _name(alert), _labels(alert))


def _name(alert: dict[str, Any]) -> str:
    return str(alert["labels"].get("alertname", ""))


def _labels(alert: dict[str, Any]) -> dict[str, str]:
    return dict(alert["labels"])
