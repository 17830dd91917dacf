"""What a created EKS cluster has besides the control plane and its add-ons: the small
on-demand system node group, and cluster-admin access entries for the configured IAM roles."""

from __future__ import annotations

import hashlib

import pulumi
import pulumi_aws as aws

from gpu_platform import labels, versions
from gpu_platform.aws import iam
from gpu_platform.aws.launch_template import render_launch_template
from gpu_platform.catalog import SYSTEM_MACHINE_TYPE
from gpu_platform.cloud import ClusterSpec
from gpu_platform.pools import ami_release


def create_system_nodes(
    name: str,
    spec: ClusterSpec,
    cluster: aws.eks.Cluster,
    node_role_arn: pulumi.Input[str],
    subnet_ids: list[pulumi.Input[str]],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.eks.NodeGroup:
    """The system node group, after what `opts` names (the add-ons nodes need)."""
    system = spec.system_nodes
    template = render_launch_template(disk_gib=system.disk_gib, tags=tags)
    lt = aws.ec2.LaunchTemplate(
        f"{name}-system",
        name_prefix=f"{spec.name}-system-",
        update_default_version=True,
        opts=pulumi.ResourceOptions(parent=opts.parent, provider=opts.provider),
        **template,
    )
    return aws.eks.NodeGroup(
        f"{name}-system",
        cluster_name=cluster.name,
        # Replaced create-before-delete, like the GPU pools (gpu_platform/aws/node_pool.py).
        node_group_name_prefix=f"{labels.SYSTEM_POOL}-",
        node_role_arn=node_role_arn,
        subnet_ids=subnet_ids,
        ami_type=versions.EKS_SYSTEM_AMI_TYPE,
        release_version=ami_release(spec.kubernetes_version, system.ami_release_version),
        version=spec.kubernetes_version,
        capacity_type="ON_DEMAND",
        instance_types=[system.instance_type or SYSTEM_MACHINE_TYPE["aws"]],
        scaling_config=aws.eks.NodeGroupScalingConfigArgs(
            min_size=system.min_nodes, max_size=system.max_nodes, desired_size=system.min_nodes
        ),
        launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
            id=lt.id, version=lt.latest_version.apply(str)
        ),
        labels=labels.system_labels(),
        update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(ignore_changes=["scalingConfig.desiredSize"])
        ),
    )


def create_admin_access(
    name: str,
    cluster: aws.eks.Cluster,
    role_arns: tuple[str, ...],
    partition: str,
    opts: pulumi.ResourceOptions,
) -> None:
    """Cluster-admin access entries for the configured IAM roles."""
    for arn in role_arns:
        # The role name alone can repeat across paths and accounts; the digest cannot.
        slug = f"{arn.rsplit('/', 1)[-1]}-{hashlib.sha256(arn.encode()).hexdigest()[:8]}"
        entry = aws.eks.AccessEntry(
            f"{name}-admin-{slug}",
            cluster_name=cluster.name,
            principal_arn=arn,
            type="STANDARD",
            opts=opts,
        )
        aws.eks.AccessPolicyAssociation(
            f"{name}-admin-{slug}",
            cluster_name=cluster.name,
            principal_arn=arn,
            policy_arn=iam.access_policy_arn(partition, iam.ADMIN_ACCESS_POLICY),
            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[entry])),
        )
