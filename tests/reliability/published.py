"""Published figures the bundled fleets are checked against (from ../shared/reference/ml-fleet-reliability.md)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LLAMA3 = ROOT / "scenarios" / "fleets" / "llama3-405b.yaml"
RSC1 = ROOT / "scenarios" / "fleets" / "meta-rsc1-research.yaml"

# The Llama 3 Herd of Models (2024), sec. 3.3.4, Table 5: a 54-day snapshot of 16,384 H100 GPUs
# (2,048 hosts x 8): 466 interruptions, 47 planned, 419 unexpected by these root causes.
LLAMA3_DAYS = 54
LLAMA3_GPUS = 16384
LLAMA3_PLANNED = 47
LLAMA3_TABLE5 = {
    "Faulty GPU": 148, "GPU HBM3 memory": 72, "Software bug": 54, "Network switch/cable": 35,
    "Host maintenance": 32, "GPU SRAM memory": 19, "GPU system processor": 17, "NIC": 7,
    "NCCL watchdog timeouts": 7, "Silent data corruption": 6, "GPU thermal interface + sensor": 6,
    "SSD": 3, "Power supply": 3, "Server chassis": 2, "IO expansion board": 2, "Dependency": 2,
    "CPU": 2, "System memory": 2,
}
LLAMA3_UNEXPECTED = 419
LLAMA3_ETTR_ABOVE = 0.90
"""Effective training time above 90%."""

# Kokolis et al., Revisiting Reliability in Large-Scale ML Research Clusters (HPCA 2025):
# node failure rate r_f per 1,000 node-days.
RSC1_RF = 6.50
RSC2_RF = 2.34
