"""What every vector store engine shares: its arguments, the backup bucket it writes to, and the
connection contract (a `vector-store` ConfigMap and Secret) it publishes in client namespaces."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform import labels
from gpu_platform.catalog import Cloud
from gpu_platform.data import schema_job
from gpu_platform.data.backup_bucket import BackupBucket, BackupBucketArgs
from gpu_platform.data.spec import VectorStoreSpec
from gpu_platform.options import child_of

NAMESPACE = schema_job.NAMESPACE
CONNECTION = "vector-store"
"""The ConfigMap and Secret every client namespace gets."""


@dataclass(frozen=True, kw_only=True)
class StoreArgs:
    store: VectorStoreSpec
    production: bool
    cloud: Cloud
    k8s_provider: k8s.Provider
    cloud_provider: pulumi.ProviderResource
    cluster_name: pulumi.Input[str]
    """EKS: the cluster the backup identity's Pod Identity association belongs to."""
    project: str | None = None
    region: str | None = None
    partition: str = "aws"
    monitoring_ready: list[pulumi.Resource] = field(default_factory=list)
    """Prometheus' CRDs (the PodMonitors need them)."""
    client_namespaces: dict[str, pulumi.Resource] = field(default_factory=dict)
    """Namespaces the program creates, by name, so their contract waits for them."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    checked: pulumi.Output[bool] | None = None
    """Resolves once the store is known to keep what was deployed (the store waits)."""


@dataclass(frozen=True)
class Backups:
    url: pulumi.Output[str] | None
    """`s3://bucket` or `gs://bucket`; None without backups."""
    ready: list[pulumi.Resource]
    service_account_annotations: dict[str, pulumi.Output[str]]


def create_backups(
    name: str, parent: pulumi.Resource, args: StoreArgs, service_account: str, *, expire: bool
) -> Backups:
    """The store's backup bucket and its writer's identity, when backups are on."""
    store = args.store
    if not store.backups.enabled:
        return Backups(None, [], {})
    bucket = BackupBucket(
        name,
        BackupBucketArgs(
            cloud=args.cloud,
            production=args.production,
            retention_days=store.backups.retention_days,
            namespace=NAMESPACE,
            service_account=service_account,
            provider=args.cloud_provider,
            cluster_name=args.cluster_name,
            partition=args.partition,
            project=args.project,
            region=args.region,
            expire_backups=expire,
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return Backups(bucket.url, [*bucket.ready], bucket.service_account_annotations)


def render_contract(namespace: str, data: Mapping[str, str]) -> dict[str, Any]:
    """The connection ConfigMap of one client namespace."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": CONNECTION,
            "namespace": namespace,
            "labels": {labels.PART_OF_LABEL: "gpu-platform"},
        },
        "data": dict(data),
    }


def client_namespaces(store: VectorStoreSpec) -> tuple[str, ...]:
    """Every namespace that gets the connection contract."""
    return ("inference", *store.client_namespaces)


def publish_contract(
    name: str,
    parent: pulumi.Resource,
    args: StoreArgs,
    *,
    contract: Callable[[str], dict[str, Any]],
    secret_type: str,
    secret: Mapping[str, pulumi.Input[str]],
    after: list[pulumi.Resource],
) -> None:
    """The ConfigMap (`contract(namespace)`) and Secret in each client namespace, once `after`
    (the store's schema) is done."""
    for namespace in client_namespaces(args.store):
        created = args.client_namespaces.get(namespace)
        waits = [*after, *([created] if created is not None else [])]
        config_map = contract(namespace)
        k8s.core.v1.ConfigMap(
            f"{name}-{namespace}-connection",
            metadata=config_map["metadata"],
            data=config_map["data"],
            opts=child_of(parent, args.k8s_provider, waits),
        )
        k8s.core.v1.Secret(
            f"{name}-{namespace}-credentials",
            metadata={"name": CONNECTION, "namespace": namespace},
            type=secret_type,
            string_data=dict(secret),
            opts=child_of(parent, args.k8s_provider, waits),
        )


def create_schema_job(
    name: str,
    parent: pulumi.Resource,
    args: StoreArgs,
    content: dict[str, str],
    job: pulumi.Input[dict[str, Any]],
    after: list[pulumi.Resource],
) -> k8s.batch.v1.Job:
    """The schema Job's ConfigMap (`content`) and the Job (`job`, rendered by
    `schema_job.render_job`, possibly once the database's address is known), which runs once
    `after` (the database) exists. Its timeout is the Job's own deadline."""
    files = schema_job.render_script_config_map(content)
    scripts = k8s.core.v1.ConfigMap(
        f"{name}-schema-sql",
        metadata=files["metadata"],
        data=files["data"],
        opts=child_of(parent, args.k8s_provider, args.depends_on),
    )
    timeout = f"{schema_job.DEADLINE_SECONDS // 60}m"
    return k8s.batch.v1.Job(
        f"{name}-schema",
        metadata=files["metadata"] | {"name": schema_job.job_name(content)},
        spec=pulumi.Output.from_input(job).apply(lambda manifest: manifest["spec"]),
        opts=child_of(
            parent,
            args.k8s_provider,
            [*after, scripts],
            custom_timeouts=pulumi.CustomTimeouts(create=timeout, update=timeout),
        ),
    )
