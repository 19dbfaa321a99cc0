"""The drill's Alertmanager webhook receiver: what it takes, and the clear answers to the rest.
(Real Alertmanager notifications reach it in test_processes.py and test_stack_drill.py.)"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tabletop.stack.webhook import WebhookReceiver

NOTIFICATION = {
    "version": "4", "receiver": "serving-oncall", "status": "firing", "groupKey": '{}:{team="serving"}',
    "truncatedAlerts": 0, "groupLabels": {"team": "serving"}, "commonLabels": {}, "commonAnnotations": {},
    "externalURL": "http://127.0.0.1:9093",
    "alerts": [{"status": "firing", "labels": {"alertname": "X", "team": "serving"}, "annotations": {"summary": "s"},
                "startsAt": "2026-12-07T11:46:01.208233916Z", "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://p", "fingerprint": "abc"}],
}


def post(url: str, body: bytes, method: str = "POST") -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def receiver():
    with WebhookReceiver() as webhook:
        yield webhook


def test_a_notification_is_queued_for_the_drill_thread(receiver: WebhookReceiver) -> None:
    assert receiver.url.startswith("http://127.0.0.1:") and receiver.url.endswith("/alertmanager")
    assert post(receiver.url + "/serving-oncall", json.dumps(NOTIFICATION).encode()) == (200, "ok\n")
    assert receiver.arrived.is_set()
    [taken] = receiver.take()
    assert (taken.receiver, taken.group_key, taken.alerts[0].fingerprint) == ("serving-oncall", '{}:{team="serving"}', "abc")
    assert taken.alerts[0].starts_at.timestamp() == pytest.approx(1796643961.208234)
    assert taken.alerts[0].ends_at.year == 1  # Go's zero time: still firing
    assert receiver.take() == [] and not receiver.arrived.is_set()


@pytest.mark.parametrize("body, said", [
    (b"{not json", "the body is not JSON"),
    (json.dumps({**NOTIFICATION, "version": "3"}).encode(), "payload version '3'"),
    (json.dumps({k: v for k, v in NOTIFICATION.items() if k != "groupKey"}).encode(), "groupKey: Field required"),
    (json.dumps({**NOTIFICATION, "alerts": [{"status": "firing"}]}).encode(), "alerts.0.labels: Field required"),
])
def test_what_is_not_a_notification_gets_400_with_the_reason(receiver: WebhookReceiver, body: bytes, said: str) -> None:
    status, text = post(receiver.url + "/serving-oncall", body)
    assert status == 400 and said in text, text
    assert receiver.take() == []


def test_other_paths_and_methods_are_refused(receiver: WebhookReceiver) -> None:
    root = receiver.url.removesuffix("/alertmanager")
    assert post(root + "/metrics", b"{}")[0] == 404
    assert post(receiver.url + "/x", b"", method="PUT")[0] == 405
