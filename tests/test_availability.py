"""Production models survive the loss of a node: replicas kept apart (nodes, and zones where the
pool spans several) with the scheduler counting domains that do not exist yet, a disruption
budget that never drains the last Ready replica, a config that cannot keep its replicas apart
rejected with the fix (or allowed with a warning), and drains that fit in the spot notice."""

from __future__ import annotations

from typing import Any

import pytest
from harness import ROOT, planned, platform_config, recorded, refused

from gpu_platform.pools import NodePoolSpec
from gpu_platform.serving import exposure, placement
from gpu_platform.serving.spec import ModelSpec
from stacks.config import parse

STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"


def _model(**settings: Any) -> ModelSpec:
    return ModelSpec.model_validate(
        {"source": "org/model", "nodePool": "p", "maxReplicas": 4, "parametersB": 7, **settings}
    )


def _pool(**settings: Any) -> NodePoolSpec:
    return NodePoolSpec.model_validate(
        {"gpu": "l4", "gpusPerNode": 1, "maxNodes": 4, "capacity": "on-demand", **settings}
    )


def _spread(
    model: ModelSpec, production: bool, zones: tuple[str, ...] = ("a", "b"), cloud: str = "gcp"
) -> dict:
    rules = placement.render_spread({"app": "m"}, model, [_pool()], zones, production, cloud)
    return {r["topologyKey"]: r for r in rules}


def test_a_production_model_keeps_its_replicas_on_separate_nodes_and_zones() -> None:
    spread = _spread(_model(minReplicas=3), production=True)
    node, zone = spread["kubernetes.io/hostname"], spread["topology.kubernetes.io/zone"]
    assert (node["whenUnsatisfiable"], node["minDomains"]) == ("DoNotSchedule", 3)
    # Only two zones: the third replica may join one of them, never a node already used.
    assert (zone["whenUnsatisfiable"], zone["minDomains"]) == ("DoNotSchedule", 2)
    # A pool in one zone cannot spread over zones; nodes still apart.
    one_zone = _spread(_model(minReplicas=2), production=True, zones=("a",))
    assert one_zone["topology.kubernetes.io/zone"]["whenUnsatisfiable"] == "ScheduleAnyway"
    assert one_zone["kubernetes.io/hostname"]["whenUnsatisfiable"] == "DoNotSchedule"
    # EKS: a node group's zones are one Auto Scaling group, which cluster-autoscaler cannot
    # grow in a chosen zone; zones are preferred apart there, nodes still required apart.
    eks = _spread(_model(minReplicas=3), production=True, cloud="aws")
    assert eks["topology.kubernetes.io/zone"]["whenUnsatisfiable"] == "ScheduleAnyway"
    assert eks["kubernetes.io/hostname"]["whenUnsatisfiable"] == "DoNotSchedule"


@pytest.mark.parametrize(
    ("settings", "production"),
    [
        ({"minReplicas": 2}, False),
        ({"minReplicas": 1}, True),
        ({"minReplicas": 2, "allowColocation": True}, True),
    ],
)
def test_otherwise_replicas_only_prefer_to_spread(settings: dict, production: bool) -> None:
    for rule in _spread(_model(**settings), production).values():
        assert rule["whenUnsatisfiable"] == "ScheduleAnyway" and "minDomains" not in rule


def test_prods_large_model_runs_its_two_replicas_on_two_nodes() -> None:
    server = recorded("prod").one(STATEFUL_SET, "prod-qwen-72b-server").inputs
    spread = {
        r["topologyKey"]: r for r in server["spec"]["template"]["spec"]["topologySpreadConstraints"]
    }
    assert spread["kubernetes.io/hostname"]["minDomains"] == 2
    # Its reserved pool lives in one zone (the reservation's).
    assert spread["topology.kubernetes.io/zone"]["whenUnsatisfiable"] == "ScheduleAnyway"


