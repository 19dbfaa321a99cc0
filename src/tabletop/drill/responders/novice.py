"""The novice: the common mistakes of a first on-call shift, for contrast with the expert.

Misses the first page (it escalates), acknowledges slowly, guesses a wrong cause first and
acts on it with one harmful change, skips the investigative runbook steps, assigns only the
incident commander and late, posts a single status update, ignores stakeholders, lets the
rota move the pager without a note (or hands over with a thin one), and resolves late. When
nothing pages, the on-call only notices the dashboards twenty minutes into the trouble.
"""

from __future__ import annotations

from tabletop.drill.responders.base import Knowledge, Responder
from tabletop.drill.timeline import Event

NOTICE_DELAY = 1200.0
"""Seconds from the first firing alert or SLO breach until an unpaged novice notices."""


class NoviceResponder(Responder):
    name = "novice"

    def start(self) -> None:
        self.know = Knowledge(self.drill)
        self.lead: str | None = None
        self.resolved = False
        self.runbook = next(iter(self.drill.runbooks.values()), None)
        self.acking: set[str] = set()
        self.incoming: str | None = None
        """Who came on call at the latest shift change."""
        self.noticing = False

    def observe(self, event: Event) -> None:
        data = event.data
        if event.kind in ("alert.firing", "slo.breach_start") and not self.noticing:
            self.noticing = True
            self.wake(NOTICE_DELAY, self._notice)
        elif event.kind == "page.notified" and data["page"] not in self.acking:
            if data["level"] == 1 and data["loop"] == 0 and data["ack_timeout"] > 0:
                return  # the first page goes unnoticed
            self.acking.add(data["page"])
            self.do(min(240.0, 0.8 * data["ack_timeout"]), data["targets"][0], f"ack {data['page']}")
        elif event.kind == "page.acknowledged" and self.lead is None:
            self.lead = data["by"]
            self._muddle_through()
            self._thin_handoff()
        elif event.kind == "rota.shift_change":
            self.incoming = data["to"]
            self._thin_handoff()

    def _notice(self) -> None:
        if self.lead is not None:
            return
        self.lead = self.know.on_call()
        self.do(1, self.lead, "note 'something looks off on the dashboards'")
        self._muddle_through()

    def _thin_handoff(self) -> None:
        """Once a new primary is on call, pass the pager on with a one-line note."""
        if self.lead is None or self.incoming in (None, self.lead) or self.resolved:
            return
        self.do(120, self.lead, f"handoff {self.incoming} --status 'still looking into it'")
        self.lead = self.incoming

    def _muddle_through(self) -> None:
        lead = self.lead
        assert lead is not None
        if self.runbook is not None:
            self.do(60, lead, "step 1")
        cause, target = self.know.wrong_cause()
        self.do(360, lead, f"hypothesis {cause} {target} 'probably the last deploy'")
        harmful = self.know.concrete_harmful()
        if harmful is not None:
            self.do(480, lead, f"mitigate {harmful[0]} {harmful[1]}")
        self.wake(1080, self._second_guess)
        self.wake(1320, lambda: self.do(1, self.lead or lead, f"assign incident_commander {self.lead or lead}"))
        self.wake(1500, lambda: self.do(1, self.lead or lead, "status 'We are looking into errors on the service.'"))

    def _second_guess(self) -> None:
        fault = self.know.root_fault
        actor = self.lead or ""
        self.do(1, actor, f"hypothesis {fault.kind} {fault.target} 'maybe the GPU errors in the logs?'")
        delay = 120.0
        for number, step in enumerate(self.runbook.steps if self.runbook else (), start=1):
            if not step.placeholders:
                continue
            self.wake(delay, lambda number=number, step=step: self._run_fix_step(number, step.placeholders))
            delay += 120.0
        if self.runbook is None:
            for fix in self.know.fixes:
                if "*" not in fix.target:
                    self.do(delay, actor, f"mitigate {fix.action} {fix.target}")
                    delay += 120.0
        self.wake(delay + 60, self._try_resolve)

    def _run_fix_step(self, number: int, placeholders: list[str]) -> None:
        params = {name: self.know.placeholder(name) for name in placeholders}
        if all(value is not None for value in params.values()):
            self.do(1, self.lead or "", f"step {number} " + " ".join(f"{k}={v}" for k, v in params.items()))

    def _try_resolve(self) -> None:
        if self.resolved:
            return
        if not self.know.incident_over():
            self.wake(120, self._try_resolve)
            return
        self.resolved = True
        self.do(1500, self.lead or "", "resolve 'seems fine now'")
