"""Synthetic timelines of the bundled scenario, built with ``Timeline.append``.

Shared by the scoring and postmortem tests. Times are drill seconds; the primary on-call's
shift changes at T+25m (09:00).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tabletop.drill.timeline import Event, Header, Timeline
from tabletop.scenario.model import Scenario
from tabletop.scenario.runbook import Runbook, load_runbook
from tabletop.scoring.rubric import Rubric

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCENARIO_PATH = FIXTURES / "scenarios" / "serving-gpu-node-failure.yaml"
"""A frozen copy of the bundled drill, so that tuning the bundled scenario leaves these tests alone."""
RUBRIC_PATH = ROOT / "src" / "tabletop" / "scoring" / "data" / "default-rubric.yaml"


def load_scenario() -> Scenario:
    return Scenario.model_validate(yaml.safe_load(SCENARIO_PATH.read_text(encoding="utf-8")))


def load_runbooks(scenario: Scenario) -> list[Runbook]:
    return [load_runbook((SCENARIO_PATH.parent / path).resolve())[0] for path in scenario.runbooks]


def rubric_for(scenario: Scenario) -> Rubric:
    """The default rubric with the scenario's overrides applied."""
    raw = yaml.safe_load(RUBRIC_PATH.read_text(encoding="utf-8"))
    overrides = scenario.rubric.overrides
    raw["criteria"] = [{**c, **overrides.get(c["id"], {})} for c in raw["criteria"]]
    return Rubric.model_validate(raw)


STEPS = {step.number: step.title for step in load_runbook(FIXTURES / "runbooks" / "serving-gpu-node-failure.md")[0].steps}
"""Titles of the bundled runbook's steps."""


def header(scenario_id: str = "serving-gpu-node-failure", start: str = "2026-03-17T08:35:00Z") -> Header:
    return Header(scenario_id, f"scenarios/{scenario_id}.yaml", "ab" * 32, 7, "script", start, "0.1.0")


class Drill:
    """A timeline under construction; commands append a ``command`` event and its effect."""

    def __init__(self, head: Header | None = None) -> None:
        self.timeline = Timeline(head or header())
        self.key: dict[str, Event] = {}
        """Events the tests check evidence against, by a short name."""

    @property
    def events(self) -> list[Event]:
        return self.timeline.events

    def at(self, t: float, kind: str, actor: str | None = None, /, **data: Any) -> Event:
        return self.timeline.append(t, kind, data, actor)

    def run(self, t: float, who: str, line: str, kind: str | None = None, /, **data: Any) -> Event:
        """A responder command and, with ``kind``, the event it caused (returned)."""
        command = self.timeline.append(t, "command", {"line": line, "name": line.split()[0], "ok": True}, who)
        if kind is None:
            return command
        return self.timeline.append(t, kind, {**data, "command": command.seq}, who)

    def step(self, t: float, who: str, number: int) -> Event:
        return self.run(t, who, f"step {number}", "runbook.step", runbook="serving-gpu-node-failure", step=number, title=STEPS[number])

    def mitigate(self, t: float, who: str, action: str, target: str, step: int | None = None) -> Event:
        line = f"step {step}" if step else f"mitigate {action} {target}"
        command = self.run(t, who, line)
        if step:
            data = {"runbook": "serving-gpu-node-failure", "step": step, "title": STEPS[step], "command": command.seq}
            self.timeline.append(t, "runbook.step", data, who)
        return self.timeline.append(
            t, "mitigation.applied", {"action": action, "target": target, "params": {}, "changes": [], "command": command.seq}, who
        )

    def page(self, t: float, page: str, policy: str = "serving-oncall", to: str = "alice", timeout: float = 300) -> Event:
        event = self.at(t, "page.triggered", page=page, policy=policy, group={"team": "serving"},
                        alerts=["ChatLLMHighErrorRate"], title="chat-llm is failing 6% of requests")
        self.at(t, "page.notified", page=page, level=1, loop=0, targets=[to], ack_timeout=timeout)
        return event

    def ack(self, t: float, who: str, page: str = "p1", level: int = 1) -> Event:
        return self.run(t, who, "ack", "page.acknowledged", page=page, by=who, level=level)


def _start(d: Drill) -> None:
    d.at(0, "drill.started", duration=7200, scrape_interval=15, evaluation_interval=30,
         participants=["alice", "bob", "chen", "dana", "erin", "farid"], incident_window_start=0)
    d.at(600, "fault.injected", fault="gpu-falls-off-bus", kind="gpu_xid", target="node/gpu-serve-2",
         description="GPU 5 of gpu-serve-2 drops off the PCIe bus", params={"gpu": 5, "xid": 79})
    d.at(700, "alert.firing", alertname="GPUXidError", labels={"Hostname": "gpu-serve-2", "gpu": "5", "team": "gpu-infra"},
         annotations={"summary": "GPU 5 on gpu-serve-2 reported Xid 79"}, value=79, group="gpu-health")
    d.at(840, "slo.breach_start", slo="chat-llm-availability", deployment="chat-llm", sli=0.962, objective=99.5)
    d.at(870, "alert.firing", alertname="ChatLLMHighErrorRate", labels={"severity": "page", "team": "serving"},
         annotations={"summary": "chat-llm is failing 6% of requests"}, value=0.06, group="chat-llm-slo")


