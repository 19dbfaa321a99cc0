"""The expert: a reference performance that knows the answer and works by the book.

Acknowledges within a minute, assigns every role, sets the right severity, follows the runbook
step by step (filling its placeholders from the ground truth), states the right hypothesis
before changing anything, waits for replacements before taking more capacity away, posts a
status update every ten minutes, answers stakeholders, hands the pager over with a full note
before a shift change, and resolves once the impact has been over for five minutes.

It does not need a page: like an engineer watching the dashboards, the person on call notices
the first firing alert or SLO breach within a couple of minutes and takes command. Without a
runbook it applies the ground truth's fixes one at a time in a safe order (guard rails and added
capacity first, a drain last), never taking a serving replica away while its deployment is
short of ready replicas.
"""

from __future__ import annotations

import shlex
from datetime import timedelta

from tabletop.drill.events import responder_mitigations
from tabletop.drill.responders.base import Knowledge, Responder
from tabletop.drill.timeline import Event
from tabletop.pager.rota import on_call, shift_changes
from tabletop.scenario.model import ActionRef
from tabletop.scenario.runbook import RunbookStep
from tabletop.sim.action_specs import ACTIONS

STEP_GAP = 75.0
STATUS_EVERY = 600.0
NOTICE_DELAY = (60.0, 150.0)
"""Seconds between a signal (a firing alert, an SLO breach) and the on-call noticing it unpaged."""
FIX_GAP = 45.0
CAPACITY_WAIT = 900.0
"""Longest wait for replacements before a disruptive fix goes ahead anyway."""
FIX_ORDER = {"cordon": 0, "scale": 0, "shed_load": 0, "drain": 2, "reboot": 3}
"""Safe order of fixes: guard rails and capacity first, drains and reboots last; others between (1)."""
DISRUPTIVE = ("drain", "reboot", "delete_pod", "evict", "rollout_restart")
MUTATING_KUBECTL = ("kubectl drain", "kubectl cordon", "kubectl uncordon", "kubectl delete", "kubectl rollout", "kubectl scale")


