"""GkeGpuNodePool: one GPU node pool as a GKE node pool with attached accelerators.

GKE installs the NVIDIA driver that matches the node version and runs its own device plugin, so
MIG partitions (`gpu_partition_size`) and time-sharing (`gpu_sharing_config`) are GKE settings
here, and GKE's cluster autoscaler knows how many (shared or partitioned) GPUs an empty pool's
nodes will offer, which is what makes scale-from-zero work for them. The GPU Operator is
therefore not installed on GKE; only the DCGM exporter is (gpu_platform/addons/gpu_operator.py).

A public component: typed args (GkeGpuNodePoolArgs, the pool as gpu_platform.pool_args), its
Google provider through `opts`, checked at construction by the stack config's own pool rules. No
`from __future__ import annotations`: Pulumi's component analyzer reads the annotations.
"""

import math
from typing import NotRequired, TypedDict

import pulumi
import pulumi_gcp as gcp

from gpu_platform import catalog, labels, versions
from gpu_platform.args import (
    check,
    component_type,
    depends_on,
    pool_name_problems,
    pool_spec,
    required,
    supported_version,
)
from gpu_platform.gcp.cluster import render_node_basics, render_pool_name
from gpu_platform.gcp.compute_class import CLASS_LABEL, class_taint
from gpu_platform.pool_args import GpuPoolArgs
from gpu_platform.pools import NodePoolSpec, resolved_machine_types

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


class GkeGpuNodePoolArgs(TypedDict):
    """One GPU node pool of a GKE cluster."""

    pool_name: str
    """The pool's name: its nodes' `gpuplatform.io/pool` label and the GKE node pool's name
    prefix (lowercase letters, digits and '-', at most 31 characters)."""
    pool: GpuPoolArgs
    """The pool: its GPU, how many per node, how it is bought, how far it scales."""
    cluster_id: pulumi.Input[str]
    """The GKE cluster the node pool belongs to."""
    kubernetes_version: str
    """The cluster's Kubernetes minor version, e.g. "1.36" (the pool's rules depend on it)."""
    project: str
    """The cluster's project."""
    region: str
    """The cluster's region."""
    zones: list[str]
    """The zones the pool's nodes run in: the pool's own, or the cluster's."""
    service_account: pulumi.Input[str]
    """The Google service account the nodes run as."""
    resource_labels: NotRequired[dict[str, str]]
    """Labels for the pool's instances and disks."""
    compute_class: NotRequired[str]
    """The ComputeClass whose tier the pool is (gpu_platform/gcp/compute_class.py)."""


REQUIRED = (
    "pool_name",
    "pool",
    "cluster_id",
    "kubernetes_version",
    "project",
    "region",
    "zones",
    "service_account",
)


def problems(args: GkeGpuNodePoolArgs) -> list[tuple[str, str]]:
    found = supported_version(args.get("kubernetes_version"))
    found += pool_name_problems(args.get("pool_name"))
    if not args.get("zones"):
        found.append(("zones", "list at least one zone of the cluster's region"))
    return found


class GkeGpuNodePool(pulumi.ComponentResource):
    """A GKE node pool of GPU nodes. Give it the Google provider in `opts`
    (`providers=[gcp_provider]`)."""

    node_pool_name: pulumi.Output[str]
    """The node pool's name: the pool's name and a digest of the settings GKE cannot change in
    place, so such a change creates the new pool before deleting the old one."""

    def __init__(
        self, name: str, args: GkeGpuNodePoolArgs, opts: pulumi.ResourceOptions | None = None
    ):
        component = "GkeGpuNodePoolArgs"
        required(component, args, REQUIRED)
        check(component, problems(args))
        version, cluster_zones = args["kubernetes_version"], tuple(args["zones"])
        pool = pool_spec(component, args["pool"], "gcp", version, cluster_zones=cluster_zones)
        super().__init__(component_type(TOKEN, "GkeGpuNodePool"), name, None, opts)
        pool_name, zones = args["pool_name"], list(args["zones"])
        compute_class = args.get("compute_class")
        machine_type = resolved_machine_types("gcp", pool)[0]
        node_config = {
            **render_node_basics(pool.disk_gib),
            "machine_type": machine_type,
            "guest_accelerators": [render_guest_accelerator(pool, machine_type)],
            "spot": pool.capacity == "spot",
            "reservation_affinity": render_reservation_affinity(pool),
            "labels": render_labels(pool_name, pool, compute_class),
            "taints": render_taints(pool, compute_class),
            "service_account": args["service_account"],
            "resource_labels": dict(args.get("resource_labels") or {}),
            # Image streaming (gpu_platform/image_pull.py).
            "gcfs_config": {"enabled": True},
        }
        node_pool = gcp.container.NodePool(
            f"{name}-np",
            name=render_pool_name(pool_name, node_config),
            cluster=args["cluster_id"],
            location=args["region"],
            project=args["project"],
            node_locations=zones,
            # initial_node_count is per zone; start at the pool's minimum.
            initial_node_count=math.ceil(pool.min_nodes / max(1, len(zones))),
            autoscaling=render_autoscaling(pool),
            node_config=node_config,
            management={"auto_repair": True, "auto_upgrade": True},
            upgrade_settings=render_upgrade_settings(pool),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=depends_on(opts),
                # The autoscaler owns the size after creation.
                ignore_changes=["initialNodeCount", "nodeCount"],
            ),
        )
        self.node_pool_name = node_pool.name
        self.register_outputs({"nodePoolName": self.node_pool_name})
