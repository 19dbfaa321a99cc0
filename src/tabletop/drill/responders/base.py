"""What scripted responders share: watching the timeline and queueing commands."""

from __future__ import annotations

from collections.abc import Callable
from fnmatch import fnmatch
from typing import TYPE_CHECKING

from tabletop.drill.timeline import Event
from tabletop.pager.rota import on_call
from tabletop.scenario.chaos import root_cause
from tabletop.sim.pod import Pod, PodState
from tabletop.timers import later

if TYPE_CHECKING:
    from tabletop.drill.engine import Drill

MIN_REACTION = 1.0
"""Commands reacting to an event are queued at least this long after it (see Drill.submit)."""


class Responder:
    name = "responder"

    def attach(self, drill: "Drill") -> None:
        self.drill = drill
        self.rng = drill.streams.get(f"responder/{self.name}")
        drill.timeline.subscribe(self.observe)
        self.start()

    def start(self) -> None:
        """Called once when attached, at T+0."""

    def command_lines(self) -> list[str] | None:
        """Command lines this responder will type beside runbook steps, known before the drill
        starts; None when it may type anything (see ``tabletop.drill.reads``)."""
        return []

    def observe(self, event: Event) -> None:
        """Called with every timeline event."""

    def do(self, delay: float, actor: str, line: str) -> None:
        self.drill.submit(self.drill.now + max(delay, MIN_REACTION), actor, line)

    def wake(self, delay: float, action: Callable[[], None]) -> None:
        """Think again later. Only queues commands, so the simulation is the same without it."""
        later(self.drill.env, max(delay, MIN_REACTION), action)


class Knowledge:
    """What a responder who knows the answer (the scenario's ground truth) would type."""

    def __init__(self, drill: "Drill") -> None:
        self.drill = drill
        truth = drill.scenario.ground_truth
        self.root_fault = root_cause(drill.scenario)
        self.fixes = truth.fixes
        self.harmful = truth.harmful

    def placeholder(self, name: str) -> str | None:
        """A value for a runbook ``<placeholder>``, from the ground truth and the fleet now."""
        if name == "pod":
            return self._broken_pod()
        if name == "replicas":
            scaled = next((f.target.partition("/")[2] for f in self.fixes if f.action == "scale"), None)
            deployment = self.drill.fleet.deployments.get(scaled or "")
            return str(deployment.spec.replicas + 1) if deployment else None
        if self.root_fault.target.startswith(f"{name}/"):
            return self.root_fault.target.partition("/")[2]
        for fix in self.fixes:
            if fix.target.startswith(f"{name}/") and "*" not in fix.target:
                return fix.target.partition("/")[2]
        return None

    def _broken_pod(self) -> str | None:
        patterns = [f.target for f in self.fixes if f.target.startswith("pod/")]
        root_node = self.root_fault.target.partition("/")[2] if self.root_fault.target.startswith("node/") else None
        candidates: list[Pod] = [
            pod for pod in self.drill.fleet.pods.values()
            if pod.alive and any(fnmatch(pod.ref, p) for p in patterns)
            and (root_node is None or (pod.node is not None and pod.node.name == root_node))
        ]
        candidates.sort(key=lambda p: (p.state is PodState.READY, p.name))
        return candidates[0].name if candidates else None

    def concrete_harmful(self) -> tuple[str, str] | None:
        for action in self.harmful:
            if "*" not in action.target and "?" not in action.target:
                return action.action, action.target
        return None

    def wrong_cause(self) -> tuple[str, str]:
        """A plausible but wrong root cause: the usual suspect when serving degrades."""
        deployment = next((h.target for h in self.harmful if h.target.startswith("deployment/")), None)
        deployment = deployment or next((f"deployment/{d.name}" for d in self.drill.scenario.fleet.deployments), self.root_fault.target)
        cause = "bad_rollout" if self.root_fault.kind != "bad_rollout" else "traffic_surge"
        return cause, deployment

    def incident_over(self) -> bool:
        """No SLO breached for five minutes, no page waiting for an owner, and the root cause's
        impact over: the fault mitigated or ended (an engineer sees its signals clear) or, for a
        root cause the fault catalog does not follow (an experiment), the first page's alerts cleared."""
        drill = self.drill
        if any(state.in_breach for state in drill.slo.states):
            return False
        breaches = [e.t for e in drill.timeline.events if e.kind in ("slo.breach_start", "slo.breach_end")]
        if breaches and drill.now - breaches[-1] < 300:
            return False
        if any(p.open and p.state == "triggered" for p in drill.pager.pages):
            return False
        status = drill.injector.status(self.root_fault.id)
        if status is not None:
            return status in ("mitigated", "ended")
        first = drill.pager.pages[0] if drill.pager.pages else None
        return first is not None and (not first.open or not first.alerts)

    def on_call(self) -> str:
        """Who a page would reach first now: the first level of the policy the scenario's routes
        lead to, else the first rota's on-call, else the first participant."""
        scenario = self.drill.scenario
        policies = {p.id: p for p in scenario.escalation_policies}
        routed = [r.policy for r in scenario.routing.routes if r.policy] + [scenario.routing.policy]
        policy = next((policies[p] for p in routed if p in policies), None) or next(iter(policies.values()), None)
        rotas = {r.id: r for r in scenario.rotas}
        wall = self.drill.pager.wall()
        for target in (policy.levels[0].notify if policy and policy.levels else []):
            kind, _, name = target.partition("/")
            if kind == "rota" and name in rotas:
                return on_call(rotas[name], wall)
            if kind == "participant":
                return name
        if scenario.rotas:
            return on_call(scenario.rotas[0], wall)
        return scenario.participants[0].id
