"""ingress-nginx controller: every request users send, with the status they got back.

This is where user-visible errors are counted, including requests the gateway sent to an
endpoint that was still listed but could not answer (502), requests with no Ready endpoint at
all (503), requests over capacity or slower than the timeout (504), requests failed by a
dependency (500) and requests shed on purpose (429). One counter per deployment and status,
cumulative since the controller started (four days before the drill).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabletop.signals.exporters._common import Exporter

if TYPE_CHECKING:
    from tabletop.signals.store import SeriesStore
    from tabletop.sim.deployment import Deployment
    from tabletop.sim.fleet import Fleet
    from tabletop.sim.traffic import TrafficStep

JOB = "ingress-nginx"
INSTANCE = "10.243.0.21:10254"
CONTROLLER = {"controller_class": "k8s.io/ingress-nginx", "controller_namespace": "ingress-nginx",
              "controller_pod": "ingress-nginx-controller-7d9f8c6b5-x2hq4"}
CONTROLLER_UPTIME = 4 * 86400.0
"""Seconds the controller had been running at T+0 (its counters are not zero then)."""
STATUSES = ("200", "429", "500", "502", "503", "504")


def _rates(step: "TrafficStep") -> tuple[float, ...]:
    return (step.ok, step.shed, step.dependency_errors, step.bad_gateway, step.no_endpoints, step.timeouts)


class IngressExporter(Exporter):
    families = (
        ("nginx_ingress_controller_requests", "counter", "The total number of client requests"),
    )

    def __init__(self, store: SeriesStore) -> None:
        super().__init__(store)
        self._up = self.up_sid({"job": JOB, "instance": INSTANCE})
        self._series: dict["Deployment", tuple[list[int], list[float]]] = {}
        self._last: float | None = None

    def _deployment(self, deployment: "Deployment") -> tuple[list[int], list[float]]:
        labels = {"job": JOB, "instance": INSTANCE, **CONTROLLER, "namespace": deployment.namespace,
                  "ingress": deployment.name, "service": deployment.name,
                  "host": f"{deployment.name}.{deployment.namespace}.svc.example.com", "path": "/", "method": "POST"}
        sids = [self.sid("nginx_ingress_controller_requests", {**labels, "status": status}) for status in STATUSES]
        entry = self._series[deployment] = (sids, [0.0] * len(STATUSES))
        return entry

    def collect(self, fleet: "Fleet") -> None:
        add = self.store.add
        now = fleet.now
        add(self._up, 1.0)
        elapsed = now - self._last if self._last is not None else CONTROLLER_UPTIME
        self._last = now
        for deployment in fleet.deployments.values():
            entry = self._series.get(deployment)
            first = entry is None
            if entry is None:
                entry = self._deployment(deployment)
            sids, values = entry
            dt = CONTROLLER_UPTIME + now if first else elapsed
            if dt > 0:
                for i, rate in enumerate(_rates(deployment.last)):
                    values[i] += rate * dt
            self.store.add_many(sids, values)
