"""What the Platform derives from its spec for its components (pure): where a managed database
goes, which namespaces call model servers, and each model's zones and cold start."""

from __future__ import annotations

from gpu_platform.aws.cluster import EksCluster
from gpu_platform.data.cnpg import NAMESPACE as DATA_NAMESPACE
from gpu_platform.data.spec import vectorizer
from gpu_platform.gcp.cluster import GkeCluster
from gpu_platform.platform.spec import PlatformSpec
from gpu_platform.serving import coldstart
from gpu_platform.serving.coldstart import ModelStart
from gpu_platform.serving.spec import ModelSpec
from gpu_platform.serving.workload import cache_mode


def network(config: PlatformSpec, cluster: EksCluster | GkeCluster) -> dict:
    """Where a managed database goes: the EKS cluster's VPC, private subnets and security
    group, or the GKE cluster's network (peered for private services access only when the
    stack created it)."""
    if isinstance(cluster, EksCluster):
        return {
            "vpc_id": cluster.vpc_id,
            "subnet_ids": cluster.subnet_ids(()),
            "cluster_security_group_id": cluster.cluster_security_group_id,
        }
    return {"network_id": cluster.network_id, "create_peering": config.cluster.create}


def embedding_models(config: PlatformSpec) -> list[str]:
    return [name for name, model in config.models.items() if model.task == "embed"]


def inference_clients(config: PlatformSpec) -> tuple[str, ...]:
    """Platform namespaces whose pods call model servers: `data`, when Weaviate embeds text
    with a served model."""
    if vectorizer(config.vector_store, embedding_models(config)):
        return (DATA_NAMESPACE,)
    return ()


def model_zones(config: PlatformSpec, model: ModelSpec) -> tuple[str, ...]:
    """The zones a model's replicas may run in: those of all its pools (a pool without its own
    zones spans the cluster's)."""
    zones: dict[str, None] = {}
    for tier in model.tiers:
        zones.update(dict.fromkeys(config.node_pools[tier].zones or config.cloud.zones or ()))
    return tuple(zones)


def cold_starts(config: PlatformSpec) -> tuple[ModelStart, ...]:
    """Each model's start on a new node of its first pool and on a node that already ran it
    (its weights from a kept per-replica cache where it has one)."""
    result = []
    for name, model in config.models.items():
        pool = config.node_pools[model.tiers[0]]
        mirrored = model.mirrored()
        kept = cache_mode(model, model_zones(config, model), mirrored) == "per-replica"
        result.append(
            ModelStart(
                name,
                coldstart.cold_start(
                    model, pool, config.cloud.provider, node_running=False, mirrored=mirrored
                ),
                coldstart.warm_start(model, cache_kept=kept, mirrored=mirrored),
                60 * model.cold_start_budget_minutes,
            )
        )
    return tuple(result)


def startup_estimates(config: PlatformSpec) -> dict[str, int]:
    """Each model's estimated start on a node, as the dashboards compare with the measured."""
    return coldstart.startup_estimates(config.cloud.provider, config.models, config.node_pools)
