"""The kubelet's endpoints as kube-prometheus scrapes them (``job="kubelet"``).

Each node's kubelet is two targets, told apart by the ``metrics_path`` label kube-prometheus
adds (with ``node``): ``/metrics/cadvisor`` for container metrics, published here, and
``/metrics`` for the kubelet's own (volume stats come from the training exporter). This module
writes ``up`` for both; both fail while the kubelet is down.
cAdvisor reports running containers only: a crash-looping or not yet started container has
no working-set series.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabletop.signals.exporters._common import Exporter
from tabletop.sim.deployment import Deployment
from tabletop.sim.pod import Pod, PodState

if TYPE_CHECKING:
    from tabletop.signals.store import SeriesStore
    from tabletop.sim.fleet import Fleet
    from tabletop.sim.node import Node

JOB = "kubelet"
PORT = 10250
_RUNNING = (PodState.LOADING, PodState.READY, PodState.TERMINATING)


class KubeletExporter(Exporter):
    families = (
        ("container_memory_working_set_bytes", "gauge", "Current working set of the container in bytes"),
        ("container_spec_memory_limit_bytes", "gauge", "Memory limit for the container."),
    )

    def __init__(self, store: SeriesStore) -> None:
        super().__init__(store)
        self._nodes: dict["Node", tuple[int, int, dict[str, str]]] = {}
        self._containers: dict[tuple[Pod, "Node"], tuple[int, int, float]] = {}

    def _node(self, node: "Node") -> tuple[int, int, dict[str, str]]:
        instance = f"{node.ip}:{PORT}"
        cadvisor = {"job": JOB, "instance": instance, "metrics_path": "/metrics/cadvisor", "node": node.name}
        entry = self._nodes[node] = (
            self.up_sid(cadvisor),
            self.up_sid({"job": JOB, "instance": instance, "metrics_path": "/metrics", "node": node.name}),
            cadvisor,
        )
        return entry

    def _container(self, pod: Pod, node: "Node", target: dict[str, str]) -> tuple[int, int, float]:
        labels = {**target, "namespace": pod.namespace, "pod": pod.name, "container": pod.container}
        owner = pod.owner
        limit = float(owner.spec.memory_limit) if isinstance(owner, Deployment) else 0.0
        entry = self._containers[(pod, node)] = (
            self.sid("container_memory_working_set_bytes", labels),
            self.sid("container_spec_memory_limit_bytes", labels),
            limit,
        )
        return entry

    def collect(self, fleet: "Fleet") -> None:
        add = self.store.add
        now = fleet.now
        containers = self._containers
        for node in fleet.nodes.values():
            entry = self._nodes.get(node) or self._node(node)
            up_cadvisor, up_metrics, target = entry
            if not node.kubelet_up:
                add(up_cadvisor, 0.0)
                add(up_metrics, 0.0)
                continue
            add(up_cadvisor, 1.0)
            add(up_metrics, 1.0)
            for pod in node.pods:
                if pod.state not in _RUNNING or pod.container_started_at is None:
                    continue
                series = containers.get((pod, node)) or self._container(pod, node, target)
                add(series[0], float(int(pod.memory(now))))
                add(series[1], series[2])
