"""Cross-reference checks, each problem at the referring key."""

from .conftest import Drill

TRAINING = """\
  training_jobs:
    - name: pretrain
      node_pool: gpu-train
      gang_size: 2
      step_time: 2s
      checkpoint_interval: 30m
      storage: {capacity: 100Ti, used: 20Ti}
"""
TRAIN_POOL = """\
    - name: gpu-train
      gpu_model: A100-SXM4-80GB
      nodes: 4
      gpus_per_node: 4
"""


def test_fault_targets(drill: Drill):
    drill.replace("  deployments:\n", TRAIN_POOL + "  deployments:\n")
    drill.replace("  feature_stores:\n", TRAINING + "  feature_stores:\n")
    drill.replace("    gpu: 5\n", "    gpu: 9\n")
    drill.replace("    kind: node_not_ready\n    target: node/gpu-serve-2\n", "    kind: node_not_ready\n    target: deployment/chat-llm\n")
    drill.replace(
        "the node goes NotReady.\n",
        "the node goes NotReady.\n"
        "  - {id: hot, kind: gpu_thermal, target: node/gpu-train-3, gpus: [1, 4], when: {at: 5m}}\n"
        "  - {id: hang, kind: nccl_hang, target: job/pretrain, node: gpu-serve-1, when: {at: 5m}}\n"
        "  - {id: hang2, kind: nccl_hang, target: job/pretrian, when: {at: 5m}}\n"
        "  - {id: slow, kind: feature_store_outage, target: featurestore/online-features, when: {at: 5m}}\n"
        "  - {id: drift, kind: feature_drift, target: user-features, when: {at: 5m}}\n",
    )
    where = drill.where
    retargeted = where("    target: deployment/chat-llm\n    when: {at: 40m}", at="deployment")
    assert drill.problems() == [
        f"{where('gpu: 9', at='9')}: faults[0].gpu: node gpu-serve-2 has 8 GPUs (0 to 7); there is no GPU 9",
        f"{retargeted}: faults[1].target: a node_not_ready fault targets a node (node/NAME), not a deployment",
        f"{where('gpus: [1, 4]', at='4')}: faults[2].gpus[1]: node gpu-train-3 has 4 GPUs (0 to 3); there is no GPU 4",
        f"{where('node: gpu-serve-1', at='gpu')}: faults[3].node: node gpu-serve-1 is not in pool 'gpu-train', where the job runs",
        f"{where('job/pretrian')}: faults[4].target: no job 'pretrian' (did you mean 'pretrain'?); jobs: pretrain",
        f"{where('target: user-features', at='user')}: faults[6].target: expected pipeline/NAME, got 'user-features'",
    ]


def test_names_must_be_unique_and_exist(drill: Drill):
    drill.replace("  - {id: farid, name: Farid Haddad", "  - {id: erin, name: Erin Again}\n  - {id: farid, name: Farid Haddad")
    drill.replace("      - {notify: [rota/serving-secondary], ack_timeout: 10m}\n", "      - {notify: [rota/serving-secondry], ack_timeout: 10m}\n")
    drill.replace("  group_by: [team]\n", "  group_by: [team]\n  policy: default-oncall\n")
    drill.replace("  - id: chat-llm-latency\n    deployment: chat-llm\n", "  - id: chat-llm-latency\n    deployment: chat-lm\n")
    drill.replace("    - action: cordon\n", "    - action: quarantine\n")
    drill.replace("    - action: drain\n      target: node/gpu-serve-2\n", "    - action: drain\n      target: node/gpu-serve-*\n")
    drill.replace("    - action: rollback\n      target: deployment/chat-llm\n", "    - action: rollback\n      target: deployment/*-llm\n")
    where = drill.where
    actions = "rollback, scale, rollout_restart, shed_load, delete_pod, evict, cordon, uncordon, drain, reboot, restart_training, free_checkpoint_space, failover, pin_features"
    first_erin = where("{id: erin, name: Erin Walsh", at="erin").split(":")[1]
    assert drill.problems() == [
        f"{where('chat-lm')}: slos[1].deployment: no deployment 'chat-lm' (did you mean 'chat-llm'?); deployments: chat-llm, ranker",
        f"{where('{id: erin, name: Erin Again', at='erin')}: participants[5].id: duplicate id 'erin' (first used by participants[4], line {first_erin})",
        f"{where('rota/serving-secondry')}: escalation_policies[0].levels[1].notify[0]: no rota 'serving-secondry' (did you mean 'serving-secondary'?); rotas: serving-primary, serving-secondary, gpu-infra",
        f"{where('default-oncall')}: routing.policy: no escalation policy 'default-oncall'; escalation policies: serving-oncall, gpu-infra-oncall",
        f"{where('quarantine')}: ground_truth.fixes[0].action: unknown action 'quarantine'; actions: {actions}",
    ]


