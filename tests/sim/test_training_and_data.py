"""Training jobs (progress, checkpoints, crashes, hangs) and the feature data path."""

from __future__ import annotations

import pytest

from tabletop.sim import mitigations, node_controller
from tabletop.sim.features import model_accuracy
from tests.sim.fleets import TRAINING, Harness, with_fleet

def job_harness() -> Harness:
    return Harness(with_fleet(**TRAINING))


def test_training_progresses_and_checkpoints_on_schedule() -> None:
    h = job_harness()
    job = h.fleet.jobs["llm-pretrain"]
    assert job.state == "Running" and len(job.pods) == 4
    h.run(15 * 60 - 1)
    assert job.current_step(h.env.now) == pytest.approx((15 * 60 - 1) / 10, abs=0.01)
    h.run(2 * 60 + 2)  # the first checkpoint comes half an interval in and pauses training for 2 min
    assert job.last_checkpoint_step == pytest.approx(90, abs=0.1)
    assert job.state == "Running"


def test_a_gpu_failure_crashes_the_gang_and_loses_work_since_the_checkpoint() -> None:
    h = job_harness()
    job = h.fleet.jobs["llm-pretrain"]
    h.run(40 * 60)  # checkpoint at ~15 min (step 90); 23 more minutes of steps since
    step_before = job.current_step(h.env.now)
    victim = job.pods[1].gpus[3]
    h.fleet.gpu_lost(victim)
    h.run(10)
    assert job.state == "Restarting" and job.restarts == 1
    assert job.step == pytest.approx(90, abs=0.1)
    assert job.lost_gpu_seconds == pytest.approx((step_before - 90) * 10 * 32, rel=0.01)
    assert "TrainingJobRestarting" in h.reasons("job/llm-pretrain")
    h.run(30 + 30 + 10 * 60 + 5)  # old workers terminate (30 s), new ones start (30 s) and load (10 min)
    assert job.state == "Running"
    assert all(victim.node is not p.node for p in job.pods)  # needs whole healthy nodes: moved to the spare


def test_a_hang_stalls_progress_until_the_watchdog_or_a_restart() -> None:
    h = job_harness()
    job = h.fleet.jobs["llm-pretrain"]
    h.run(600)
    job.hang("gpu-train-0")
    stalled = job.current_step(h.env.now)
    h.run(300)
    assert job.current_step(h.env.now) == stalled and job.state == "Hung"
    job.arm_watchdog()
    h.run(job.spec.nccl_timeout + 1)
    assert job.restarts == 1 and job.state == "Restarting"


def test_restart_training_excluding_a_node_leaves_it_out() -> None:
    h = job_harness()
    job = h.fleet.jobs["llm-pretrain"]
    outcome = mitigations.apply(h.fleet, "restart_training", "job/llm-pretrain", {"exclude": "gpu-train-0"})
    assert outcome.ok
    h.run(60)
    assert all(p.node.name != "gpu-train-0" for p in job.pods)


RESTART = 30 + 30 + 10 * 60 + 5
"""Old workers terminate (30 s), new ones start (30 s) and load (10 min)."""


def test_a_hang_during_a_restart_hangs_the_first_collective_of_the_new_gang() -> None:
    h = job_harness()
    job = h.fleet.jobs["llm-pretrain"]
    job.crash("test")
    job.hang("gpu-train-1", watchdog=True)
    assert job.state == "Restarting" and job.pending_hang == "gpu-train-1"
    h.run(RESTART)
    in_gang = any(p.node is not None and p.node.name == "gpu-train-1" for p in job.pods)
    assert in_gang and job.state == "Hung" and job.hung_on == "gpu-train-1"
    h.run(job.spec.nccl_timeout + 1)
    assert job.restarts == 2  # the watchdog armed with the hang


def test_a_hang_on_a_node_the_restart_left_out_never_comes() -> None:
    h = job_harness()
    job = h.fleet.jobs["llm-pretrain"]
    assert mitigations.apply(h.fleet, "restart_training", "job/llm-pretrain", {"exclude": "gpu-train-1"}).ok
    job.hang("gpu-train-1")
    h.run(RESTART)
    assert job.state == "Running" and job.pending_hang is None and job.hung_on is None


def test_restart_training_while_restarting_starts_over_with_the_new_exclusion() -> None:
    h = job_harness()
    job = h.fleet.jobs["llm-pretrain"]
    job.crash("test")
    h.run(40)
    assert mitigations.apply(h.fleet, "restart_training", "job/llm-pretrain", {"exclude": "gpu-train-0"}).ok
    assert job.restarts == 2
    h.run(RESTART)
    assert job.state == "Running" and all(p.node.name != "gpu-train-0" for p in job.pods)


def test_full_checkpoint_storage_fails_checkpoints_until_space_is_freed() -> None:
    h = job_harness()
    job = h.fleet.jobs["llm-pretrain"]
    job.foreign_bytes = job.spec.storage.capacity - job.checkpoints_kept * job.spec.checkpoint_size
    h.run(20 * 60)
    assert job.checkpoint_failures == 1
    assert mitigations.apply(h.fleet, "free_checkpoint_space", "job/llm-pretrain", {}).ok
    h.run(35 * 60)
    assert job.checkpoint_failures == 1 and job.last_checkpoint_time > 20 * 60


def test_node_loss_under_a_training_worker_crashes_the_job() -> None:
    h = job_harness()
    job = h.fleet.jobs["llm-pretrain"]
    node_controller.node_down(h.fleet, job.pods[0].node, "test")
    h.run(31)
    assert job.restarts == 1


def test_stale_and_drifting_features_cost_accuracy() -> None:
    h = Harness()
    ranker = h.fleet.deployments["ranker"]
    pipeline = h.fleet.pipelines["user-features"]
    baseline = model_accuracy(ranker, [pipeline], h.env.now)
    assert baseline == pytest.approx(0.91)
    pipeline.drift["test"] = lambda now: 0.2
    drifted = model_accuracy(ranker, [pipeline], h.env.now)
    assert drifted == pytest.approx(0.91 - 0.5 * 0.2)
    assert mitigations.apply(h.fleet, "pin_features", "pipeline/user-features", {}).ok
    assert model_accuracy(ranker, [pipeline], h.env.now) == pytest.approx(0.91)
    h.run(3 * 3600)  # pinned features stop refreshing and go stale
    assert model_accuracy(ranker, [pipeline], h.env.now) < 0.91


def test_pipeline_runs_fail_while_the_store_is_down() -> None:
    h = Harness()
    pipeline = h.fleet.pipelines["user-features"]
    h.fleet.stores["online-features"].mode = "down"
    h.run(3600)
    assert pipeline.runs_failed >= 3 and pipeline.runs_ok == 0
    assert pipeline.staleness(h.env.now) > 3600
