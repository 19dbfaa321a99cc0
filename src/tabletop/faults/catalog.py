"""Fault kind → its behaviour."""

from __future__ import annotations

from tabletop.faults.base import ActiveFault
from tabletop.faults.data import FeatureDriftFault, FeatureStoreOutageFault
from tabletop.faults.gpu import GpuThermalFault, GpuXidFault, HbmEccFault
from tabletop.faults.node import NodeNotReadyFault
from tabletop.faults.serving import BadRolloutFault, MemoryLeakFault, RolloutFault, TrafficSurgeFault
from tabletop.faults.training import CheckpointStorageFullFault, NcclHangFault

CATALOG: dict[str, type[ActiveFault]] = {
    cls.kind: cls
    for cls in (
        GpuXidFault, HbmEccFault, GpuThermalFault, NodeNotReadyFault, MemoryLeakFault, BadRolloutFault,
        RolloutFault, TrafficSurgeFault, FeatureDriftFault, FeatureStoreOutageFault, NcclHangFault, CheckpointStorageFullFault,
    )
}
