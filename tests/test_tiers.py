"""Models that overflow across pool tiers: replicas required on the listed pools and preferring
them in order, cluster-autoscaler told the same order (capacity kinds first, every model's order
kept, contradictions refused), capacity counted across tiers, and the cost estimate's baseline
(minimum replicas on the first tier) beside its burst (maximum replicas in tier order)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from harness import platform_config, recorded, refused, run_main

from gpu_platform import labels
from gpu_platform.addons.cluster_autoscaler import render_priority_expander
from gpu_platform.gcp.compute_class import CLASS_LABEL
from gpu_platform.pools import NodePoolSpec
from gpu_platform.serving import placement
from gpu_platform.serving.rules import placed_nodes
from gpu_platform.serving.spec import ModelSpec
from gpu_platform.tiers import pool_priorities
from stacks.config import parse
from stacks.estimate import estimate
from tools.mockengine import Recording

STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"


def _pool(capacity: str, **settings: Any) -> NodePoolSpec:
    return NodePoolSpec.model_validate(
        {"gpu": "h100", "gpusPerNode": 8, "maxNodes": 2, "capacity": capacity, **settings}
    )


def _model(**settings: Any) -> ModelSpec:
    return ModelSpec.model_validate(
        {"source": "org/model", "maxReplicas": 4, "parametersB": 7, **settings}
    )


TIERS = {
    "h100-reserved": _pool("reserved", reservation="cr-0123456789abcdef0"),
    "h100-spot": _pool("spot"),
    "h100-ondemand": _pool("on-demand"),
}


def test_replicas_require_the_listed_pools_and_prefer_them_in_order() -> None:
    rendered = placement.render_placement("aws", TIERS)
    affinity = rendered["affinity"]["nodeAffinity"]
    (term,) = affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert term["matchExpressions"] == [
        {"key": labels.POOL_LABEL, "operator": "In", "values": list(TIERS)}
    ]
    preferred = affinity["preferredDuringSchedulingIgnoredDuringExecution"]
    weights = {p["preference"]["matchExpressions"][0]["values"][0]: p["weight"] for p in preferred}
    assert weights == {"h100-reserved": 100, "h100-spot": 67, "h100-ondemand": 33}
    assert "nodeSelector" not in rendered
    # The replica tolerates every tier's taints, the spot tier's included.
    for pool in TIERS.values():
        for taint in labels.pool_taints("aws", pool):
            assert any(labels.tolerates(t, taint) for t in rendered["tolerations"]), taint
    # One pool keeps its node selector.
    single = placement.render_placement("aws", {"h100-spot": TIERS["h100-spot"]})
    assert single["nodeSelector"] == {labels.POOL_LABEL: "h100-spot"} and "affinity" not in single


def test_prods_large_model_overflows_from_reserved_to_spot() -> None:
    prod = recorded("prod")
    pod = prod.one(STATEFUL_SET, "prod-qwen-72b-server").inputs["spec"]["template"]
    preferred = pod["spec"]["affinity"]["nodeAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ]
    assert [(p["preference"]["matchExpressions"][0]["values"], p["weight"]) for p in preferred] == [
        (["h100-reserved"], 100),
        (["h100-spot"], 50),
    ]
    # A replica may land on spot: its drain fits AWS's two-minute notice.
    assert pod["spec"]["terminationGracePeriodSeconds"] == 110
    # Which pool a replica runs in is the scheduler's choice: no pool label on the pod.
    assert labels.POOL_LABEL not in pod["metadata"]["labels"]
    expander = prod.one("kubernetes:core/v1:ConfigMap", "prod-autoscaler-priorities").inputs
    priorities = yaml.safe_load(expander["data"]["priorities"])
    rank = {
        name: priority
        for priority, patterns in priorities.items()
        for name in ("h100-reserved", "h100-spot")
        if any(f"^eks-{name}-" in p for p in patterns)
    }
    assert rank["h100-reserved"] > rank["h100-spot"]


def test_the_expander_follows_a_models_order_against_the_capacity_default() -> None:
    # Capacity kinds alone put reserved, then spot, then on-demand first.
    assert pool_priorities(TIERS, {}) == {"h100-reserved": 50, "h100-spot": 30, "h100-ondemand": 10}
    # A model that wants on-demand before spot (say, latency-critical) gets it, and an
    # unrelated pool keeps its default.
    models = {
        "m": _model(nodePools=["h100-reserved", "h100-ondemand", "h100-spot"]),
        "n": _model(nodePool="l4"),
    }
    pools = {**TIERS, "l4": _pool("spot", gpu="l4", gpusPerNode=1)}
    priorities = pool_priorities(pools, models)
    assert priorities["h100-reserved"] > priorities["h100-ondemand"] > priorities["h100-spot"] > 1
    assert priorities["l4"] == 30
    rendered = yaml.safe_load(render_priority_expander(pools, models)["data"]["priorities"])
    # The platform's CPU pool stays last, alone.
    assert min(rendered) == 1 and [p[:12] for p in rendered[1]] == ["^eks-system-"]
    assert [p[:14] for p in rendered[priorities["h100-spot"]]] == ["^eks-h100-spot"]


def test_models_that_order_pools_differently_arerefused() -> None:
    config = platform_config("prod")
    config["models"]["second"] = {
        **config["models"]["qwen-72b"],
        "nodePools": ["h100-spot", "h100-reserved"],
        "minReplicas": 1,
        "maxReplicas": 1,
    }
    assert refused(config) == [
        "models.qwen-72b.nodePools: models qwen-72b, second order pools h100-reserved, "
        "h100-spot differently; the cluster grows its pools in one order, so list them in the "
        "same order"
    ]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {"nodePools": ["h100-reserved", "l4-spot"]},
            "models.qwen-72b.nodePools[1]: pool l4-spot has whole l4 GPUs but h100-reserved has "
            "whole h100 GPUs: a model's pools must give each replica the same GPU",
        ),
        (
            {"nodePools": ["h100-reserved", "h100-reserved"]},
            "models.qwen-72b.nodePools[1]: h100-reserved is listed twice",
        ),
        (
            {"nodePool": "h100-reserved"},
            "models.qwen-72b.nodePool: set nodePool (one pool) or nodePools (pools in order of "
            "preference), not both",
        ),
        (
            {"nodePools": ["h100-reserved", "nowhere"]},
            "models.qwen-72b.nodePools[1]: no pool nowhere",
        ),
        (
            {"maxReplicas": 9},
            "models.qwen-72b.maxReplicas: 9 replicas of 4 GPU(s) do not fit pools h100-reserved "
            "+ h100-spot at its maximum (8 replicas)",
        ),
    ],
)
def test_bad_tiers_name_the_key(settings: dict, expected: str) -> None:
    config = platform_config("prod")
    config["models"]["qwen-72b"] |= settings
    problems = refused(config)
    assert any(p.startswith(expected) for p in problems), problems


def test_a_pool_shared_through_tiers_holds_every_model_at_its_maximum() -> None:
    config = platform_config("prod")
    config["models"]["burst"] = {
        **config["models"]["qwen-72b"],
        "nodePools": ["h100-spot"],
        "minReplicas": 1,
        "maxReplicas": 4,
    }
    assert refused(config) == [
        "nodePools.h100-reserved.maxNodes: models burst, qwen-72b need up to 40 GPUs at their "
        "maximum but pools h100-reserved, h100-spot hold 32; raise maxNodes or lower their "
        "maxReplicas"
    ]


def test_cost_shows_the_baseline_on_the_first_tier_and_the_burst_in_tier_order() -> None:
    config = parse(platform_config("prod"))
    items = {i.name: i for i in estimate(config).items}
    reserved, spot = items["h100-reserved"], items["h100-spot"]
    # Baseline: qwen-72b's two replicas on the two reserved nodes; nothing on spot.
    assert (reserved.nodes_min, spot.nodes_min) == (2, 0)
    # Burst: six replicas of 4 GPUs - four fill the reserved nodes, two go to one spot node.
    assert (reserved.burst_nodes, spot.burst_nodes) == (2, 1)
    assert spot.monthly_min == 0 < spot.monthly_burst < spot.monthly_max
    total = estimate(config)
    assert total.monthly_min < total.monthly_burst < total.monthly_max


def test_placement_keeps_a_highly_available_baseline_apart() -> None:
    pools = {"a": _pool("on-demand", maxNodes=3), "b": _pool("spot")}
    model = _model(nodePools=["a", "b"], minReplicas=2, maxReplicas=4, gpusPerReplica=4)
    placed = placed_nodes("aws", pools, {"m": model}, production=True, at_max=False)
    assert placed == {"a": 2, "b": 0}  # two 4-GPU replicas would fit one node, but not apart
    colocated = model.model_copy(update={"allow_colocation": True})
    assert placed_nodes("aws", pools, {"m": colocated}, production=True, at_max=False) == {
        "a": 1,
        "b": 0,
    }
    # At its maximum, later replicas fill the nodes the baseline opened.
    assert placed_nodes("aws", pools, {"m": model}, production=True, at_max=True) == {
        "a": 2,
        "b": 0,
    }


def _gcp_tiers_config() -> dict:
    """gcp-dev with an on-demand L4 pool behind its spot one, for both models (on GKE a pool
    follows one tier order)."""
    config = platform_config("gcp-dev")
    config["nodePools"]["l4-ondemand"] = {
        **config["nodePools"]["l4-spot"],
        "capacity": "on-demand",
        "maxNodes": 2,
    }
    for model in config["models"].values():
        model.pop("nodePool")
        model["nodePools"] = ["l4-spot", "l4-ondemand"]
    return config


@pytest.fixture(scope="module")
def gcp_tiers() -> Recording:
    return run_main(_gcp_tiers_config(), stack="gcp-dev")


def test_gke_grows_a_models_tiers_in_order_through_a_compute_class(gcp_tiers: Recording) -> None:
    pools = {r.name: r.inputs for r in gcp_tiers.of_type("gcp:container/nodePool:NodePool")}
    spot, ondemand = pools["gcp-dev-l4-spot-np"], pools["gcp-dev-l4-ondemand-np"]
    (klass,) = gcp_tiers.of_type("kubernetes:cloud.google.com/v1:ComputeClass")
    assert klass.inputs["metadata"] == {"name": "gp-l4-spot"}
    assert klass.inputs["spec"] == {
        # One pool per priority: GKE tries them in this order.
        "priorities": [{"nodepools": [spot["name"]]}, {"nodepools": [ondemand["name"]]}],
        "nodePoolAutoCreation": {"enabled": False},
        "whenUnsatisfiable": "DoNotScaleUp",
    }
    # The class's pools carry its label and taint (GKE's rule for pools it did not create).
    for pool in (spot, ondemand):
        assert pool["nodeConfig"]["labels"][CLASS_LABEL] == "gp-l4-spot"
        assert {"key": CLASS_LABEL, "value": "gp-l4-spot", "effect": "NO_SCHEDULE"} in pool[
            "nodeConfig"
        ]["taints"]
    # The model selects the class and tolerates its taint, and prefers spot to on-demand.
    server = gcp_tiers.one(STATEFUL_SET, "gcp-dev-qwen-7b-server").inputs["spec"]["template"]
    pod = server["spec"]
    assert pod["nodeSelector"] == {CLASS_LABEL: "gp-l4-spot"}
    assert {
        "key": CLASS_LABEL,
        "operator": "Equal",
        "value": "gp-l4-spot",
        "effect": "NoSchedule",
    } in pod["tolerations"]
    preferred = pod["affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert [p["weight"] for p in preferred] == [100, 50]
    # Model servers wait for the class.
    model = gcp_tiers.one(STATEFUL_SET, "gcp-dev-qwen-7b-server")
    assert klass.key in model.options["dependsOn"]


def test_gke_refuses_a_pool_in_two_tier_orders() -> None:
    config = _gcp_tiers_config()
    config["models"]["bge-small"]["nodePools"] = ["l4-spot"]
    assert refused(config) == [
        "models.bge-small.nodePools: models bge-small, qwen-7b use pool l4-spot with different "
        "tiers; on GKE a pool follows one tier order (one ComputeClass), so give them the same "
        "nodePools"
    ]
