"""The mitigations a responder can apply to the simulated fleet: names, targets, parameters.

This module is data only, so that scenario, runbook and script validation can check actions
without loading the simulation. ``tabletop.sim.mitigations`` implements them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Param:
    type: type
    help: str
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class ActionSpec:
    name: str
    target_kind: str
    summary: str
    params: dict[str, Param] = field(default_factory=dict)


ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec("rollback", "deployment", "roll the deployment back to its previous model version"),
        ActionSpec(
            "scale", "deployment", "set the deployment's replica count",
            {"replicas": Param(int, "desired replicas", minimum=0, maximum=2000)},
        ),
        ActionSpec("rollout_restart", "deployment", "restart every pod of the deployment, a few at a time"),
        ActionSpec(
            "shed_load", "deployment", "reject a fraction of requests at the gateway (429)",
            {"fraction": Param(float, "share of requests to reject, 0 stops shedding", minimum=0, maximum=0.9)},
        ),
        ActionSpec(
            "delete_pod", "pod", "delete a pod; its ReplicaSet creates a replacement",
            {"grace": Param(int, "seconds the pod gets to stop (default 30; 0 removes it at once)", required=False,
                            minimum=0, maximum=3600)},
        ),
        ActionSpec("evict", "pod", "evict a pod as a node drain does; its controller creates a replacement"),
        ActionSpec("cordon", "node", "mark the node unschedulable"),
        ActionSpec("uncordon", "node", "mark the node schedulable again"),
        ActionSpec("drain", "node", "cordon the node and evict its pods (those a disruption budget holds, as it allows)"),
        ActionSpec("reboot", "node", "reboot the node (resets its GPUs; NotReady while it boots)"),
        ActionSpec(
            "restart_training", "job", "restart the job from its last checkpoint",
            {"exclude": Param(str, "node to leave out of the new gang", required=False)},
        ),
        ActionSpec("free_checkpoint_space", "job", "delete checkpoints older than the newest keep_last"),
        ActionSpec("failover", "featurestore", "promote the feature store's standby"),
        ActionSpec("pin_features", "pipeline", "serve the last good feature snapshot instead of fresh output"),
    )
}

TARGET_KINDS: tuple[str, ...] = ("node", "pod", "deployment", "job", "featurestore", "pipeline")
"""Kinds of object a target (``kind/name``) can name."""
