"""Every kind of timeline event has its own line in evidence lists and postmortem timelines."""

from __future__ import annotations

from tabletop.drill.events import KINDS
from tabletop.drill.timeline import Event
from tabletop.scoring.describe import describe


def test_every_event_kind_is_described_in_words() -> None:
    for kind in KINDS:
        line = describe(Event(seq=1, t=0.0, kind=kind, data={}, actor=None))
        assert line != kind, kind  # an unknown kind is described by its bare name


def test_stack_events_read_as_what_happened() -> None:
    notified = Event(seq=1, t=0.0, kind="alertmanager.notification", actor=None, data={
        "receiver": "serving-oncall", "status": "firing",
        "alerts": [{"alertname": "ChatLLMLatencyHigh"}, {"alertname": "ChatLLMHighErrorRate"}]})
    assert describe(notified) == "Alertmanager notified serving-oncall (firing: ChatLLMHighErrorRate, ChatLLMLatencyHigh)"
    silenced = Event(seq=2, t=0.0, kind="alert.silenced", actor=None, data={"alertname": "X", "silence": "S1"})
    assert describe(silenced) == "alert X silenced by S1"