class ExpertResponder(Responder):
    name = "expert"

    def start(self) -> None:
        self.know = Knowledge(self.drill)
        self.lead: str | None = None
        self.acking: set[str] = set()
        self.hypothesis_stated = False
        self.resolved = False
        self.runbook = next(iter(self.drill.runbooks.values()), None)
        self.fixes_applied = False
        self.noticing = False
        self.ack_step: int | None = None
        """A runbook step that acknowledges the page, held until there is a page to acknowledge."""
        self.last_status = -STATUS_EVERY
        self._plan_handoffs()

    # who does what ------------------------------------------------------------------------------
    def role(self, role: str) -> str:
        return self.drill.incident.roles.get(role) or self.lead or self.drill.scenario.participants[0].id

    def _pick_roles(self, lead: str) -> dict[str, str]:
        people = self.drill.scenario.participants
        team = next(p.team for p in people if p.id == lead)
        others = [p for p in people if p.id != lead]
        same_team = [p.id for p in others if p.team == team]
        other_team = [p.id for p in others if p.team != team]
        ops = same_team[0] if same_team else lead
        comms = other_team[0] if other_team else (same_team[1] if len(same_team) > 1 else lead)
        scribe = next((p for p in same_team + other_team if p not in (ops, comms)), lead)
        return {"incident_commander": lead, "ops": ops, "comms": comms, "scribe": scribe}

    # reacting to the timeline -------------------------------------------------------------------------
    def observe(self, event: Event) -> None:
        data = event.data
        if event.kind in ("alert.firing", "slo.breach_start") and self.lead is None and not self.noticing:
            self.noticing = True
            self.wake(self.rng.uniform(*NOTICE_DELAY), self._notice)
        elif event.kind == "page.notified" and data["page"] not in self.acking:
            self.acking.add(data["page"])
            self.do(40 + self.rng.uniform(0, 20), data["targets"][0], f"ack {data['page']}")
        elif event.kind == "page.acknowledged" and self.lead is None:
            self._take_command(data["by"])
        elif event.kind == "page.acknowledged" and self.ack_step is not None:
            self.do(5, self.role("ops"), f"step {self.ack_step}")
            self.ack_step = None
        elif event.kind == "page.acknowledged":
            self.do(90, data["by"], f"note 'Acknowledged {data['page']}; coordinating with the incident commander {self.role('incident_commander')}'")
        elif event.kind == "inject.delivered" and data["expects_reply"]:
            self.do(90, self.role("comms"), f"reply {data['inject']} {shlex.quote(self._reply_text())}")

    def _notice(self) -> None:
        """Nobody was paged (yet) but the dashboards show trouble: the on-call takes command."""
        if self.lead is not None:
            return
        who = self.know.on_call()
        why = "the page is not acknowledged yet" if self.drill.pager.pages else "nobody was paged"
        self.do(1, who, f"note 'Signals show impact (firing alerts / SLO burn) but {why}; taking command'")
        self._take_command(who)

    def _take_command(self, lead: str) -> None:
        self.lead = lead
        roles = self._pick_roles(lead)
        for offset, (role, who) in enumerate(roles.items()):
            self.do(15 + 10 * offset, lead, f"assign {role} {who}")
        self.do(60, lead, f"severity {self.drill.scenario.ground_truth.severity}")
        self.wake(90, lambda: self._next_step(1))
        self.wake(STATUS_EVERY - 60, self._status_update)

    # the runbook ----------------------------------------------------------------------------------------
    def _next_step(self, number: int) -> None:
        if self.resolved:
            return
        if self.runbook is None or number > len(self.runbook.steps):
            self._apply_fixes_without_runbook()
            self.wake(60, self._try_resolve)
            return
        step = self.runbook.step(number)
        assert step is not None
        lines = [c.line for c in step.commands]
        actor = self.role("ops")
        if any(line.startswith("resolve") for line in lines):
            self._try_resolve(step)
            return
        if any(line.startswith("ack") for line in lines) and not any(p.acked_by for p in self.drill.pager.pages):
            self.ack_step = number  # took command before anyone acknowledged: done once the person paged does
            self.wake(1, lambda: self._next_step(number + 1))
            return
        if any(self._mutates(line) for line in lines) and not self.hypothesis_stated:
            self._state_hypothesis(actor)
        if any(line.startswith("kubectl drain") for line in lines) and not self._capacity_restored():
            self.wake(30, lambda: self._next_step(number))
            return
        params = {name: self.know.placeholder(name) for name in step.placeholders}
        if any(value is None for value in params.values()):
            self.do(1, actor, f"note 'Skipping runbook step {number}: nothing to act on'")
        else:
            if "status update" in step.title.lower():
                self._status_update(reschedule=False)
            args = " ".join(f"{k}={v}" for k, v in params.items())
            self.do(1, actor, f"step {number} {args}".strip())
        self.wake(STEP_GAP, lambda: self._next_step(number + 1))

    @staticmethod
    def _mutates(line: str) -> bool:
        return line.startswith(MUTATING_KUBECTL) or line.startswith("mitigate")

    def _state_hypothesis(self, actor: str) -> None:
        self.hypothesis_stated = True
        fault = self.know.root_fault
        summary = " ".join(self.drill.scenario.ground_truth.root_cause.summary.split())
        self.do(1, actor, f"hypothesis {fault.kind} {fault.target} {shlex.quote(summary)}")

    def _capacity_restored(self) -> bool:
        return all(sum(1 for p in d.pods if p.ready) >= d.replicas for d in self.drill.fleet.deployments.values())

    def _apply_fixes_without_runbook(self) -> None:
        if self.fixes_applied:
            return
        self.fixes_applied = True
        if not self.hypothesis_stated:
            self._state_hypothesis(self.role("ops"))
        fixes = sorted(self.know.fixes, key=lambda fix: FIX_ORDER.get(fix.action, 1))
        self.wake(30, lambda: self._apply_fix(fixes, 0, self.drill.now + 30))

    def _apply_fix(self, fixes: list[ActionRef], index: int, since: float) -> None:
        """Apply ``fixes[index]`` once it is safe, then go on with the next one."""
        if index >= len(fixes):
            return
        fix = fixes[index]
        target = fix.target
        if "*" in target:
            name = self.know.placeholder(ACTIONS[fix.action].target_kind)
            if name is None:
                self.wake(1, lambda: self._apply_fix(fixes, index + 1, self.drill.now))
                return
            target = f"{ACTIONS[fix.action].target_kind}/{name}"
        if not self._safe_now(fix.action, target) and self.drill.now - since < CAPACITY_WAIT:
            self.wake(30, lambda: self._apply_fix(fixes, index, since))
            return
        self.do(1, self.role("ops"), f"mitigate {fix.action} {target}")
        self.wake(FIX_GAP, lambda: self._apply_fix(fixes, index + 1, self.drill.now))

    def _safe_now(self, action: str, target: str) -> bool:
        """A disruptive fix waits until serving is back at full strength, unless it only removes
        a pod that serves nothing (a crash-looping replica)."""
        if action not in DISRUPTIVE:
            return True
        if action in ("delete_pod", "evict"):
            pod = self.drill.fleet.pods.get(target.partition("/")[2])
            if pod is not None and not pod.ready:
                return True
        return self._capacity_restored()

    def _try_resolve(self, step: RunbookStep | None = None) -> None:
        if self.resolved:
            return
        if not self.know.incident_over():
            self.wake(60, lambda: self._try_resolve(step))
            return
        self.resolved = True
        summary = "'Impact over; root cause: " + self.know.root_fault.kind + " on " + self.know.root_fault.target + "'"
        self._status_update(reschedule=False, final=True)
        if step is not None:
            self.do(5, self.role("incident_commander"), f"step {step.number}")
        else:
            self.do(5, self.role("incident_commander"), f"resolve {summary}")

    # communication -------------------------------------------------------------------------------------
    def _status_update(self, reschedule: bool = True, final: bool = False) -> None:
        if self.resolved and not final:
            return
        if reschedule:
            self.wake(STATUS_EVERY, self._status_update)
        if not final and self.drill.now - self.last_status < STATUS_EVERY / 2:
            return
        self.last_status = self.drill.now
        incident = self.drill.incident
        fault = self.know.root_fault
        if final:
            text = f"Resolved: customer impact is over. Cause: {fault.kind} on {fault.target}. Follow-up in the postmortem."
        elif incident.hypotheses:
            text = (f"Investigating {self.drill.scenario.ground_truth.severity}: cause {fault.kind} on {fault.target}; "
                    f"mitigation under way ({self._plan()}); next update in 10 minutes.")
        else:
            text = "Investigating elevated errors and latency; responders engaged; next update in 10 minutes."
        self.do(1, self.role("comms"), f"status {shlex.quote(text)}")

    def _plan(self) -> str:
        return ", ".join(f"{fix.action} {fix.target}" for fix in self.know.fixes)

    def _reply_text(self) -> str:
        severity = self.drill.scenario.ground_truth.severity
        fault = self.know.root_fault
        found = f"the cause is {fault.kind} on {fault.target} and we are fixing it" if self.drill.incident.hypotheses \
            else "we are investigating the cause"
        return f"Yes, this is a {severity} incident and we are on it: {found}. Next update within 10 minutes."

    # shift changes ---------------------------------------------------------------------------------------
    def _plan_handoffs(self) -> None:
        scenario = self.drill.scenario
        start = scenario.metadata.start
        end = start + timedelta(seconds=scenario.metadata.duration)
        for rota in scenario.rotas:
            for moment in shift_changes(rota, start, end):
                at = (moment - start).total_seconds()
                outgoing = on_call(rota, moment - timedelta(seconds=1))
                incoming = on_call(rota, moment)
                self.wake(at - 180, lambda o=outgoing, i=incoming: self._hand_off(o, i))

    def _hand_off(self, outgoing: str, incoming: str) -> None:
        if self.resolved or not any(p.open and outgoing in p.assignees for p in self.drill.pager.pages):
            return
        fault = self.know.root_fault
        done = [e.data for e in responder_mitigations(self.drill.timeline.events)]
        actions = "; ".join(f"{d['action']} {d['target']}" for d in done) or "investigation only, no change yet"
        self.do(1, outgoing,
                f"handoff {incoming} --status 'Customer-facing errors from {fault.target} ({fault.kind}); capacity recovering' "
                f"--actions 'Acknowledged, roles assigned, {actions}' "
                f"--next 'Finish the runbook, watch error ratio and p99, resolve when clear'")
        for role, holder in self.drill.incident.roles.items():
            if holder == outgoing:
                self.do(2, incoming, f"assign {role} {incoming}")
        if self.lead == outgoing:
            self.lead = incoming
