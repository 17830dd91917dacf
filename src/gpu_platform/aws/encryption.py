"""The EKS cluster's KMS key (envelope encryption of Kubernetes secrets) and its control-plane
log group, encrypted with that key."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from gpu_platform.aws import iam

LOG_RETENTION_DAYS = 90


def create_key_and_logs(
    name: str,
    cluster_name: str,
    region: str,
    partition: str,
    protect: bool,
    parent: pulumi.Resource,
    provider: pulumi.ProviderResource,
) -> tuple[aws.kms.Key, aws.cloudwatch.LogGroup]:
    """Register the key (with its alias) and the log group as children of `parent`."""

    def opts(**kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=parent, provider=provider, **kwargs)

    account = aws.get_caller_identity_output(
        opts=pulumi.InvokeOutputOptions(provider=provider, parent=parent)
    ).account_id
    key = aws.kms.Key(
        f"{name}-secrets",
        description=(
            f"Envelope encryption of Kubernetes secrets and control-plane logs of EKS cluster "
            f"{cluster_name}"
        ),
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=account.apply(
            lambda account_id: iam.cluster_key_policy(partition, region, account_id, cluster_name)
        ),
        opts=opts(protect=protect),
    )
    aws.kms.Alias(
        f"{name}-secrets",
        name=f"alias/{cluster_name}-eks-secrets",
        target_key_id=key.key_id,
        opts=opts(),
    )
    # Created up front so the log group has a retention (EKS would create one keeping logs
    # forever), is encrypted with the cluster's key and, in production, is protected.
    logs = aws.cloudwatch.LogGroup(
        f"{name}-control-plane",
        name=f"/aws/eks/{cluster_name}/cluster",
        retention_in_days=LOG_RETENTION_DAYS,
        kms_key_id=key.arn,
        opts=opts(protect=protect),
    )
    return key, logs
