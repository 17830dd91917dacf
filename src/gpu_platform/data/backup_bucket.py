"""BackupBucket: a private, encrypted, versioned bucket writable by exactly one Kubernetes
service account: a vector store's backups, or the mirror of the models' weights
(gpu_platform/platform/serving.py), which its `model-mirror` Jobs write and model servers read
by prefix.

- EKS: an S3 bucket (public access blocked, TLS only, SSE, versioned so an overwritten or
  deleted backup stays recoverable for the retention window) and an IAM role that EKS Pod
  Identity hands to the service account.
- GKE: a GCS bucket (uniform access, public access prevented, versioned, soft delete) and a
  Google service account the Kubernetes service account impersonates through Workload
  Identity.

In production the bucket is protected and never emptied by a destroy.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp

from gpu_platform.aws.pod_identity import create_pod_identity
from gpu_platform.catalog import Cloud
from gpu_platform.gcp.workload_identity import create_workload_identity
from gpu_platform.options import child_of

TOKEN = "gpuplatform:data:BackupBucket"
# Versions an overwrite or delete leaves behind are kept this much longer than the backups
# themselves, so a mistaken delete can be undone within the retention window.
GRACE_DAYS = 7


def render_s3_backup_policy(partition: str, bucket: str) -> str:
    """List the bucket, read, write and delete its objects (barman-cloud expires old backups
    itself), nothing else."""
    arn = f"arn:{partition}:s3:::{bucket}"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "List", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": arn},
                {
                    "Sid": "ReadWrite",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    "Resource": f"{arn}/*",
                },
            ],
        }
    )


def render_tls_only_policy(partition: str, bucket: str) -> str:
    arn = f"arn:{partition}:s3:::{bucket}"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [arn, f"{arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def bucket_prefix(name: str) -> str:
    """An S3 bucket name prefix (the provider appends 26 characters; names stop at 63)."""
    return f"{name[:36].rstrip('-')}-"


@dataclass(frozen=True)
class BackupBucketArgs:
    cloud: Cloud
    production: bool
    retention_days: int
    namespace: str
    service_account: str
    provider: pulumi.ProviderResource
    cluster_name: pulumi.Input[str] | None = None
    """EKS: the cluster the Pod Identity association belongs to."""
    partition: str = "aws"
    project: str | None = None
    region: str | None = None
    purpose: str = "Writes backups"
    """What the writer does (GKE: its Google service account's display name)."""
    expire_backups: bool = False
    """Delete backups older than `retention_days` (for writers that never delete their own;
    barman-cloud applies its retention policy itself)."""


class BackupBucket(pulumi.ComponentResource):
    """A backup bucket and write access to it for one service account."""

    url: pulumi.Output[str]
    """`s3://bucket` or `gs://bucket`."""
    service_account_annotations: dict[str, pulumi.Output[str]]
    ready: list[pulumi.Resource]

    def __init__(
        self, name: str, args: BackupBucketArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(TOKEN, name, None, opts)
        keep = {"protect": args.production}
        self.service_account_annotations = {}
        if args.cloud == "aws":
            self._aws(name, args, keep)
        else:
            self._gcp(name, args, keep)
        self.register_outputs({"url": self.url})

    def _aws(self, name: str, args: BackupBucketArgs, keep: dict) -> None:
        opts = functools.partial(child_of, self, args.provider)
        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket_prefix=bucket_prefix(name),
            force_destroy=not args.production,
            opts=opts(**keep),
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=opts(),
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=opts(),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"},
                    "bucket_key_enabled": True,
                }
            ],
            opts=opts(),
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=opts(),
        )
        rule = {
            "id": "expire-replaced-versions",
            "status": "Enabled",
            "filter": {},
            "noncurrent_version_expiration": {"noncurrent_days": args.retention_days + GRACE_DAYS},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
        }
        rules = [rule]
        if args.expire_backups:
            rule["expiration"] = {"days": args.retention_days}
        else:
            # Writers that delete their own old backups leave a delete marker per object in a
            # versioned bucket; once its versions have expired, a marker is clutter.
            rules.append(
                {
                    "id": "remove-expired-delete-markers",
                    "status": "Enabled",
                    "filter": {},
                    "expiration": {"expired_object_delete_marker": True},
                }
            )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=rules,
            opts=opts(depends_on=[versioning]),
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=bucket.id,
            policy=bucket.id.apply(lambda b: render_tls_only_policy(args.partition, b)),
            opts=opts(),
        )
        access = create_pod_identity(
            name,
            self,
            args.provider,
            cluster_name=args.cluster_name,
            namespace=args.namespace,
            service_account=args.service_account,
            grant="write",
            policy=bucket.id.apply(lambda b: render_s3_backup_policy(args.partition, b)),
        )
        self.url = bucket.id.apply(lambda b: f"s3://{b}")
        self.ready = [versioning, *access]

    def _gcp(self, name: str, args: BackupBucketArgs, keep: dict) -> None:
        opts = functools.partial(child_of, self, args.provider)
        bucket = gcp.storage.Bucket(
            f"{name}-bucket",
            name=f"{args.project}-{name}"[:63].rstrip("-"),
            project=args.project,
            location=args.region,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": True},
            soft_delete_policy={"retention_duration_seconds": GRACE_DAYS * 86400},
            lifecycle_rules=[
                {
                    "action": {"type": "Delete"},
                    "condition": {
                        "days_since_noncurrent_time": args.retention_days + GRACE_DAYS,
                        "with_state": "ARCHIVED",
                    },
                },
                *(
                    [
                        {
                            "action": {"type": "Delete"},
                            "condition": {"age": args.retention_days, "with_state": "LIVE"},
                        }
                    ]
                    if args.expire_backups
                    else []
                ),
            ],
            force_destroy=not args.production,
            opts=opts(**keep),
        )
        # The component's name carries the environment: one account per stack in a project.
        identity = create_workload_identity(
            name,
            self,
            args.provider,
            project=args.project,
            namespace=args.namespace,
            service_account=args.service_account,
            account_id=name,
            purpose=args.purpose,
        )
        write = gcp.storage.BucketIAMMember(
            f"{name}-write",
            bucket=bucket.name,
            role="roles/storage.objectAdmin",
            member=identity.member,
            opts=opts(),
        )
        # barman-cloud and Weaviate read the bucket's metadata before writing
        # (storage.buckets.get), which objectAdmin does not grant.
        metadata = gcp.storage.BucketIAMMember(
            f"{name}-metadata",
            bucket=bucket.name,
            role="roles/storage.legacyBucketReader",
            member=identity.member,
            opts=opts(),
        )
        self.service_account_annotations = identity.annotations
        self.url = bucket.name.apply(lambda b: f"gs://{b}")
        self.ready = [write, metadata, *identity.ready]
