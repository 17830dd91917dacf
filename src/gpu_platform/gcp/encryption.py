"""The GKE cluster's Cloud KMS key for application-layer encryption of Kubernetes secrets (what
EKS does with its KMS key), and the grant that lets GKE use it."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

ENCRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
ROTATION = "7776000s"  # 90 days


def gke_service_agent(project_number: str) -> str:
    """The identity GKE encrypts and decrypts secrets as."""
    return f"serviceAccount:service-{project_number}@container-engine-robot.iam.gserviceaccount.com"


def create_secrets_key(
    name: str,
    cluster_name: str,
    project: str,
    region: str,
    protect: bool,
    parent: pulumi.Resource,
    provider: pulumi.ProviderResource,
) -> tuple[gcp.kms.CryptoKey, gcp.kms.CryptoKeyIAMMember]:
    """Register the key ring, the key and GKE's grant on it as children of `parent`. Cloud KMS
    never deletes a key ring; destroying the stack schedules the key's versions for
    destruction."""

    def opts(**kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=parent, provider=provider, **kwargs)

    ring = gcp.kms.KeyRing(
        f"{name}-secrets",
        name=f"{cluster_name}-secrets",
        location=region,
        project=project,
        opts=opts(protect=protect),
    )
    key = gcp.kms.CryptoKey(
        f"{name}-secrets",
        name="kubernetes-secrets",
        key_ring=ring.id,
        purpose="ENCRYPT_DECRYPT",
        rotation_period=ROTATION,
        opts=opts(protect=protect),
    )
    number = gcp.organizations.get_project_output(
        project_id=project, opts=pulumi.InvokeOutputOptions(provider=provider, parent=parent)
    ).number
    grant = gcp.kms.CryptoKeyIAMMember(
        f"{name}-secrets-gke",
        crypto_key_id=key.id,
        role=ENCRYPTER,
        member=number.apply(gke_service_agent),
        opts=opts(),
    )
    return key, grant
