"""GPU models a node pool can carry, with the figures the simulation and DCGM exporter need."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GpuModel:
    dcgm_name: str
    """``modelName`` label as nvidia-dcgm-exporter publishes it."""
    memory_mib: int
    tdp_watts: float
    idle_watts: float
    max_sm_clock_mhz: int
    slowdown_temp_c: float
    """Temperature at which the GPU starts hardware thermal slowdown."""


GPU_MODELS: dict[str, GpuModel] = {
    "H100-SXM-80GB": GpuModel("NVIDIA H100 80GB HBM3", 81559, 700.0, 70.0, 1980, 87.0),
    "H200-SXM-141GB": GpuModel("NVIDIA H200", 143771, 700.0, 75.0, 1980, 87.0),
    "A100-SXM4-80GB": GpuModel("NVIDIA A100-SXM4-80GB", 81920, 400.0, 55.0, 1410, 85.0),
    "A100-SXM4-40GB": GpuModel("NVIDIA A100-SXM4-40GB", 40960, 400.0, 50.0, 1410, 85.0),
    "L40S": GpuModel("NVIDIA L40S", 46068, 350.0, 35.0, 2520, 88.0),
    "L4": GpuModel("NVIDIA L4", 23034, 72.0, 16.0, 2040, 88.0),
    "A10G": GpuModel("NVIDIA A10G", 23028, 300.0, 25.0, 1710, 88.0),
}
