"""Simulated exporters: the fleet's state under the metric names and labels real exporters use.

Each exporter is constructed with the ``SeriesStore`` (describing its metric families once) and
its ``collect(fleet)`` is called inside a scrape (see ``tabletop.signals.scraper``).
"""

from tabletop.signals.exporters.cadvisor import KubeletExporter
from tabletop.signals.exporters.dcgm import DcgmExporter
from tabletop.signals.exporters.features import FeaturesExporter
from tabletop.signals.exporters.ingress import IngressExporter
from tabletop.signals.exporters.kube_state import KubeStateExporter
from tabletop.signals.exporters.model_server import ModelServerExporter
from tabletop.signals.exporters.node_exporter import NodeExporter
from tabletop.signals.exporters.training import TrainingExporter

EXPORTERS = (
    DcgmExporter, KubeStateExporter, NodeExporter, KubeletExporter, ModelServerExporter, IngressExporter,
    TrainingExporter, FeaturesExporter,
)
"""Every exporter, in scrape order."""

__all__ = [
    "EXPORTERS", "DcgmExporter", "FeaturesExporter", "IngressExporter", "KubeStateExporter", "KubeletExporter",
    "ModelServerExporter", "NodeExporter", "TrainingExporter",
]
