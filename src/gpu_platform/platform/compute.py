"""The Platform's compute: the cloud provider, the EKS or GKE cluster, GKE's image cache and the
GPU node pools, named and labelled as the spec says."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp

from gpu_platform import labels
from gpu_platform.args import pool_args
from gpu_platform.aws.cluster import EksCluster, EksClusterArgs
from gpu_platform.aws.node_pool import EksGpuNodePool, EksGpuNodePoolArgs
from gpu_platform.gcp import compute_class
from gpu_platform.gcp.cluster import GkeCluster, GkeClusterArgs
from gpu_platform.gcp.image_cache import GkeImageCache, GkeImageCacheArgs
from gpu_platform.gcp.node_pool import GkeGpuNodePool, GkeGpuNodePoolArgs
from gpu_platform.platform.spec import PlatformSpec
from gpu_platform.pools import NodePoolSpec

if TYPE_CHECKING:
    from gpu_platform.platform.component import Platform

SESSION_NAME = "gpu-platform"
"""The assumed role's session name in CloudTrail."""


def cloud_provider(
    config: PlatformSpec, name: str, tags: dict[str, str], opts: pulumi.ResourceOptions
) -> pulumi.ProviderResource:
    """The AWS provider (region, profile, assumed role) or Google provider (project + region;
    application-default credentials) for this stack. The cluster's kubeconfig uses the same
    identity (gpu_platform/kubeconfig.py)."""
    cloud = config.cloud
    if cloud.provider == "aws":
        return aws.Provider(
            name,
            region=cloud.region,
            profile=cloud.profile,
            assume_roles=(
                [
                    aws.ProviderAssumeRoleArgs(
                        role_arn=cloud.assume_role_arn, session_name=SESSION_NAME
                    )
                ]
                if cloud.assume_role_arn
                else None
            ),
            default_tags=aws.ProviderDefaultTagsArgs(tags=tags),
            opts=opts,
        )
    return gcp.Provider(
        name,
        project=config.cloud.project,
        region=config.cloud.region,
        default_labels=tags,
        opts=opts,
    )


def cluster_and_pools(
    platform: Platform, name: str, config: PlatformSpec, tags: dict[str, str]
) -> EksCluster | GkeCluster:
    """The cluster and its GPU node pools (`platform.node_pools`); on GKE also the image cache
    the nodes stream from (`platform.image_cache`)."""
    cloud = config.cloud
    cluster_args = (config.production, cloud, config.cluster, platform.cloud_provider, tags)
    platform.image_cache = None
    if cloud.provider == "aws":
        cluster = EksCluster(
            f"{name}-cluster",
            EksClusterArgs(*cluster_args),
            opts=pulumi.ResourceOptions(parent=platform),
        )
        strategy = labels.mig_strategy(config.node_pools)
        platform.node_pools = {
            pool_name: EksGpuNodePool(
                f"{name}-{pool_name}",
                EksGpuNodePoolArgs(
                    pool_name=pool_name,
                    pool=pool_args(pool),  # type: ignore[typeddict-item]
                    cluster_name=cluster.cluster_name,
                    kubernetes_version=config.cluster.kubernetes_version,
                    node_role_arn=cluster.node_role_arn,
                    subnet_ids=cluster.subnet_ids(pool.zones or ()),
                    mig_strategy=strategy,
                    tags=tags,
                ),
                opts=pulumi.ResourceOptions(
                    parent=platform,
                    providers=[platform.cloud_provider],
                    depends_on=cluster.node_dependencies,
                ),
            )
            for pool_name, pool in config.node_pools.items()
        }
    else:
        cluster = GkeCluster(
            f"{name}-cluster",
            GkeClusterArgs(*cluster_args),
            opts=pulumi.ResourceOptions(parent=platform),
        )
        platform.image_cache = GkeImageCache(
            f"{name}-image-cache",
            GkeImageCacheArgs(
                cluster_name=config.cluster.name,
                region=cloud.region,
                project=cloud.project,
                provider=platform.cloud_provider,
            ),
            opts=pulumi.ResourceOptions(parent=platform),
        )
        platform.node_pools = {
            pool_name: GkeGpuNodePool(
                f"{name}-{pool_name}",
                gke_pool_args(config, pool_name, pool, cluster, tags),
                opts=pulumi.ResourceOptions(
                    parent=platform,
                    providers=[platform.cloud_provider],
                    depends_on=[*cluster.node_account_ready, *platform.image_cache.ready],
                ),
            )
            for pool_name, pool in config.node_pools.items()
        }
    return cluster


def gke_pool_args(
    config: PlatformSpec,
    pool_name: str,
    pool: NodePoolSpec,
    cluster: GkeCluster,
    tags: dict[str, str],
) -> GkeGpuNodePoolArgs:
    cloud = config.cloud
    args = GkeGpuNodePoolArgs(
        pool_name=pool_name,
        pool=pool_args(pool),  # type: ignore[typeddict-item]
        cluster_id=cluster.cluster_id,
        kubernetes_version=config.cluster.kubernetes_version,
        project=cloud.project,  # type: ignore[union-attr]
        region=cloud.region,
        zones=list(pool.zones or cloud.zones or ()),
        service_account=cluster.node_service_account,
        resource_labels=tags,
    )
    compute = compute_class.pool_classes(config.models).get(pool_name)
    if compute is not None:
        args["compute_class"] = compute
    return args