@pytest.mark.parametrize(
    ("model", "production", "expected"),
    [
        (_model(minReplicas=1, maxReplicas=1), True, {"minAvailable": 1}),
        (_model(minReplicas=2), True, {"minAvailable": 1}),
        (_model(minReplicas=4), True, {"minAvailable": 3}),
        (_model(minReplicas=1, maxReplicas=2), False, {"maxUnavailable": 1}),
        (_model(minReplicas=1, maxReplicas=1), False, None),
        # A production model that scales to zero accepts being down: drains are not blocked.
        (_model(minReplicas=0, maxReplicas=2, allowScaleToZero=True), True, {"maxUnavailable": 1}),
    ],
)
def test_the_disruption_budget_never_drains_the_last_ready_replica_in_production(
    model: ModelSpec, production: bool, expected: dict | None
) -> None:
    pdb = exposure.render_pdb("vllm-m", "inference", model, production)
    if expected is None:
        assert pdb is None
        return
    budget = {k: v for k, v in pdb["spec"].items() if k in ("minAvailable", "maxUnavailable")}
    assert budget == expected
    if "minAvailable" in expected:
        assert pdb["spec"]["unhealthyPodEvictionPolicy"] == "IfHealthyBudget"


@pytest.mark.parametrize(
    ("min_replicas", "healthy", "allowed"),
    [(2, 1, False), (2, 2, True), (4, 3, False), (4, 4, True)],
)
def test_pulumi_up_waits_for_min_replicas_ready_not_for_what_keda_asked(
    min_replicas: int, healthy: int, allowed: bool
) -> None:
    """The PDB controller allows a disruption when healthy pods exceed minAvailable; the await
    on that condition is met exactly when minReplicas are Ready, whatever the replica count."""
    pdb = exposure.render_pdb("vllm-m", "inference", _model(minReplicas=min_replicas), True)
    assert pdb["metadata"]["annotations"] == {"pulumi.com/waitFor": "condition=DisruptionAllowed"}
    assert (healthy > pdb["spec"]["minAvailable"]) is allowed
    # The StatefulSet itself waits for its first Ready replica only.
    server = recorded("prod").one(STATEFUL_SET, "prod-qwen-72b-server").inputs
    assert server["metadata"]["annotations"] == {
        "pulumi.com/waitFor": "jsonpath={.status.readyReplicas}"
    }
    # A single-replica model has no budget condition to wait on.
    single = exposure.render_pdb("vllm-m", "inference", _model(minReplicas=1), True)
    assert "annotations" not in single["metadata"]


def test_a_production_model_that_cannot_keep_replicas_apart_is_refused_with_the_fix() -> None:
    config = platform_config("prod")
    config["nodePools"]["h100-reserved"] |= {"minNodes": 1, "maxNodes": 1}
    # Without its spot tier, on one node: two replicas fit, but not apart.
    config["models"]["qwen-72b"] |= {"nodePools": ["h100-reserved"], "maxReplicas": 2}
    assert refused(config) == [
        "models.qwen-72b.minReplicas: production keeps each of the 2 replicas on its own node so "
        "a node loss leaves the model up, but pool h100-reserved has at most 1 node(s): raise its "
        "maxNodes, lower minReplicas, or set allowColocation: true to accept the risk"
    ]
    config["models"]["qwen-72b"]["allowColocation"] = True
    assert parse(config).models["qwen-72b"].allow_colocation
    dev = platform_config("dev")
    dev["models"]["qwen-7b"]["allowColocation"] = True
    assert refused(dev) == [
        "models.qwen-7b.allowColocation: only production keeps replicas apart; remove it"
    ]


def test_the_plan_warns_about_a_production_model_allowed_to_colocate(tmp_path) -> None:
    import yaml

    from tools.plan import build_plan

    stack_file = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    stack_file["config"]["gpu-platform:platform"]["models"]["qwen-7b"]["allowColocation"] = True
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(yaml.safe_dump(stack_file))
    findings = [f for f in build_plan("prod", path).findings if f.rule == "colocation"]
    assert [f.severity for f in findings] == ["warning"]
    assert findings[0].message.startswith("models.qwen-7b: allowColocation")
    assert not [f for f in planned("prod").findings if f.rule == "colocation"]


@pytest.mark.parametrize(
    ("cloud", "capacity", "expected"),
    [("aws", "spot", (15, 110)), ("gcp", "spot", (3, 15)), ("aws", "on-demand", (15, 180))],
)
def test_a_spot_replica_drains_within_the_clouds_notice(
    cloud: str, capacity: str, expected: tuple[int, int]
) -> None:
    prestop, grace = placement.drain_seconds(cloud, [_pool(capacity=capacity)])
    assert (prestop, grace) == expected
    if capacity == "spot":
        assert prestop < grace <= placement.SPOT_NOTICE_SECONDS[cloud]
