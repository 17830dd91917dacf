"""What the Platform derives from the stack config for its components (pure, except reading
the config's secrets): where a managed database goes, the prices the cost rules and OpenCost
use, the alert receivers' credentials, and which namespaces call model servers."""

from __future__ import annotations

import pulumi

from gpu_platform import labels
from gpu_platform.aws.cluster import EksCluster
from gpu_platform.data.cnpg import NAMESPACE as DATA_NAMESPACE
from gpu_platform.data.spec import vectorizer
from gpu_platform.gcp.cluster import GkeCluster
from gpu_platform.observability import cost_rules, opencost
from gpu_platform.observability.spec import receiver_secrets
from gpu_platform.serving import coldstart
from gpu_platform.serving.coldstart import ModelStart
from gpu_platform.serving.spec import ModelSpec
from gpu_platform.serving.workload import cache_mode
from stacks import config as stack_config
from stacks.config import StackConfig


def network(config: StackConfig, cluster: EksCluster | GkeCluster) -> dict:
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


def opencost_prices(config: StackConfig) -> dict:
    """OpenCost's price list from the system nodes' hourly price (override or catalog)."""
    return opencost.system_price_list(
        config.cloud.provider, config.cluster.system_nodes.instance_type, config.pricing
    )


def gpu_unit_prices(config: StackConfig) -> dict[tuple[str, str], float]:
    """Each pool's price per GPU unit, at the stack's own cost estimate's node prices."""
    return cost_rules.pool_unit_prices(
        config.cloud.provider,
        config.node_pools,
        labels.mig_strategy(config.node_pools),
        config.pricing,
    )


def receiver_credentials(config: StackConfig) -> dict[str, pulumi.Output[str]]:
    """The configured alert receivers' credentials (config secrets; `load` checked they are
    set)."""
    found = {}
    for key, used in receiver_secrets(config.observability.alerts).items():
        value = stack_config.receiver_secret(key) if used else None
        if value is not None:
            found[key] = value
    return found


def embedding_models(config: StackConfig) -> list[str]:
    return [name for name, model in config.models.items() if model.task == "embed"]


def inference_clients(config: StackConfig) -> tuple[str, ...]:
    """Platform namespaces whose pods call model servers: `data`, when Weaviate embeds text
    with a served model."""
    if vectorizer(config.vector_store, embedding_models(config)):
        return (DATA_NAMESPACE,)
    return ()


def model_zones(config: StackConfig, model: ModelSpec) -> tuple[str, ...]:
    """The zones a model's replicas may run in: those of all its pools (a pool without its own
    zones spans the cluster's)."""
    zones: dict[str, None] = {}
    for tier in model.tiers:
        zones.update(dict.fromkeys(config.node_pools[tier].zones or config.cloud.zones or ()))
    return tuple(zones)


def cold_starts(config: StackConfig) -> tuple[ModelStart, ...]:
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


def startup_estimates(config: StackConfig) -> dict[str, int]:
    """Each model's estimated start on a node, as the dashboards compare with the measured."""
    return coldstart.startup_estimates(config.cloud.provider, config.models, config.node_pools)
