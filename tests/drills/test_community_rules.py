"""Community alert rules (kubernetes-mixin as kube-prometheus-stack ships it, the usual DCGM
rules: ``community/rules.yaml``) fire in the drills whose faults should fire them, and nowhere
else: not for faults they are not about, and not on the same fleets without faults.

Each drill runs with its own rules replaced by the community ones and nobody responding, so
every fault runs its natural course.
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tabletop.drill.responders.unattended import Unattended
from tabletop.drill.run import run_headless
from tabletop.scenario.loader import load_scenario

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
RULES = HERE / "community" / "rules.yaml"
KINDS = HERE / "scenarios"
BANK = sorted((ROOT / "scenarios").glob("*.yaml"))

FIRES = {
    "gpu_xid": {"GPUXidError", "KubePodCrashLooping", "KubeDeploymentReplicasMismatch"},
    "hbm_ecc": {"GPUXidError", "GPUDoubleBitECCError", "KubePodCrashLooping", "KubeDeploymentReplicasMismatch"},
    "gpu_thermal": {"GPUHighTemperature"},
    "memory_leak": {"KubePodCrashLooping"},
    "node_not_ready": {"KubeNodeNotReady", "KubeNodeUnreachable"},
    # Faults of the model, the data or the job: cluster and GPU health rules rightly stay quiet
    # (the service's own alerts must catch them).
    "bad_rollout": set(), "feature_drift": set(), "feature_store_outage": set(), "traffic_surge": set(),
    "nccl_hang": set(), "checkpoint_storage_full": set(),
}
"""Fault kind → the community alerts its small drill (``scenarios/<kind>.yaml``) fires, exactly."""

MAY_ALSO_FIRE = {
    "node_not_ready": {"KubePodNotReady", "KubeDeploymentReplicasMismatch"},
    "memory_leak": {"KubeDeploymentReplicasMismatch"},
    "traffic_surge": {"KubePodNotReady"},
}
"""Alerts a fault fires only where the fleet has no room to replace what it lost."""


def community_variant(path: Path, folder: Path, *, faults: bool) -> Path:
    """``path`` with only the community rules, written to ``folder``; without ``faults``, every
    fault comes after the end (a headless run never runs the Chaos Toolkit experiments)."""
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    data["rules"] = {"groups": []}
    data["rule_files"] = [str(RULES)]
    data["runbooks"] = [str((path.parent / r).resolve()) for r in data.get("runbooks", [])]
    if data.get("rubric", {}).get("file"):
        data["rubric"]["file"] = str((path.parent / data["rubric"]["file"]).resolve())
    if not faults:
        for fault in data.get("faults", []):
            fault["when"] = {"at": "1000h"}
    variant = folder / f"{'faults' if faults else 'baseline'}-{path.parent.name}-{path.name}"
    variant.write_text(yaml.safe_dump(data, sort_keys=False))
    return variant


@cache
def fired(path: Path, faults: bool) -> dict[str, float]:
    """Alert name → drill second it first fired, nobody responding."""
    with tempfile.TemporaryDirectory() as folder:
        loaded = load_scenario(community_variant(path, Path(folder), faults=faults))
    events = run_headless(loaded, Unattended(), seed=1).timeline.events
    first: dict[str, float] = {}
    for event in events:
        if event.kind == "alert.firing":
            first.setdefault(event.data["alertname"], event.t)
    return first


@pytest.mark.parametrize("kind", sorted(FIRES))
def test_each_fault_kind_fires_its_community_alerts_and_no_other(kind: str) -> None:
    assert set(fired(KINDS / f"{kind}.yaml", True)) == FIRES[kind]


def test_the_upstream_for_durations_hold() -> None:
    """KubePodCrashLooping needs 15 minutes of back-off; GPUXidError fires at the first scrape."""
    gpu_xid = fired(KINDS / "gpu_xid.yaml", True)
    fault_at = 300.0
    assert gpu_xid["GPUXidError"] - fault_at <= 60
    assert gpu_xid["KubePodCrashLooping"] - fault_at >= 15 * 60


def test_a_lost_node_without_a_spare_leaves_pods_pending_and_fires_kube_pod_not_ready(tmp_path: Path) -> None:
    data = yaml.safe_load((KINDS / "node_not_ready.yaml").read_text())
    data["fleet"]["node_pools"][0]["nodes"] = 4  # four replicas of 8 GPUs, no spare node
    path = tmp_path / "node_not_ready.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert set(fired(path, True)) == FIRES["node_not_ready"] | {"KubePodNotReady", "KubeDeploymentReplicasMismatch"}


@pytest.mark.parametrize("path", sorted(KINDS.glob("*.yaml")) + BANK, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_no_community_alert_fires_on_a_fleet_without_faults(path: Path) -> None:
    assert fired(path, False) == {}


@pytest.mark.parametrize("path", BANK, ids=lambda p: p.stem)
def test_in_the_bank_every_community_alert_is_explained_by_a_fault(path: Path) -> None:
    kinds = {getattr(f, "kind") for f in load_scenario(path).scenario.faults}
    allowed = set().union(*(FIRES.get(k, set()) | MAY_ALSO_FIRE.get(k, set()) for k in kinds)) if kinds else set()
    assert set(fired(path, True)) <= allowed
