"""Typed args of a GPU node pool: what the public node pool components take, in every language.
Generated from gpu_platform.pools.NodePoolSpec by `make docs` (tools/argsgen.py); change the
spec, not this file."""

# No `from __future__ import annotations`: Pulumi's component analyzer reads these
# annotations as types.
from typing import NotRequired, TypedDict


class GpuSharingArgs(TypedDict):
    """How the GPUs of a pool's nodes are shared between pods."""

    mode: NotRequired[str]
    """none: one pod per GPU. mig: partition each GPU with the MIG profile `migProfile` (A100/H100 only). time-slicing: `replicas` pods take turns on each GPU (no memory isolation). One of: none, mig, time-slicing. Default: none."""
    mig_profile: NotRequired[str]
    """MIG profile applied to every GPU of the pool, e.g. `1g.10gb`; required with mode mig and must be a profile of the pool's GPU."""
    replicas: NotRequired[int]
    """Time-slicing only: how many pods share each GPU (2 to 16)."""


class GpuPoolArgs(TypedDict):
    """One GPU node pool: which GPU, how many per node, how it is bought and how far it scales."""

    gpu: str
    """GPU model: h100, a100-40gb, a100-80gb or l4. One of: h100, a100-40gb, a100-80gb, l4."""
    gpus_per_node: int
    """GPUs on each node; must be a count the catalog offers for this GPU on this cloud (e.g. l4 on aws: 1, 4 or 8)."""
    instance_types: NotRequired[list[str]]
    """Instance types (aws, at least one) or the machine type (gcp, exactly one); each must carry `gpu` x `gpusPerNode`. Default: on aws spot every matching catalog type (to diversify), otherwise the cheapest matching type."""
    capacity: str
    """How nodes are bought: on-demand, spot, reserved (an On-Demand Capacity Reservation or GCP reservation) or capacity-block (AWS EC2 Capacity Blocks for ML only). One of: on-demand, spot, reserved, capacity-block."""
    reservation: NotRequired[str]
    """Required for reserved and capacity-block, forbidden otherwise. aws: a capacity reservation id (`cr-...`) or a reservation resource-group ARN; gcp: a reservation name or `projects/<project>/reservations/<name>`."""
    min_nodes: NotRequired[int]
    """Fewest nodes; 0 lets the pool scale to zero. Default: 0."""
    max_nodes: int
    """Most nodes; at least 1 and at least minNodes."""
    zones: NotRequired[list[str]]
    """Zones this pool's nodes may run in; a subset of cloud.zones (default: all of them). A pool that consumes a zonal reservation lists exactly its zone."""
    disk_gib: NotRequired[int]
    """Root volume size in GiB; inference images are several GB each. Default: 200."""
    ami_release_version: NotRequired[str]
    """aws only: the EKS AL2023 NVIDIA AMI release, e.g. 1.36.2-20260714. Default: the release pinned for the cluster's Kubernetes version."""
    workload: NotRequired[str]
    """What the pool is for: inference (model serving) or batch (jobs). One of: inference, batch. Default: inference."""
    sharing: NotRequired[GpuSharingArgs]
    """GPU sharing (MIG or time-slicing); default none."""