def strong() -> Drill:
    """Fast ack, roles, steady updates, the right hypothesis early, the runbook in order, a full hand-off."""
    d = Drill()
    _start(d)
    d.key["page"] = d.page(900, "p1")
    d.key["ack"] = d.ack(960, "alice")
    for t, role, who in ((990, "incident_commander", "alice"), (1000, "ops", "chen"), (1010, "comms", "dana"), (1020, "scribe", "bob")):
        d.run(t, "alice", f"assign {role} {who}", "role.assigned", role=role, to=who, previous=None)
    d.step(1030, "alice", 1)
    d.step(1080, "chen", 2)
    d.step(1140, "chen", 3)
    d.step(1200, "chen", 4)
    d.key["hypothesis"] = d.run(1230, "chen", "hypothesis gpu_xid node/gpu-serve-2", "hypothesis", cause="gpu_xid", target="node/gpu-serve-2",
          text="Xid 79 on GPU 5 matches the crash-looping replica")
    d.run(1260, "dana", "status ...", "status.update", text="chat-llm errors for ~6% of users; GPU failure on gpu-serve-2")
    d.mitigate(1290, "chen", "cordon", "node/gpu-serve-2", step=5)
    d.mitigate(1320, "chen", "delete_pod", "pod/chat-llm-7d9f-x2", step=6)
    d.step(1400, "dana", 7)
    d.at(1400, "status.update", "dana", text="Replacement replica loading, ready around 09:05", command=d.events[-2].seq)
    d.key["handoff"] = d.run(1490, "alice", "handoff bob ...", "page.handoff", pages=["p1"], to="bob", **{"from": "alice"},
          note={"status": "five of six replicas serving, errors falling", "actions": "cordoned gpu-serve-2 and deleted the pod",
                "next": "drain gpu-serve-2 once the replica is ready"})
    d.at(1500, "rota.shift_change", rota="serving-primary", **{"from": "alice", "to": "bob"})
    d.at(1720, "fault.mitigated", fault="gpu-falls-off-bus", command=None)
    d.key["breach_end"] = d.at(1740, "slo.breach_end", slo="chat-llm-availability", deployment="chat-llm", sli=0.996, objective=99.5, bad=1200, total=60000)
    d.mitigate(1800, "chen", "drain", "node/gpu-serve-2", step=8)
    d.step(1900, "chen", 9)
    d.run(2100, "dana", "status ...", "status.update", text="Impact over since 09:04; node drained, RMA filed")
    d.at(2400, "fault.injected", fault="node-hangs", kind="node_not_ready", target="node/gpu-serve-2",
         description="The kubelet stops reporting", params={})
    d.step(2700, "bob", 10)
    d.at(2700, "incident.resolved", "bob", text="Alerts clear, error ratio under the SLO", command=d.events[-2].seq)
    d.at(2700, "page.resolved", page="p1", reason="incident_resolved")
    d.at(7200, "drill.ended", reason="duration",
         slos={"chat-llm-availability": {"good": 2_400_000, "bad": 1300, "total": 2_401_300, "budget_burned_percent": 0.8},
               "chat-llm-latency": {"good": 2_400_900, "bad": 400, "total": 2_401_300, "budget_burned_percent": 0.3}},
         failed_requests={"chat-llm": 1300, "ranker": 0}, gpu_hours_lost=3.5)
    return d


def weak() -> Drill:
    """Late ack after a timeout escalation, a wrong first guess, a harmful restart, a silent shift change."""
    d = Drill()
    _start(d)
    d.key["page"] = d.page(900, "p1")
    d.key["escalated"] = d.at(1200, "page.escalated", page="p1", from_level=1, to_level=2, loop=0, reason="ack_timeout")
    d.at(1200, "page.notified", page="p1", level=2, loop=0, targets=["chen"], ack_timeout=600)
    d.key["ack"] = d.ack(1380, "alice", level=2)
    d.step(1390, "alice", 1)
    d.key["wrong_hypothesis"] = d.run(1400, "alice", "hypothesis bad_rollout deployment/chat-llm", "hypothesis", cause="bad_rollout",
          target="deployment/chat-llm", text="maybe the new model version")
    d.key["restart"] = d.mitigate(1450, "alice", "rollout_restart", "deployment/chat-llm")
    d.at(1500, "rota.shift_change", rota="serving-primary", **{"from": "alice", "to": "bob"})
    d.key["reassigned"] = d.at(1500, "page.reassigned", page="p1", reason="shift_change", **{"from": "alice", "to": "bob"})
    d.key["hypothesis"] = d.run(1600, "bob", "hypothesis gpu_xid node/gpu-serve-2", "hypothesis", cause="gpu_xid", target="node/gpu-serve-2")
    d.key["ic"] = d.run(1700, "bob", "assign incident_commander bob", "role.assigned", role="incident_commander", to="bob", previous=None)
    d.mitigate(1750, "bob", "cordon", "node/gpu-serve-2", step=5)
    d.mitigate(1780, "bob", "delete_pod", "pod/chat-llm-7d9f-x2", step=6)
    d.at(2300, "fault.mitigated", fault="gpu-falls-off-bus", command=None)
    d.at(2350, "slo.breach_end", slo="chat-llm-availability", deployment="chat-llm", sli=0.995, objective=99.5, bad=5200, total=91000)
    d.at(2400, "fault.injected", fault="node-hangs", kind="node_not_ready", target="node/gpu-serve-2",
         description="The kubelet stops reporting", params={})
    d.key["ops"] = d.run(2500, "bob", "assign ops chen", "role.assigned", role="ops", to="chen", previous=None)
    d.key["resolved"] = d.run(5000, "bob", "resolve", "incident.resolved", text="")
    d.at(7200, "drill.ended", reason="duration",
         slos={"chat-llm-availability": {"good": 2_396_000, "bad": 8200, "total": 2_404_200, "budget_burned_percent": 3.4},
               "chat-llm-latency": {"good": 2_403_000, "bad": 1200, "total": 2_404_200, "budget_burned_percent": 0.5}},
         failed_requests={"chat-llm": 8200, "ranker": 0}, gpu_hours_lost=11.25)
    return d
