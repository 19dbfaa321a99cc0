"""Chaos Toolkit actions on tabletop's simulated fleet (``"type": "python", "module":
"tabletop.chaos.sim.actions"``). See ``tabletop.chaos.sim`` for how they find the drill.

``inject_fault`` puts any fault of tabletop's catalog into the running drill now::

    {"type": "action", "name": "gpu-falls-off-the-bus",
     "provider": {"type": "python", "module": "tabletop.chaos.sim.actions", "func": "inject_fault",
                  "arguments": {"kind": "gpu_xid", "target": "node/gpu-serve-2",
                                "parameters": {"gpu": 5, "xid": 79}}}}

The drill checks it as ``tabletop validate`` checks a scenario's faults (the kind's parameters,
the target against the fleet as it is now) and refuses it with every problem at once; the
activity then fails with that message. It lands on the timeline as ``fault.injected`` in the
name of ``tabletop_actor`` (or the twin's participant; ``facilitator`` without one).

``mitigate`` runs a responder mitigation (``mitigate ACTION TARGET k=v``) in the name of the
configured participant, e.g. as a rollback.
"""

from __future__ import annotations

from typing import Any

from chaoslib.exceptions import ActivityFailed

from tabletop.chaos.sim.client import call, seconds

__all__ = ["inject_fault", "mitigate"]


def inject_fault(kind: str, target: str, parameters: dict[str, Any] | None = None, duration: Any = None,
                 id: str | None = None, description: str | None = None,
                 when: dict[str, Any] | None = None,
                 configuration: dict[str, Any] | None = None, secrets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Inject a catalog fault (``kind``: gpu_xid, hbm_ecc, gpu_thermal, node_not_ready, memory_leak,
    bad_rollout, rollout, traffic_surge, feature_drift, feature_store_outage, nccl_hang,
    checkpoint_storage_full) into ``target`` (``node/NAME``, ``deployment/NAME``, ...), with the
    kind's ``parameters`` (as in a scenario's ``faults`` entry, e.g. ``{"gpu": 5, "xid": 79}``).
    ``duration`` (seconds or ``"10m"``) ends it by itself; ``id`` defaults to ``chaos-<kind>-<n>``.
    ``when`` waits first, as a scenario fault's ``when`` does: ``{"at": "10m"}`` (drill time) or
    ``{"condition": PROMQL, "after": "5m"}`` (see ``probes.wait_until``; run such actions with
    ``"background": true`` to wait for several faults at once).
    Returns the fault: id, kind, target, description, status, injected_at (drill seconds), by."""
    if when is not None:
        from tabletop.chaos.sim.probes import wait_until

        if not isinstance(when, dict) or set(when) - {"at", "condition", "after"}:
            raise ActivityFailed(f"when: expected {{at: TIME}} or {{condition: PROMQL, after: TIME}}, got {when!r}")
        wait_until(at=when.get("at"), condition=when.get("condition"), after=when.get("after"),
                   configuration=configuration, secrets=secrets)
    body: dict[str, Any] = {"kind": kind, "target": target}
    if parameters:
        body["parameters"] = parameters
    if duration is not None:
        body["duration"] = seconds(duration, "duration")
    if id is not None:
        body["id"] = id
    if description:
        body["description"] = description
    return call("POST", "/faults", body, configuration=configuration, secrets=secrets)


def mitigate(action: str, target: str, parameters: dict[str, Any] | None = None,
             configuration: dict[str, Any] | None = None, secrets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Apply a mitigation (cordon, uncordon, drain, reboot, delete_pod, evict, scale, rollback,
    rollout_restart, shed_load, restart_training, free_checkpoint_space, failover, pin_features)
    to ``target`` as a responder command. A target with shell wildcards (``pod/chat-llm-*``)
    applies it to every match (pods: only crash-looping ones, or on a node that is not Ready).
    Returns ok, message and the command lines run."""
    body: dict[str, Any] = {"action": action, "target": target}
    if parameters:
        body["parameters"] = parameters
    result = call("POST", "/mitigations", body, configuration=configuration, secrets=secrets)
    if not result.get("ok"):
        raise ActivityFailed(result.get("message") or "the mitigation failed")
    return result
