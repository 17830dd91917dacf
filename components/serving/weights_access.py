"""ModelWeightsAccess: read access to a model's weights in object storage, for exactly that
model's Kubernetes service account.

- EKS: an IAM role that EKS Pod Identity hands to the service account, allowed to list and read
  only the model's `s3://bucket/prefix`.
- GKE: a Google service account with read access to the bucket, which the Kubernetes service
  account impersonates through Workload Identity (the annotation this component returns).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp

from components.aws import iam, network
from components.catalog import Cloud
from components.gcp.private_apis import PRIVATE_GOOGLE_APIS
from components.options import child_of

TOKEN = "gpuplatform:serving:ModelWeightsAccess"
GKE_SA_ANNOTATION = "iam.gke.io/gcp-service-account"


def split_source(source: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> (`bucket`, `some/prefix/`). The prefix always ends at a `/`,
    so a grant on `models/llama-8b/*` never reaches `models/llama-8b-other/`; an empty prefix is
    the whole bucket."""
    bucket, _, prefix = source.split("://", 1)[1].partition("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return bucket, prefix


def render_s3_read_policy(partition: str, source: str) -> str:
    bucket, prefix = split_source(source)
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ListWeights",
                    "Effect": "Allow",
                    "Action": "s3:ListBucket",
                    "Resource": f"arn:{partition}:s3:::{bucket}",
                    "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}},
                },
                {
                    "Sid": "ReadWeights",
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:{partition}:s3:::{bucket}/{prefix}*",
                },
            ],
        }
    )


def render_gcs_read_condition(source: str) -> dict[str, str] | None:
    """An IAM condition limiting a bucket-level read grant to the model's prefix: objects under
    it, and listing (which GCS checks on the bucket itself, so names elsewhere in the bucket are
    listable but not readable). None for a whole-bucket source. Conditions need the bucket to use
    uniform bucket-level access."""
    bucket, prefix = split_source(source)
    if not prefix:
        return None
    return {
        "title": "model-weights-prefix",
        "description": f"Read only gs://{bucket}/{prefix}",
        "expression": (
            'resource.type == "storage.googleapis.com/Bucket" || '
            f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{prefix}")'
        ),
    }


def s3_addresses(region: str | None, provider: pulumi.ProviderResource) -> pulumi.Output[list[str]]:
    """S3's addresses in the region, read from its managed prefix list at deploy time."""
    if region is None:
        raise ValueError("S3 weights need the stack's region")
    prefix_list = aws.ec2.get_managed_prefix_list_output(
        name=network.s3_service(region), opts=pulumi.InvokeOutputOptions(provider=provider)
    )
    return prefix_list.entries.apply(lambda entries: sorted(e.cidr for e in entries))


def role_name_prefix(name: str) -> str:
    """An IAM role name prefix from a component name: at most 38 characters, ending in '-'."""
    return f"{name[:37].rstrip('-')}-"


def gcp_account_id(service_account: str) -> str:
    """A Google service account id (6 to 30 characters) for a Kubernetes service account. A
    longer name is cut and given a digest of the whole, so two models whose names share their
    first 30 characters never get the same account."""
    if len(service_account) <= 30:
        return service_account
    digest = hashlib.sha256(service_account.encode()).hexdigest()[:6]
    return f"{service_account[:23].rstrip('-')}-{digest}"


@dataclass(frozen=True)
class ModelWeightsAccessArgs:
    cloud: Cloud
    source: str
    namespace: str
    service_account: str
    provider: pulumi.ProviderResource
    cluster_name: pulumi.Input[str] | None = None
    """EKS: the cluster the Pod Identity association belongs to."""
    partition: str = "aws"
    project: str | None = None
    """GKE: the project of the cluster's workload identity pool."""
    region: str | None = None
    """EKS: the region whose S3 addresses the model's pods may reach."""
    private_google_apis: bool = False
    """GKE: the network sends Google APIs to `private.googleapis.com` (the cluster component
    sets that up on networks it creates), so GCS is reachable at that fixed range."""


class ModelWeightsAccess(pulumi.ComponentResource):
    """Object-store read access for one model server's service account."""

    service_account_annotations: dict[str, pulumi.Output[str]]
    """Annotations the Kubernetes service account needs (GKE Workload Identity)."""
    ready: list[pulumi.Resource]
    object_store: pulumi.Output[list[str]] | None
    """The addresses the model's pods read weights from, for their network policy; None when
    the store has no known fixed addresses."""

    def __init__(
        self, name: str, args: ModelWeightsAccessArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(TOKEN, name, None, opts)
        self.service_account_annotations = {}
        if args.cloud == "aws":
            role = aws.iam.Role(
                f"{name}-role",
                # IAM role names stop at 64 characters; the provider appends 26 to a prefix.
                # A prefix that fits, rather than the resource name, which need not.
                name_prefix=role_name_prefix(name),
                assume_role_policy=iam.pod_identity_trust_policy(),
                opts=child_of(self, args.provider),
            )
            policy = aws.iam.RolePolicy(
                f"{name}-read",
                role=role.id,
                policy=render_s3_read_policy(args.partition, args.source),
                opts=child_of(self, args.provider),
            )
            association = aws.eks.PodIdentityAssociation(
                f"{name}-identity",
                cluster_name=args.cluster_name,
                namespace=args.namespace,
                service_account=args.service_account,
                role_arn=role.arn,
                opts=child_of(self, args.provider),
            )
            self.ready = [policy, association]
            self.object_store = s3_addresses(args.region, args.provider)
        else:
            bucket, _ = split_source(args.source)
            account = gcp.serviceaccount.Account(
                f"{name}-account",
                account_id=gcp_account_id(args.service_account),
                display_name=f"Reads model weights for {args.namespace}/{args.service_account}",
                project=args.project,
                opts=child_of(self, args.provider),
            )
            read = gcp.storage.BucketIAMMember(
                f"{name}-read",
                bucket=bucket,
                role="roles/storage.objectViewer",
                member=account.member,
                condition=render_gcs_read_condition(args.source),
                opts=child_of(self, args.provider),
            )
            workload_identity = gcp.serviceaccount.IAMMember(
                f"{name}-impersonate",
                service_account_id=account.name,
                role="roles/iam.workloadIdentityUser",
                member=(
                    f"serviceAccount:{args.project}.svc.id.goog"
                    f"[{args.namespace}/{args.service_account}]"
                ),
                opts=child_of(self, args.provider),
            )
            self.service_account_annotations = {GKE_SA_ANNOTATION: account.email}
            self.ready = [read, workload_identity]
            self.object_store = (
                pulumi.Output.from_input([PRIVATE_GOOGLE_APIS])
                if args.private_google_apis
                else None
            )
        self.register_outputs({})
