"""One Kubernetes service account's AWS identity through EKS Pod Identity: an IAM role only the
Pod Identity agent may assume, one inline policy, and the association that hands the role to
the service account."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from gpu_platform.aws import iam
from gpu_platform.options import child_of


def role_name_prefix(name: str) -> str:
    """An IAM role name prefix from a component name: at most 38 characters, ending in '-'.
    IAM role names stop at 64 characters and the provider appends 26 to a prefix."""
    return f"{name[:37].rstrip('-')}-"


def create_pod_identity(
    name: str,
    parent: pulumi.Resource,
    provider: pulumi.ProviderResource,
    *,
    cluster_name: pulumi.Input[str] | None,
    namespace: str,
    service_account: str,
    grant: str,
    policy: pulumi.Input[str],
) -> list[pulumi.Resource]:
    """`<name>-role`, its policy `<name>-<grant>` and `<name>-identity`; returns what a pod of
    the service account needs in place (the policy and the association)."""
    role = aws.iam.Role(
        f"{name}-role",
        name_prefix=role_name_prefix(name),
        assume_role_policy=iam.pod_identity_trust_policy(),
        opts=child_of(parent, provider),
    )
    attached = aws.iam.RolePolicy(
        f"{name}-{grant}", role=role.id, policy=policy, opts=child_of(parent, provider)
    )
    association = aws.eks.PodIdentityAssociation(
        f"{name}-identity",
        cluster_name=cluster_name,
        namespace=namespace,
        service_account=service_account,
        role_arn=role.arn,
        opts=child_of(parent, provider),
    )
    return [attached, association]
