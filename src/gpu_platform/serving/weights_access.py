"""ModelWeightsAccess: read access to a model's weights in object storage, for exactly that
model's Kubernetes service account.

- EKS: an IAM role that EKS Pod Identity hands to the service account, allowed to list and read
  only the model's `s3://bucket/prefix`.
- GKE: a Google service account with read access to the bucket, which the Kubernetes service
  account impersonates through Workload Identity (the annotation this component returns).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp

from gpu_platform.aws import network
from gpu_platform.aws.pod_identity import create_pod_identity
from gpu_platform.catalog import Cloud
from gpu_platform.gcp.private_apis import PRIVATE_GOOGLE_APIS
from gpu_platform.gcp.workload_identity import create_workload_identity
from gpu_platform.options import child_of

TOKEN = "gpuplatform:serving:ModelWeightsAccess"


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


@dataclass(frozen=True)
class ModelWeightsAccessArgs:
    cloud: Cloud
    source: pulumi.Input[str]
    """`s3://` or `gs://` prefix; it may be known only at deploy (a mirror)."""
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
            self.ready = create_pod_identity(
                name,
                self,
                args.provider,
                cluster_name=args.cluster_name,
                namespace=args.namespace,
                service_account=args.service_account,
                grant="read",
                policy=pulumi.Output.from_input(args.source).apply(
                    lambda source: render_s3_read_policy(args.partition, source)
                ),
            )
            self.object_store = s3_addresses(args.region, args.provider)
        else:
            source = pulumi.Output.from_input(args.source)
            identity = create_workload_identity(
                name,
                self,
                args.provider,
                project=args.project,
                namespace=args.namespace,
                service_account=args.service_account,
                account_id=args.service_account,
                purpose="Reads model weights",
            )
            read = gcp.storage.BucketIAMMember(
                f"{name}-read",
                bucket=source.apply(lambda s: split_source(s)[0]),
                role="roles/storage.objectViewer",
                member=identity.member,
                condition=source.apply(render_gcs_read_condition),
                opts=child_of(self, args.provider),
            )
            self.service_account_annotations = identity.annotations
            self.ready = [read, *identity.ready]
            self.object_store = (
                pulumi.Output.from_input([PRIVATE_GOOGLE_APIS])
                if args.private_google_apis
                else None
            )
        self.register_outputs({})
