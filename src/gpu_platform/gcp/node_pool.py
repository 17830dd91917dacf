"""GkeGpuNodePool: one GPU node pool as a GKE node pool with attached accelerators.

GKE installs the NVIDIA driver that matches the node version and runs its own device plugin, so
MIG partitions (`gpu_partition_size`) and time-sharing (`gpu_sharing_config`) are GKE settings
here, and GKE's cluster autoscaler knows how many (shared or partitioned) GPUs an empty pool's
nodes will offer, which is what makes scale-from-zero work for them. The GPU Operator is
therefore not installed on GKE; only the DCGM exporter is (gpu_platform/addons/gpu_operator.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from gpu_platform import catalog, labels, versions
from gpu_platform.gcp.cluster import render_node_basics, render_pool_name
from gpu_platform.gcp.compute_class import CLASS_LABEL, class_taint
from gpu_platform.pools import NodePoolSpec

TOKEN = "gpuplatform:compute:GkeGpuNodePool"
RESERVATION_KEY = "compute.googleapis.com/reservation-name"


def render_guest_accelerator(pool: NodePoolSpec, machine_type: str) -> dict:
    entry = catalog.machine_type("gcp", machine_type)
    if entry is None or entry.accelerator_type is None:  # the config model rules this out
        raise ValueError(f"{machine_type} is not a GCP GPU machine type in the catalog")
    accelerator: dict = {
        "type": entry.accelerator_type,
        "count": pool.gpus_per_node,
        "gpu_driver_installation_config": {"gpu_driver_version": versions.GKE_GPU_DRIVER_VERSION},
    }
    if pool.sharing.mode == "mig":
        accelerator["gpu_partition_size"] = pool.sharing.mig_profile
    if pool.sharing.mode == "time-slicing":
        accelerator["gpu_sharing_config"] = {
            "gpu_sharing_strategy": "TIME_SHARING",
            "max_shared_clients_per_gpu": pool.sharing.replicas,
        }
    return accelerator


def render_reservation_affinity(pool: NodePoolSpec) -> dict:
    """Reserved pools consume exactly their reservation; other pools consume none, so they never
    take capacity that a reservation holds for a reserved pool."""
    if pool.capacity == "reserved":
        return {
            "consume_reservation_type": "SPECIFIC_RESERVATION",
            "key": RESERVATION_KEY,
            "values": [pool.reservation],
        }
    return {"consume_reservation_type": "NO_RESERVATION"}


def render_autoscaling(pool: NodePoolSpec) -> dict:
    """Totals across zones (not per zone), as in the stack config. Spot pools take capacity
    wherever it is (ANY); others stay balanced across zones."""
    return {
        "total_min_node_count": pool.min_nodes,
        "total_max_node_count": pool.max_nodes,
        "location_policy": "ANY" if pool.capacity == "spot" else "BALANCED",
    }


def render_upgrade_settings(pool: NodePoolSpec) -> dict:
    """A surge node needs spare GPU capacity; reserved pools have none, so they replace in place."""
    if pool.capacity == "reserved":
        return {"max_surge": 0, "max_unavailable": 1}
    return {"max_surge": 1, "max_unavailable": 0}


def render_taints(pool: NodePoolSpec, compute_class: str | None = None) -> list[dict[str, str]]:
    """Taints the platform sets (GKE adds the GPU taint itself), and the ComputeClass's when
    the pool is a tier of one."""
    taints = [t for t in labels.pool_taints("gcp", pool) if not t.set_by_cloud]
    if compute_class is not None:
        taints.append(class_taint(compute_class))
    return [{"key": t.key, "value": t.value, "effect": t.cloud_effect} for t in taints]


def render_labels(pool_name: str, pool: NodePoolSpec, compute_class: str | None) -> dict:
    node_labels = labels.pool_labels("gcp", pool_name, pool)
    if compute_class is not None:
        node_labels[CLASS_LABEL] = compute_class
    return node_labels


@dataclass(frozen=True)
class GkeGpuNodePoolArgs:
    pool_name: str
    pool: NodePoolSpec
    machine_type: str
    zones: tuple[str, ...]
    project: str
    region: str
    cluster_id: pulumi.Input[str]
    service_account: pulumi.Input[str]
    resource_labels: dict[str, str]
    provider: pulumi.ProviderResource
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    compute_class: str | None = None
    """The ComputeClass whose tier the pool is (gpu_platform/gcp/compute_class.py)."""


class GkeGpuNodePool(pulumi.ComponentResource):
    """A GKE node pool of GPU nodes."""

    node_pool_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: GkeGpuNodePoolArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(TOKEN, name, None, opts)
        pool = args.pool
        node_config = {
            **render_node_basics(pool.disk_gib),
            "machine_type": args.machine_type,
            "guest_accelerators": [render_guest_accelerator(pool, args.machine_type)],
            "spot": pool.capacity == "spot",
            "reservation_affinity": render_reservation_affinity(pool),
            "labels": render_labels(args.pool_name, pool, args.compute_class),
            "taints": render_taints(pool, args.compute_class),
            "service_account": args.service_account,
            "resource_labels": args.resource_labels,
            # Image streaming (gpu_platform/image_pull.py).
            "gcfs_config": {"enabled": True},
        }
        node_pool = gcp.container.NodePool(
            f"{name}-np",
            name=render_pool_name(args.pool_name, node_config),
            cluster=args.cluster_id,
            location=args.region,
            project=args.project,
            node_locations=list(args.zones),
            # initial_node_count is per zone; start at the pool's minimum.
            initial_node_count=math.ceil(pool.min_nodes / max(1, len(args.zones))),
            autoscaling=render_autoscaling(pool),
            node_config=node_config,
            management={"auto_repair": True, "auto_upgrade": True},
            upgrade_settings=render_upgrade_settings(pool),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                depends_on=args.depends_on,
                # The autoscaler owns the size after creation.
                ignore_changes=["initialNodeCount", "nodeCount"],
            ),
        )
        self.node_pool_name = node_pool.name
        self.register_outputs({"nodePoolName": self.node_pool_name})
