"""PodDisruptionBudgets (policy/v1): how many of a deployment's pods an eviction may take down.

A budget counts the deployment's pods whose Ready condition is true (``currentHealthy``)
against those it must keep (``desiredHealthy``: ``min_available``, or the replicas less
``max_unavailable``; percents of the replicas rounded up). An eviction of a Ready pod needs a
disruption left (``disruptionsAllowed`` > 0); a pod that is not Ready may go while the budget
is met (Kubernetes' default ``unhealthyPodEvictionPolicy: IfHealthyBudget``). Deleting a pod
ignores budgets, as in Kubernetes; evicting and draining honour them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tabletop.sim.deployment import Deployment
from tabletop.sim.pod import Pod

REFUSED = "Cannot evict pod as it would violate the pod's disruption budget."
"""The API server's message for a refused eviction (HTTP 429)."""


@dataclass(frozen=True)
class BudgetStatus:
    expected: int
    current_healthy: int
    desired_healthy: int

    @property
    def disruptions_allowed(self) -> int:
        return max(0, self.current_healthy - self.desired_healthy)


def budget_status(deployment: Deployment) -> BudgetStatus | None:
    """The deployment's budget now (None: it has none)."""
    budget = deployment.spec.disruption_budget
    if budget is None:
        return None
    expected = deployment.replicas
    healthy = sum(1 for pod in deployment.pods if pod.ready)
    if budget.min_available is not None:
        desired = _count(budget.min_available, expected)
    else:
        desired = max(0, expected - _count(budget.max_unavailable, expected))  # type: ignore[arg-type]
    return BudgetStatus(expected, healthy, desired)


def _count(value: int | str, replicas: int) -> int:
    if isinstance(value, str):
        return math.ceil(replicas * int(value.rstrip("%")) / 100)
    return value


def eviction_blocked(pod: Pod) -> str | None:
    """Why evicting ``pod`` now would violate its deployment's budget (the cause Kubernetes
    gives), or None when it may be evicted."""
    owner = pod.owner
    if not isinstance(owner, Deployment):
        return None
    status = budget_status(owner)
    if status is None:
        return None
    allowed = status.disruptions_allowed > 0 if pod.ready else status.current_healthy >= status.desired_healthy
    if allowed:
        return None
    return (f"The disruption budget {owner.name} needs {status.desired_healthy} healthy pods and has "
            f"{status.current_healthy} currently")
