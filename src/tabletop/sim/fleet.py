"""The simulated ML fleet: nodes, pods and the controllers that own them, on one SimPy clock.

The fleet starts in steady state (every workload placed and serving). It reports what happens
through ``emit`` (Kubernetes-style events for the timeline) and its ``logs``; the drill reads
its state at every scrape to publish metrics.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

import simpy

from tabletop.scenario.fleet import Fleet as FleetSpec
from tabletop.scenario.fleet import NodePool
from tabletop.scenario.gpu_models import GPU_MODELS
from tabletop.timers import later
from tabletop.sim import kubelet, scheduler
from tabletop.sim.deployment import Deployment
from tabletop.sim.features import FeaturePipeline, FeatureStore
from tabletop.sim.gpu import Gpu
from tabletop.sim.logs import LogStore
from tabletop.sim.node import Node
from tabletop.sim.pod import Pod, PodState
from tabletop.sim.rng import Streams
from tabletop.sim.training import TrainingJob

_PCI_BUSES = ("18", "2a", "3a", "5d", "9a", "ab", "ba", "db", "19", "2b", "3b", "5e", "9b", "ac", "bb", "dc")
"""PCI bus ids of the GPUs of an 8-way HGX board (and a second board)."""

Emit = Callable[[str, dict[str, Any]], None]


class Fleet:
    def __init__(self, env: simpy.Environment, spec: FleetSpec, *, start: datetime, streams: Streams, emit: Emit) -> None:
        self.env = env
        self.spec = spec
        self.start = start
        self.streams = streams
        self._emit = emit
        self.logs = LogStore()
        self.recent_events: deque[tuple[float, str, str, str]] = deque(maxlen=5000)
        """Kubernetes-style events (time, object, reason, message), newest last."""
        self.nodes: dict[str, Node] = {}
        self.pods: dict[str, Pod] = {}
        self._pending: list[tuple[Pod, str, frozenset[str]]] = []
        self._unschedulable_reported: dict[str, str] = {}
        self._scheduling_requested = False
        self._change_requested = False
        self.watchers: list[Callable[[], None]] = []
        """Called (once per instant) after anything in the fleet changed; faults watch for their end."""
        self._uids = 0
        self._building = True
        self._start_seconds_of_day = start.hour * 3600 + start.minute * 60 + start.second
        for pool_index, pool in enumerate(spec.node_pools):
            for index in range(pool.nodes):
                self._add_node(pool, pool_index, index)
        self.stores = {s.name: FeatureStore(self, s) for s in spec.feature_stores}
        self.pipelines = {p.name: FeaturePipeline(self, p, self.stores[p.store]) for p in spec.feature_pipelines}
        self.deployments: dict[str, Deployment] = {}
        for d in spec.deployments:
            deployment = self.deployments[d.name] = Deployment(self, d)
            deployment.stores = [self.stores[name] for name in d.depends_on]
            for store in deployment.stores:
                store.readers.append(deployment)
            deployment.reconcile()
        self.jobs: dict[str, TrainingJob] = {}
        for j in spec.training_jobs:
            job = self.jobs[j.name] = TrainingJob(self, j)
            job.start()
        self._building = False

    # clock, identity, reporting ----------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.env.now

    def seconds_of_day(self) -> float:
        return (self._start_seconds_of_day + self.env.now) % 86400.0

    def later(self, delay: float, action: Callable[[], None]) -> None:
        later(self.env, delay, action)

    def uid(self) -> str:
        self._uids += 1
        token = self.streams.token("uids", 12, "0123456789abcdef")
        return f"{token[:8]}-{token[8:12]}-4{self._uids:03x}-8000-{self._uids:012x}"

    def event(self, obj: str, reason: str, message: str, type: str = "Normal", **extra: Any) -> None:
        if not self._building:
            self.recent_events.append((self.env.now, obj, reason, message))
            self._emit("fleet.event", {"object": obj, "reason": reason, "message": message, "type": type, **extra})

    def log(self, source: str, stream: str, message: str, level: str = "info") -> None:
        self.logs.add(self.env.now, source, stream, message, level)

    def changed(self) -> None:
        """Let the watchers look at the fleet once everything happening now has happened."""
        if self._change_requested or self._building:
            return
        self._change_requested = True

        def notify() -> None:
            self._change_requested = False
            for watcher in list(self.watchers):
                watcher()

        self.later(0, notify)

    # objects ------------------------------------------------------------------------------------
    def _add_node(self, pool: NodePool, pool_index: int, index: int) -> None:
        model = GPU_MODELS[pool.gpu_model]
        node = Node(name=f"{pool.name}-{index}", pool=pool, ip=f"10.{pool_index}.{index // 250}.{index % 250 + 10}",
                    number=len(self.nodes))
        rng = self.streams.get("gpu-uuids")
        for gpu_index in range(pool.gpus_per_node):
            uuid = "GPU-%08x-%04x-%04x-%04x-%012x" % tuple(rng.getrandbits(bits) for bits in (32, 16, 16, 16, 48))
            node.gpus.append(Gpu(node, gpu_index, model, uuid, f"00000000:{_PCI_BUSES[gpu_index]}:00.0"))
        self.nodes[node.name] = node

    def pool(self, name: str) -> NodePool:
        return next(p for p in self.spec.node_pools if p.name == name)

    def lookup(self, target: str) -> Any:
        """The object named by ``kind/name``, or None."""
        kind, _, name = target.partition("/")
        table: dict[str, Any] = {
            "node": self.nodes, "pod": self.pods, "deployment": self.deployments, "job": self.jobs,
            "featurestore": self.stores, "pipeline": self.pipelines,
        }.get(kind, {})
        return table.get(name)

    def all_gpus(self) -> list[Gpu]:
        return [gpu for node in self.nodes.values() for gpu in node.gpus]

    # pods and scheduling ------------------------------------------------------------------------------
    def add_pod(self, pod: Pod, pool: str, excluded: frozenset[str] = frozenset()) -> None:
        self.pods[pod.name] = pod
        if self._building:
            self._start_steady(pod, pool)
            return
        self._pending.append((pod, pool, excluded))
        self.request_scheduling()

    def _start_steady(self, pod: Pod, pool: str) -> None:
        placement = scheduler.place(pod, self.nodes.values(), pool)
        if placement is None:
            self._pending.append((pod, pool, frozenset()))
            return
        node, gpus = placement
        pod.node, pod.gpus, pod.ip = node, gpus, node.next_pod_ip()
        for gpu in gpus:
            gpu.pod = pod
        node.pods.append(pod)
        uptime = 86400.0 * (2 + self.streams.get("uptime").random())
        pod.image_pulled = True
        pod.container_started_at = pod.ready_since = -uptime
        pod.state = PodState.READY

    def unqueue(self, pod: Pod) -> None:
        self._pending = [entry for entry in self._pending if entry[0] is not pod]

    def forget(self, pod: Pod) -> None:
        if self.pods.get(pod.name) is pod:  # a successor may already carry the name (a gang restart)
            del self.pods[pod.name]
            self._unschedulable_reported.pop(pod.name, None)

    def request_scheduling(self) -> None:
        if self._scheduling_requested:
            return
        self._scheduling_requested = True
        self.later(0, self._schedule)

    def _schedule(self) -> None:
        self._scheduling_requested = False
        waiting = []
        for pod, pool, excluded in self._pending:
            placement = scheduler.place(pod, self.nodes.values(), pool, excluded)
            if placement is None:
                waiting.append((pod, pool, excluded))
                message = scheduler.why_unschedulable(pod, self.nodes.values(), pool)
                if self._unschedulable_reported.get(pod.name) != message:
                    self._unschedulable_reported[pod.name] = message
                    self.event(pod.ref, "FailedScheduling", message, type="Warning")
                continue
            kubelet.bind(self, pod, *placement)
        self._pending = waiting
        if self._pending:
            self.changed()

    def pending_pods(self) -> list[Pod]:
        return [pod for pod, _, _ in self._pending]

    # failures ---------------------------------------------------------------------------------
    def gpu_lost(self, gpu: Gpu) -> None:
        gpu.lost = True
        gpu.mark_unusable(self.now)
        if gpu.pod is not None:
            owner = gpu.pod.owner
            owner.gpu_lost(gpu.pod)  # type: ignore[attr-defined]
        self.changed()

    def node_lost(self, node: Node) -> None:
        for job in self.jobs.values():
            job.node_lost(node)
        self.changed()

    def settle_training(self) -> None:
        """Book training progress so far; call before GPU speeds change."""
        for job in self.jobs.values():
            job.settle()

    def gpu_hours_lost(self) -> float:
        now = self.now
        hardware = sum(gpu.unusable_seconds(now) for gpu in self.all_gpus()) / 3600
        return hardware + sum(job.lost_gpu_hours(now) for job in self.jobs.values())
