"""What every vector store engine shares: its public args, the backup bucket it writes to, and
the connection contract (a `vector-store` ConfigMap and Secret) it publishes in client namespaces.

No `from __future__ import annotations`: Pulumi's component analyzer reads StoreClusterArgs'
annotations.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform import labels
from gpu_platform.args import ArgsError, check, from_args, required, spec_key
from gpu_platform.catalog import Cloud
from gpu_platform.data import schema_job
from gpu_platform.data.backup_bucket import BackupBucket, BackupBucketArgs
from gpu_platform.data.spec import VectorStoreSpec, production_problems
from gpu_platform.options import child_of

NAMESPACE = schema_job.NAMESPACE
CONNECTION = "vector-store"
"""The ConfigMap and Secret every client namespace gets."""
COMPONENT_KEYS = {"engine": "engine", "mode": "mode", "accept_changes": "acceptChanges"}
"""VectorStoreSpec's fields a store component's args leave out (field name: schema key): the
component sets the engine and mode, and the check of a deployed store is a stack's."""


class StoreClusterArgs(TypedDict):
    """The cluster a vector store serves, and the cloud account it keeps data in."""

    cloud: str
    """aws or gcp: where the cluster runs."""
    region: str
    """The cluster's region (the backup bucket's and managed database's)."""
    cluster_name: NotRequired[pulumi.Input[str]]
    """EKS: the cluster's name (the Pod Identity associations of the backup writer and schema
    Job); required there with backups or a managed database."""
    project: NotRequired[str]
    """GKE: the Google Cloud project (required there)."""
    partition: NotRequired[str]
    """EKS: the AWS partition of IAM policy ARNs. Default: aws."""
    production: NotRequired[bool]
    """Production sizing; the store, its bucket and its storage class protected and retained."""
    prometheus_release: NotRequired[k8s.helm.v3.Release]
    """kube-prometheus-stack's release in the cluster: the store's PodMonitors wait for its
    CRDs. Without it the store is not scraped."""
    namespaces: NotRequired[list[k8s.core.v1.Namespace]]
    """Client namespaces the same program creates: the connection objects wait for them."""
    checked: NotRequired[pulumi.Input[bool]]
    """Resolves once the store is known to keep what was deployed; the store waits for it (a
    stack's check of its deployed store)."""


@dataclass(frozen=True, kw_only=True)
class StoreSettings:
    """A store component's args, checked and resolved."""

    store: VectorStoreSpec
    production: bool
    cloud: Cloud
    region: str
    cluster_name: pulumi.Input[str] | None = None
    project: str | None = None
    partition: str = "aws"
    prometheus: pulumi.Resource | None = None
    """Prometheus' release (the PodMonitors need its CRDs); None: no monitors."""
    namespaces: list[pulumi.Resource] = field(default_factory=list)
    """Client namespaces the program creates (their contract waits for them)."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    checked: pulumi.Input[bool] | None = None
    """Resolves once the store is known to keep what was deployed (the store waits)."""
    k8s_provider: pulumi.ProviderResource | None = None
    cloud_provider: pulumi.ProviderResource | None = None

    @property
    def monitoring_ready(self) -> list[pulumi.Resource]:
        return [self.prometheus] if self.prometheus is not None else []

    def with_providers(self, component: pulumi.Resource) -> "StoreSettings":
        """The Kubernetes and cloud providers the component was given (`providers=`)."""
        return dataclass_replace(
            self,
            k8s_provider=component.get_provider("kubernetes::"),
            cloud_provider=component.get_provider(f"{self.cloud}::"),
        )


def store_settings(
    component: str,
    args: Mapping[str, Any],
    *,
    engine: str,
    mode: str,
    depends_on: list[pulumi.Resource],
) -> StoreSettings:
    """The common args of a store component, checked by the stack config's own store rules
    (production ones included) with `<component>.store.<key>` messages."""
    required(component, args, ("store", "cluster"))
    store, cluster = args["store"], args["cluster"]
    if not isinstance(cluster, Mapping):
        raise ArgsError(component, [("cluster", "expected a map of settings")])
    required(f"{component}.cluster", cluster, ("cloud", "region"))
    cloud = cluster["cloud"]
    problems = [
        (f"store.{key}", "the component sets it; remove it")
        for name, key in COMPONENT_KEYS.items()
        if isinstance(store, Mapping) and name in store
    ]
    if cloud not in ("aws", "gcp"):
        problems.append(("cluster.cloud", f"{cloud!r} is not aws or gcp"))
    check(component, problems)
    spec = from_args(component, "store", VectorStoreSpec, {**store, "engine": engine, "mode": mode})
    production = bool(cluster.get("production", False))
    problems = [
        (spec_key("store", p.path, VectorStoreSpec), p.message)
        for p in (production_problems(spec, None) if production else [])
    ]
    needs_cluster = spec.backups.enabled or mode == "managed"
    if cloud == "aws" and needs_cluster and cluster.get("cluster_name") is None:
        problems.append(("cluster.clusterName", "required on aws with backups or managed"))
    if cloud == "gcp" and not cluster.get("project"):
        problems.append(("cluster.project", "required on gcp"))
    check(component, problems)
    return StoreSettings(
        store=spec,
        production=production,
        cloud=cloud,
        region=cluster["region"],
        cluster_name=cluster.get("cluster_name"),
        project=cluster.get("project"),
        partition=cluster.get("partition") or "aws",
        prometheus=cluster.get("prometheus_release"),
        namespaces=list(cluster.get("namespaces") or []),
        depends_on=depends_on,
        checked=cluster.get("checked"),
    )


@dataclass(frozen=True)
class Backups:
    url: pulumi.Output[str] | None
    """`s3://bucket` or `gs://bucket`; None without backups."""
    ready: list[pulumi.Resource]
    service_account_annotations: dict[str, pulumi.Output[str]]


def create_backups(
    name: str, parent: pulumi.Resource, args: StoreSettings, service_account: str, *, expire: bool
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
    args: StoreSettings,
    *,
    contract: Callable[[str], dict[str, Any]],
    secret_type: str,
    secret: Mapping[str, pulumi.Input[str]],
    after: list[pulumi.Resource],
) -> None:
    """The ConfigMap (`contract(namespace)`) and Secret in each client namespace, once `after`
    (the store's schema) is done."""
    waits = [*after, *args.namespaces]
    for namespace in client_namespaces(args.store):
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
    args: StoreSettings,
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
