"""Where a model's replicas run and how they leave (pure data): the pools they may use and
prefer (tiers), how they spread over nodes and zones, and how long they take to drain."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gpu_platform import labels
from gpu_platform.catalog import Cloud
from gpu_platform.gcp.compute_class import CLASS_LABEL, class_name, class_taint
from gpu_platform.pools import NodePoolSpec
from gpu_platform.serving.spec import ModelSpec

# Kubernetes' SIGTERM reaches vLLM after preStop; vLLM then stops taking requests. The pod's
# endpoints are removed first; the grace period leaves in-flight generations time to finish.
PRESTOP_SECONDS = 15
GRACE_SECONDS = 180
# How long the cloud warns before it takes a spot node back: AWS's two-minute interruption
# notice, GCP's 30 seconds of preemption notice. A replica on a spot pool must drain within
# what its pod gets of it: on AWS the notice less 10 s for the node to act on it; on GKE the
# kubelet's graceful shutdown gives ordinary pods 15 s of the 30 (system pods the rest), and a
# longer grace period is cut to that.
SPOT_NOTICE_SECONDS = {"aws": 120, "gcp": 30}
SPOT_POD_SECONDS = {"aws": 110, "gcp": 15}


def drain_seconds(cloud: Cloud, pools: Sequence[NodePoolSpec]) -> tuple[int, int]:
    """(preStop pause, termination grace period): when any of the model's pools is spot, both
    within the pod's share of the notice (a replica may land on any of them)."""
    if not any(pool.capacity == "spot" for pool in pools):
        return PRESTOP_SECONDS, GRACE_SECONDS
    grace = SPOT_POD_SECONDS[cloud]
    return min(PRESTOP_SECONDS, grace // 4), grace


def highly_available(model: ModelSpec, production: bool) -> bool:
    """Production models with two or more replicas keep them on separate nodes (and zones)."""
    return production and model.min_replicas >= 2 and not model.allow_colocation


def render_spread(
    selector: dict[str, str],
    model: ModelSpec,
    pools: Sequence[NodePoolSpec],
    zones: tuple[str, ...],
    production: bool,
    cloud: Cloud = "aws",
) -> list[dict]:
    """Replicas spread over nodes and zones. Highly available models must: `minDomains` makes
    the scheduler (and cluster-autoscaler) count the domains that do not exist yet, so a second
    replica waits for a second node instead of joining the first.

    Zones are kept apart strictly only on GKE, whose autoscaler sees each zone of a node pool
    as its own group. An EKS node group spans its zones in one Auto Scaling group, which
    cluster-autoscaler simulates as one node in one zone: a replica that must go to another
    zone would never get a node (kubernetes/autoscaler#5489). There replicas prefer other
    zones, and the group's zone balancing spreads the nodes."""
    strict = highly_available(model, production)
    spread = []
    for key, domains in (
        ("topology.kubernetes.io/zone", len(zones) if cloud == "gcp" else 1),
        ("kubernetes.io/hostname", sum(pool.max_nodes for pool in pools)),
    ):
        rule: dict = {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector},
        }
        if strict and domains >= 2:
            rule["whenUnsatisfiable"] = "DoNotSchedule"
            rule["minDomains"] = min(model.min_replicas, domains)
        spread.append(rule)
    return spread


def render_placement(cloud: Cloud, pools: Mapping[str, NodePoolSpec]) -> dict[str, Any]:
    """Which nodes a replica may run on, and which it prefers.

    One pool: a node selector. Tiers: required node affinity to the listed pools, and preferred
    affinity weighted by their order, so the scheduler fills the first tier's free nodes
    before the next's; which pool grows when none has room is cluster-autoscaler's choice
    (its priority expander on EKS, the model's ComputeClass on GKE), told the same order.
    Tolerations cover the taints of every tier (spot nodes carry the spot taint). On GKE a
    tiered model also selects its ComputeClass, whose pools carry its label and taint."""
    names = list(pools)
    taints = {t: None for pool in pools.values() for t in labels.pool_taints(cloud, pool)}
    selector: dict[str, str] = {}
    if cloud == "gcp" and len(names) > 1:
        selector[CLASS_LABEL] = class_name(names)
        taints[class_taint(class_name(names))] = None
    placement: dict[str, Any] = {"tolerations": labels.tolerations(tuple(taints))}
    if len(names) == 1:
        return {"nodeSelector": labels.node_selector(names[0]), **placement}
    if selector:
        placement["nodeSelector"] = selector
    term = {"key": labels.POOL_LABEL, "operator": "In"}
    placement["affinity"] = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{**term, "values": names}]}]
            },
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": round(100 * (len(names) - index) / len(names)),
                    "preference": {"matchExpressions": [{**term, "values": [name]}]},
                }
                for index, name in enumerate(names)
            ],
        }
    }
    return placement


def pool_label(pools: Mapping[str, NodePoolSpec]) -> dict[str, str]:
    """The pod label naming its pool, where the model has only one (a tiered replica's pool is
    the scheduler's choice)."""
    return {labels.POOL_LABEL: next(iter(pools))} if len(pools) == 1 else {}
