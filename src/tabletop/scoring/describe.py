"""One short line per timeline event, for evidence lists and postmortem timelines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tabletop.drill.timeline import Event

_MAX = 90


def _clip(text: Any) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= _MAX else flat[: _MAX - 1] + "…"


def _percent(ratio: Any) -> str:
    return f"{float(ratio) * 100:.2f}%" if isinstance(ratio, (int, float)) else "?"


def _handoff(d: dict[str, Any]) -> str:
    note = d.get("note") or {}
    parts = [f"{key}: {_clip(note[key])}" for key in ("status", "actions", "next") if note.get(key)]
    return f"{d.get('from')} handed off to {d.get('to')}" + (f" ({'; '.join(parts)})" if parts else " with no note")


_TEXT: dict[str, Callable[[dict[str, Any]], str]] = {
    "drill.started": lambda d: "drill started",
    "drill.ended": lambda d: f"drill ended ({d.get('reason', '?')})",
    "fault.injected": lambda d: f"fault {d.get('fault')} injected: {d.get('kind')} on {d.get('target')}",
    "fault.mitigated": lambda d: f"impact of fault {d.get('fault')} ended"
    + (f" (command #{d['command']})" if d.get("command") is not None else " without a command"),
    "fault.ended": lambda d: f"fault {d.get('fault')} ended ({d.get('reason')})",
    "fleet.event": lambda d: f"{d.get('object')}: {d.get('reason')} {_clip(d.get('message', ''))}".rstrip(),
    "alert.pending": lambda d: f"alert {d.get('alertname')} pending",
    "alert.firing": lambda d: f"alert {d.get('alertname')} firing",
    "alert.resolved": lambda d: f"alert {d.get('alertname')} resolved",
    "alert.inhibited": lambda d: f"alert {d.get('alertname')} inhibited by {(d.get('by') or {}).get('alertname')}",
    "alert.silenced": lambda d: f"alert {d.get('alertname')} silenced by {d.get('silence')}",
    "silence.created": lambda d: f"silence {d.get('silence')} on {' '.join(d.get('matchers') or [])}",
    "silence.expired": lambda d: f"silence {d.get('silence')} expired ({d.get('reason')})",
    "alertmanager.notification": lambda d: f"Alertmanager notified {d.get('receiver')} ({d.get('status')}: "
    f"{', '.join(sorted({a.get('alertname', '') for a in d.get('alerts') or []}))})",
    "alertmanager.silence": lambda d: f"Alertmanager silence {d.get('id')} {d.get('state')}"
    + (f" (silence {d['silence']})" if d.get("silence") else f" by {d.get('created_by')}"),
    "slo.breach_start": lambda d: f"SLO {d.get('slo')} breached (good {_percent(d.get('sli'))}, objective {_percent(d.get('objective'))})",
    "slo.breach_end": lambda d: f"SLO {d.get('slo')} breach over ({d.get('bad')} of {d.get('total')} requests bad)",
    "page.triggered": lambda d: f"page {d.get('page')} triggered: {_clip(d.get('title', ''))}",
    "page.alert_added": lambda d: f"alert {d.get('alertname')} added to page {d.get('page')}",
    "page.notified": lambda d: f"page {d.get('page')} sent to {', '.join(d.get('targets') or [])} (level {d.get('level')})",
    "page.escalated": lambda d: f"page {d.get('page')} escalated to level {d.get('to_level')} ({d.get('reason')})",
    "page.acknowledged": lambda d: f"page {d.get('page')} acknowledged by {d.get('by')}",
    "page.reassigned": lambda d: f"page {d.get('page')} moved from {d.get('from')} to {d.get('to')} ({d.get('reason')})",
    "page.handoff": _handoff,
    "page.withheld": lambda d: f"no page for {', '.join(d.get('alerts') or [])}: resolved before group_wait ({d.get('group_wait')}s)",
    "page.resolved": lambda d: f"page {d.get('page')} resolved ({d.get('reason')})",
    "rota.shift_change": lambda d: f"rota {d.get('rota')}: {d.get('from')} hands over to {d.get('to')}",
    "command": lambda d: _clip(d.get("line", "")),
    "role.assigned": lambda d: f"{d.get('to')} is {d.get('role')}",
    "severity.set": lambda d: f"severity set to {d.get('level')}",
    "note": lambda d: f"note: {_clip(d.get('text', ''))}",
    "status.update": lambda d: f"status update: {_clip(d.get('text', ''))}",
    "hypothesis": lambda d: f"hypothesis: {d.get('cause')} on {d.get('target')}",
    "runbook.step": lambda d: f"runbook {d.get('runbook')} step {d.get('step')}: {d.get('title', '')}".rstrip(": "),
    "mitigation.applied": lambda d: f"{d.get('action')} {d.get('target')}",
    "inject.delivered": lambda d: f"message from {d.get('from')}: {_clip(d.get('message', ''))}",
    "inject.replied": lambda d: f"reply to {d.get('inject')}: {_clip(d.get('text', ''))}",
    "incident.resolved": lambda d: "incident resolved" + (f": {_clip(d['text'])}" if d.get("text") else ""),
    "chaos.experiment.started": lambda d: f"Chaos Toolkit experiment {d.get('experiment')} started: {_clip(d.get('title', ''))}",
    "chaos.experiment.refused": lambda d: f"experiment {d.get('experiment')} refused to act on {d.get('context')}: dry run instead",
    "chaos.activity.started": lambda d: f"experiment {d.get('experiment')}: {d.get('phase')} {d.get('type')} {d.get('activity')} started"
    + (" (dry run)" if d.get("dry") else ""),
    "chaos.activity.ended": lambda d: f"experiment {d.get('experiment')}: {d.get('phase')} {d.get('type')} {d.get('activity')} "
    f"{d.get('status')}" + (" (dry run)" if d.get("dry") else "") + (f": {_clip(d['error'])}" if d.get("error") else ""),
    "chaos.experiment.ended": lambda d: f"experiment {d.get('experiment')} {d.get('status')}"
    + (" (deviated)" if d.get("deviated") else "") + (f": {_clip(d['reason'])}" if d.get("reason") else ""),
    "hint": lambda d: f"facilitator's hint: {_clip(d.get('text', ''))}",
    "ground_truth.revealed": lambda d: f"ground truth revealed: {d.get('fault_kind')} on {d.get('target')}",
}


def describe(event: Event) -> str:
    """A short, human description of ``event`` (its kind when the kind is unknown)."""
    text = _TEXT.get(event.kind)
    return text(event.data) if text else event.kind
