"""Binding pending pods to nodes with enough free, healthy GPUs (first fit by node name)."""

from __future__ import annotations

from collections.abc import Iterable

from tabletop.sim.gpu import Gpu
from tabletop.sim.node import Node
from tabletop.sim.pod import Pod


def place(pod: Pod, nodes: Iterable[Node], pool: str, excluded: frozenset[str] = frozenset()) -> tuple[Node, list[Gpu]] | None:
    """The first schedulable node of ``pool`` with room for the pod, and the GPUs it gets."""
    for node in nodes:
        if node.pool.name != pool or not node.schedulable or node.name in excluded:
            continue
        free = node.free_gpus()
        if len(free) >= pod.gpus_wanted:
            return node, free[: pod.gpus_wanted]
    return None


def why_unschedulable(pod: Pod, nodes: Iterable[Node], pool: str) -> str:
    """The FailedScheduling message Kubernetes would give, counted over the pool's nodes."""
    nodes = [n for n in nodes if n.pool.name == pool]
    not_ready = sum(1 for n in nodes if not (n.kubelet_up and n.ready_condition == "True"))
    cordoned = sum(1 for n in nodes if n.cordoned and n.kubelet_up and n.ready_condition == "True")
    short = len(nodes) - not_ready - cordoned
    parts = []
    if short:
        parts.append(f"{short} Insufficient nvidia.com/gpu")
    if not_ready:
        parts.append(f"{not_ready} node(s) had untolerated taint {{node.kubernetes.io/unreachable: }}")
    if cordoned:
        parts.append(f"{cordoned} node(s) were unschedulable")
    return f"0/{len(nodes)} nodes are available: " + ", ".join(parts) + "."
