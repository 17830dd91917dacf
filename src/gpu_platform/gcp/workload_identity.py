"""One Kubernetes service account's Google identity through GKE Workload Identity: a Google
service account the Kubernetes one may impersonate, and the annotation that tells GKE to."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from gpu_platform.options import child_of

GKE_SA_ANNOTATION = "iam.gke.io/gcp-service-account"


def gcp_account_id(name: str) -> str:
    """A Google service account id (6 to 30 characters). A longer name is cut and given a
    digest of the whole, so two names sharing their first 30 characters never collide."""
    if len(name) <= 30:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    return f"{name[:23].rstrip('-')}-{digest}"


@dataclass(frozen=True)
class WorkloadIdentity:
    member: pulumi.Output[str]
    """`serviceAccount:<email>`, for the grants the caller makes."""
    annotations: dict[str, pulumi.Output[str]]
    """What the Kubernetes service account carries."""
    ready: list[pulumi.Resource]


def create_workload_identity(
    name: str,
    parent: pulumi.Resource,
    provider: pulumi.ProviderResource,
    *,
    project: str | None,
    namespace: str,
    service_account: str,
    account_id: str,
    purpose: str,
) -> WorkloadIdentity:
    """`<name>-account`, and `<name>-impersonate` letting `namespace/service_account` act as it."""
    account = gcp.serviceaccount.Account(
        f"{name}-account",
        account_id=gcp_account_id(account_id),
        display_name=f"{purpose} for {namespace}/{service_account}",
        project=project,
        opts=child_of(parent, provider),
    )
    impersonate = gcp.serviceaccount.IAMMember(
        f"{name}-impersonate",
        service_account_id=account.name,
        role="roles/iam.workloadIdentityUser",
        member=f"serviceAccount:{project}.svc.id.goog[{namespace}/{service_account}]",
        opts=child_of(parent, provider),
    )
    return WorkloadIdentity(account.member, {GKE_SA_ANNOTATION: account.email}, [impersonate])
