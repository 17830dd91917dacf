"""The monthly cost estimate of one stack: its StackConfig mapped onto `gpu_platform.cost`."""

from __future__ import annotations

import datetime

from gpu_platform import catalog, cost, k8s_versions
from gpu_platform.aws.network import render_nat_zones
from gpu_platform.data import managed
from gpu_platform.pools import NodePoolSpec
from gpu_platform.serving import coldstart
from gpu_platform.serving.rules import placed_nodes
from stacks.config import StackConfig


def effective_pools(config: StackConfig) -> dict[str, NodePoolSpec]:
    """Pools with their minimum raised to the nodes the models' minReplicas keep running
    (gpu_platform.serving.rules.placed_nodes)."""
    pinned = _placed(config, at_max=False)
    return {
        name: pool.model_copy(update={"min_nodes": max(pool.min_nodes, pinned[name])})
        for name, pool in config.node_pools.items()
    }


def wake_ups(config: StackConfig) -> tuple[tuple[str, coldstart.ColdStart], ...]:
    """The models that scale to zero and how long each takes to wake up."""
    return tuple(
        (
            name,
            coldstart.on_pool(
                m, config.node_pools[m.tiers[0]], config.cloud.provider, mirrored=m.mirrored()
            ),
        )
        for name, m in config.models.items()
        if m.scales_to_zero
    )


def _placed(config: StackConfig, *, at_max: bool) -> dict[str, int]:
    return placed_nodes(
        config.cloud.provider,
        config.node_pools,
        config.models,
        production=config.production,
        at_max=at_max,
    )


def estimate(config: StackConfig, today: datetime.date | None = None) -> cost.CostEstimate:
    """What the stack costs per month at minimum and maximum scale, as of `today`."""
    today = today or datetime.date.today()
    cloud, cluster = config.cloud, config.cluster
    fixed = None
    if cluster.create:
        nat = len(render_nat_zones(cloud.zones or (), config.production))
        fixed = cost.ClusterCosts(
            extended_support=cloud.provider == "aws"
            and k8s_versions.support_status("aws", cluster.kubernetes_version, today).state
            == "ended",
            system_machine_type=cluster.system_nodes.instance_type
            or catalog.SYSTEM_MACHINE_TYPE[cloud.provider],
            # A production database keeps each instance on its own system node.
            system_min=max(cluster.system_nodes.min_nodes, _node_bound_instances(config)),
            system_max=cluster.system_nodes.max_nodes,
            nat_gateways=nat if cloud.provider == "aws" else 0,
        )
    return cost.estimate(
        cloud.provider,
        effective_pools(config),
        cluster=fixed,
        spot_discount=config.pricing.spot_discount,
        overrides=config.pricing.hourly_usd,
        databases=_databases(config),
        burst=_placed(config, at_max=True),
        weights_gib=sum(coldstart.weight_bytes(m) for m in config.models.values() if m.mirrored())
        / 2**30,
    )


def _node_bound_instances(config: StackConfig) -> int:
    store = config.vector_store
    in_cluster = store.enabled and store.mode == "in-cluster"
    return store.replicas if in_cluster and config.production else 0


def _databases(config: StackConfig) -> tuple[cost.DatabaseStorage | cost.ManagedDatabase, ...]:
    store = config.vector_store
    if not store.enabled:
        return ()
    if store.mode == "managed":
        cloud = config.cloud.provider
        return (
            cost.ManagedDatabase(
                "vector-store",
                managed.instance_class(store, cloud, config.production),
                standby=config.production,
                gib=store.storage_gib,
            ),
        )
    return (
        cost.DatabaseStorage(
            "vector-store", store.replicas, store.storage_gib, store.backups.enabled
        ),
    )
