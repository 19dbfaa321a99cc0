"""Pages from a real Alertmanager's notifications (a drill run with ``--stack``).

Alertmanager has already routed, grouped and waited (``group_wait``), so each notification
acts on its group's page at once: the first firing notification of a group opens a page on the
receiver's escalation policy, later ones add the alerts that joined, and the page resolves when
the last of its alerts does. A group is the policy and the group labels, as for tabletop's own
pages: two routes (``continue``) to one policy notify under two group keys, but page once. Escalation, acknowledgement, hand-offs and rotas
then work as for tabletop's own routing. Acknowledgements go both ways as silences (``ACK``):
``ack`` in the drill silences the page's alerts in Alertmanager (``tabletop.stack.silence_sync``),
and an ``ACK!`` silence made in Alertmanager by a participant that covers every alert of an
open page acknowledges it in their name (``acknowledged_in_alertmanager``). A receiver named after an escalation policy pages
that policy; ``RECORD_ONLY`` pages nobody (a route with ``policy: null``); any other receiver
(a team's own alertmanager.yml) pages the scenario's default policy, or nobody without one.

A notification arrives as an ``alertmanager.notification`` event (see tabletop.drill.events):
it came from outside the simulation, so a replay records it again at its time and the pages
follow from it exactly as they did.
"""

from __future__ import annotations

import re
from typing import Any

from tabletop.pager.pager import Page, Pager
from tabletop.pager.silences import Silence, matcher_text

ACK = "ACK!"
"""A silence whose comment starts with this acknowledges what it silences (karma's convention for
acknowledging in Alertmanager, which has no acknowledgement of its own)."""
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


def ack_matchers(page: Page) -> list[str]:
    """Matchers that silence exactly the alerts of ``page``: its group's labels and its alert names."""
    names = sorted({alertname for alertname, _ in page.alerts})
    pattern = "|".join(re.escape(name) for name in names)
    group = [matcher_text(name, "=", value) for name, value in sorted(page.group.items())]
    return group + [matcher_text("alertname", "=~", pattern)]


def acknowledged_in_alertmanager(pager: Pager, data: dict[str, Any], now: float) -> None:
    """An ``ACK!`` silence made beside the drill (an ``alertmanager.silence`` event): acknowledge
    the open, unacknowledged pages whose every alert it silences, in its author's name."""
    if data.get("silence") is not None or data.get("ack") or data.get("state") != "active":
        return
    author = data.get("created_by", "")
    if not str(data.get("comment", "")).startswith(ACK) or author not in pager.participants:
        return
    silence = Silence(data["id"], list(data.get("matchers", [])), now, float("inf"), author, "")
    for page in pager.pages:
        if page.state == "triggered" and page.alerts and all(silence.mutes(labels, now) for labels in page.alerts.values()):
            pager.acknowledge(page.id, author, {"via": "alertmanager", "silence": data["id"]})