def test_rota_member_missing_after_a_schema_error_elsewhere(drill: Drill):
    drill.replace("    members: [alice, bob]\n", "    members: [alice, bob, zed]\n    shift_length: forever\n")
    drill.replace("    shift_length: 12h\n", "")
    assert drill.problems() == [
        f"{drill.where('zed')}: rotas[0].members[2]: no participant 'zed'; participants: alice, bob, chen, dana, erin, farid",
        f"{drill.where('forever')}: rotas[0].shift_length: 'forever' is not a duration (expected e.g. 90s, 5m, 1h30m)",
    ]


def test_warnings_do_not_stop_loading(drill: Drill):
    drill.replace("      replicas: 6\n", "      replicas: 10\n")
    drill.replace("      gpus_per_replica: 1\n", "      gpus_per_replica: 10\n")
    drill.replace("after: 15m}", "after: 2h30m}")
    where = drill.where
    assert drill.problems() == [
        f"{where('    - name: gpu-serve', at='name')}: fleet.node_pools[0]: warning: the workloads on this pool need 80 GPUs at the start but it has 40; some pods will stay Pending",
        f"{where('gpus_per_replica: 10', at='10')}: fleet.deployments[1].gpus_per_replica: warning: a replica needs 10 GPUs but nodes of pool 'gpu-serve' have 8; its pods can never be scheduled",
        f"{where('2h30m')}: injects[0].when.after: warning: happens after the drill ends (metadata.duration is 2h00m)",
    ]


def test_promql_error_column_inside_the_expression(drill: Drill):
    drill.replace(
        "expr: kube_deployment_spec_replicas{job=\"kube-state-metrics\"} >",
        "expr: kube_deployment_spec_replicas{job=\"kube-state-metrics\"} @ 100 >",
    )
    assert drill.problems() == [
        f"{drill.where('@ 100')}: rules.groups[1].rules[1].expr: PromQL: the @ modifier is not supported",
    ]


def test_runbook_commands_with_placeholders(drill: Drill):
    runbook = drill.runbook
    drill.replace(
        "`kubectl cordon <node>`",
        "`kubectl cordon <node>`, `kubectl scale deployment/chat-llm --replicas=<n>`, "
        "`tabletop mitigate shed_load deployment/<name> fraction=<f>`, `tabletop mitigate scale deployment/chat-lm replicas=<n>`",
        runbook,
    )
    drill.replace("`tabletop ack`", "`tabletop ack` `tabletop reply vp-asks <text>`", runbook)
    assert drill.problems() == [
        f"{drill.where('reply vp-asks', runbook)}: step 1: reply: no inject 'vp-asks' (did you mean 'vp-asks-eta'?); injects: support-asks, vp-asks-eta",
        f"{drill.where('mitigate scale deployment/chat-lm', runbook)}: step 5: mitigate: no deployment 'chat-lm' (did you mean 'chat-llm'?); deployments: chat-llm, ranker",
    ]


def test_deeply_nested_expressions_get_an_answer(drill: Drill):
    deep = "(" * 3000 + "1" + ")" * 3000
    drill.replace("  - alert: KubeNodeNotReady\n", f"  - alert: Deep\n          expr: '{deep}'\n          annotations: {{summary: '{{{{ {deep} }}}}'}}\n        - alert: KubeNodeNotReady\n")
    assert drill.problems() == [
        f"{drill.where('expr: ' + chr(39) + '(((', at=chr(39))}: rules.groups[1].rules[2].expr: PromQL: the expression is nested too deeply",
        f"{drill.where('summary: ' + chr(39) + '{{ (((', at=chr(39))}: rules.groups[1].rules[2].annotations.summary: template: the expression is nested too deeply",
    ]
