"""The kinds of timeline events and the fields of their ``data``.

Everything that happens in a drill is one of these. Scoring, the postmortem and the console
read nothing else, so a field listed here is a promise.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from tabletop.drill.command_line import CHAOS

if TYPE_CHECKING:
    from tabletop.drill.timeline import Event

KINDS: dict[str, str] = {
    # the drill itself
    "drill.started": "duration, scrape_interval, evaluation_interval, participants [ids]",
    "drill.ended": "reason (duration|facilitator|aborted), slos {id: {good, bad, total, budget_burned_percent}}, "
    "failed_requests {deployment: n}, gpu_hours_lost",
    # faults and the fleet
    "fault.injected": "fault (id), kind, target, description, params {kind-specific}, command (a `fault` command's)",
    "fault.mitigated": "fault, command (seq of the command at whose time its impact ended; null when it healed "
    "without one)",
    "fault.ended": "fault, reason (completed|duration|mitigation|reboot|recovered|restart|transient)",
    "fleet.event": "object (kind/name), reason (Kubernetes event reason), message, type (Normal|Warning), "
    "optional extra fields (node, gpu, xid, lost_gpu_hours, ...)",
    # signals
    "alert.pending": "alertname, labels, annotations, value, group",
    "alert.firing": "alertname, labels, annotations, value, group",
    "alert.resolved": "alertname, labels, annotations, value, group, was_firing",
    "slo.breach_start": "slo, deployment, sli (good ratio over the last 5m), objective",
    "slo.breach_end": "slo, deployment, sli, objective, bad (requests during the breach), total",
    # pager
    "page.triggered": "page, policy, group (group_by labels), alerts [alertname], title; from Alertmanager (--stack) "
    "also source (alertmanager), receiver, group_key, fingerprints [the alerts' fingerprints]",
    "page.alert_added": "page, alertname, labels; from Alertmanager also fingerprint",
    "page.withheld": "policy, group (group_by labels), alerts [alertname], reason (resolved_before_group_wait), "
    "group_wait (seconds): a group whose alerts all resolved before its group_wait ended sends no page",
    "alert.inhibited": "alertname, labels, rule (index in routing.inhibit_rules), by {alertname, labels} (the firing "
    "alert that inhibits it): an alert that would page is held back while it is inhibited, and pages once nothing "
    "inhibits it (tabletop.pager.inhibition); headless only, as Alertmanager inhibits on its own with --stack",
    "alert.silenced": "alertname, labels, silence (its id): an alert that would page is held back while a silence "
    "mutes it and pages once none does (headless; under --stack Alertmanager applies the silence)",
    "page.notified": "page, level (1-based), loop, targets [participant ids], ack_timeout",
    "page.escalated": "page, from_level, to_level, loop, reason (ack_timeout|manual)",
    "page.acknowledged": "page, by, level; made in Alertmanager (an ACK! silence) also via (alertmanager), silence",
    "page.reassigned": "page, from, to, reason (manual|shift_change)",
    "page.handoff": "pages [ids], from, to, note {status, actions, next}",
    "page.resolved": "page, reason (alerts_resolved|incident_resolved)",
    "rota.shift_change": "rota, from, to",
    # responders
    "command": "line, name, args, ok, message, result (short summary); actor = who issued it",
    "role.assigned": "role, to, previous, command",
    "severity.set": "level, previous, command",
    "note": "text, command",
    "status.update": "text, command",
    "hypothesis": "cause (fault kind), target, text, command",
    "runbook.step": "runbook, step, title, command",
    "mitigation.applied": "action, target, params, changes [text], command",
    "inject.delivered": "inject, from, channel, message, expects_reply",
    "inject.replied": "inject, text, command",
    "incident.resolved": "text, command",
    # Chaos Toolkit experiments (tabletop.chaos); all but chaos.experiment.started come from the experiment's
    # process as it runs, and a replay records them again at their times
    "chaos.experiment.started": "experiment (id), title, description, source (inline|file path): its 'when' came",
    "chaos.experiment.refused": "experiment, context, reasons [text], fix (what to change), dry_run (true: a Chaos "
    "Toolkit dry run shows what would have happened instead)",
    "chaos.activity.started": "experiment, activity (name), type (action|probe), phase (hypothesis|method|rollbacks), "
    "provider {type, module/func or url or path, arguments}, dry",
    "chaos.activity.ended": "experiment, activity, type, phase, provider, status (succeeded|failed|interrupted), output "
    "(JSON, long ones cut to text), error (text or null), duration (wall seconds), dry",
    "chaos.experiment.ended": "experiment, status (completed|failed|aborted|interrupted|not_run|error), deviated, "
    "mode (twin|live|dry-run), journal (path of the Chaos Toolkit journal, or null), reason (why it ended early, "
    "or null)",
    "silence.created": "silence (S1...), matchers [name=\"value\", =~, !=, !~], starts_at, ends_at (drill seconds), "
    "created_by, comment, command: alerts it matches page nobody (under --stack it is made in Alertmanager too)",
    "silence.expired": "silence, reason (unsilenced|ended), command (for unsilenced)",
    # a real Alertmanager (--stack): it came from outside, so a replay records it again at its time
    "alertmanager.notification": "receiver, status (firing|resolved), group_key, group_labels, alerts [{alertname, "
    "status, labels, annotations, fingerprint, starts_at (drill seconds, when Prometheus fired it), ends_at (drill "
    "seconds or null)}], truncated_alerts: a webhook notification; pages follow from it (tabletop.pager.alertmanager)",
    "alertmanager.silence": "id (Alertmanager's), silence (the drill's id, or null for one made beside the drill), "
    "state (active|pending|expired); ack (page id) for the silence acknowledging a page made; for one made beside "
    "the drill also matchers, starts_at, ends_at (drill seconds), created_by, comment (ACK!...: it acknowledges "
    "the open pages it covers)",
    # the facilitator
    "hint": "text, command",
    "ground_truth.revealed": "root_cause (fault id), fault_kind, target, summary, fixes [text], harmful [text], command",
}
"""Event kind → fields of its ``data``. Events caused by a command carry its seq in ``command``."""


def responder_mitigations(events: Iterable["Event"]) -> list["Event"]:
    """``mitigation.applied`` events of the people working the drill, not of the Chaos Toolkit
    experiments it runs (whose writes through the twin are faults injected)."""
    return [e for e in events if e.kind == "mitigation.applied" and e.actor != CHAOS]
