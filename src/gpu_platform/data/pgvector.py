"""PgVector: an in-cluster PostgreSQL with pgvector, run by the CloudNativePG operator, ready for
retrieval applications.

It installs the operator (pinned chart, CRDs included) in `cnpg-system`, creates the Cluster in
`data` with an application role whose password Pulumi generates (a secret in state, never in
plain config or outputs), applies the bootstrap SQL with a Job, and gives every client namespace
a `vector-store` ConfigMap and Secret. With backups, WAL and daily base backups go to a bucket
the stack creates, written with the database pods' own cloud identity.

In production the Cluster, its bucket and the Retain StorageClass under its volumes are
protected: Pulumi refuses to delete or replace them, and the Cluster object is left in the
cluster (with its data) if it is ever removed from the program.

A public component: typed args (PgVectorArgs), its Kubernetes and cloud providers through
`opts`, checked at construction by the stack config's own store rules. No `from __future__
import annotations`: Pulumi's component analyzer reads the annotations.
"""

import functools
from typing import Any, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform import versions
from gpu_platform.addons import helm
from gpu_platform.addons.platform_base import render_namespace
from gpu_platform.args import check, component_type, depends_on, supported_version
from gpu_platform.data import cnpg, schema_job
from gpu_platform.data.pgvector_schema import render_bootstrap_sql
from gpu_platform.data.storage import create_storage_class
from gpu_platform.data.store import (
    StoreClusterArgs,
    StoreSettings,
    create_backups,
    create_schema_job,
    publish_contract,
    store_settings,
)
from gpu_platform.data.store_args import VectorStoreArgs
from gpu_platform.manifests import register_custom
from gpu_platform.options import child_of
from gpu_platform.passwords import password_generator

TOKEN = "gpuplatform:data:PgVector"
# CloudNativePG generates the superuser's password into this Secret (enableSuperuserAccess).
SUPERUSER = schema_job.SecretAdmin(f"{cnpg.CLUSTER}-superuser")


class PgVectorArgs(TypedDict):
    """PostgreSQL with pgvector in a cluster, run by CloudNativePG, in namespace `data` (which
    must exist)."""

    store: VectorStoreArgs
    """The store: its size, replicas, vectors and backups."""
    cluster: StoreClusterArgs
    """The cluster it runs in and the cloud account its backups go to."""
    kubernetes_version: str
    """The cluster's Kubernetes minor version, e.g. "1.36" (the operator namespace's Pod
    Security labels)."""


def settings(args: PgVectorArgs, waits: list[pulumi.Resource]) -> tuple[StoreSettings, str]:
    """The args checked by the stack config's own rules: the store, and the Kubernetes version."""
    resolved = store_settings(
        "PgVectorArgs", args, engine="pgvector", mode="in-cluster", depends_on=waits
    )
    version: Any = args.get("kubernetes_version")
    check("PgVectorArgs", supported_version(version))
    return resolved, version


class PgVector(pulumi.ComponentResource):
    """CloudNativePG and one pgvector Cluster. Give it the Kubernetes provider and, with
    backups, the cloud's in `opts` (`providers=[...]`)."""

    connection: pulumi.Output[dict[str, Any]]
    """What a client needs (no password): engine, host, port, database, table, dimensions,
    distance, and the ConfigMap and Secret in each client namespace."""
    backup_url: pulumi.Output[str] | None
    """Where backups go (`s3://bucket` or `gs://bucket`); none without backups."""

    def __init__(self, name: str, args: PgVectorArgs, opts: pulumi.ResourceOptions | None = None):
        resolved, version = settings(args, depends_on(opts))
        super().__init__(component_type(TOKEN, "PgVector"), name, None, opts)
        self._build(name, resolved.with_providers(self), version)

    def _build(self, name: str, args: StoreSettings, kubernetes_version: str) -> None:
        store, production = args.store, args.production
        child = functools.partial(child_of, self, args.k8s_provider)
        keep = {"protect": production, "retain_on_delete": production}

        manifest = render_namespace(cnpg.OPERATOR_NAMESPACE, "restricted", kubernetes_version)
        namespace = k8s.core.v1.Namespace(
            f"{name}-operator-ns", metadata=manifest["metadata"], opts=child(args.depends_on)
        )
        operator = helm.release(
            f"{name}-operator",
            chart=versions.CLOUDNATIVE_PG_CHART,
            namespace=cnpg.OPERATOR_NAMESPACE,
            values=cnpg.render_operator_values(monitoring=args.prometheus is not None),
            timeout=600,
            opts=child([namespace, *args.depends_on, *args.monitoring_ready]),
        )
        storage_class = create_storage_class(
            f"{name}-storage", self, args.k8s_provider, args.cloud, production, args.depends_on
        )
        password = password_generator(name, self)("app-password")
        app_secret = k8s.core.v1.Secret(
            f"{name}-app-secret",
            metadata={
                "name": cnpg.APP_SECRET,
                "namespace": cnpg.NAMESPACE,
                "labels": {"cnpg.io/reload": "true"},
            },
            type="kubernetes.io/basic-auth",
            string_data={"username": "rag_app", "password": password},
            opts=child(args.depends_on),
        )

        # CloudNativePG runs the instances as a service account named after the Cluster.
        backups = create_backups(f"{name}-backups", self, args, cnpg.CLUSTER, expire=False)
        self.backup_url = backups.url

        cluster_manifest = pulumi.Output.all(
            url=backups.url,
            annotations=backups.service_account_annotations,
            checked=args.checked,
        ).apply(
            lambda resolved: cnpg.render_cluster(
                store,
                production=production,
                backup_destination=resolved["url"],
                cloud=args.cloud,
                service_account_annotations=resolved["annotations"],
            )
        )
        cluster = k8s.apiextensions.CustomResource(
            f"{name}-cluster",
            api_version="postgresql.cnpg.io/v1",
            kind="Cluster",
            metadata=cnpg.render_cluster(store, production=production)["metadata"],
            spec=cluster_manifest["spec"],
            opts=child([operator, storage_class, app_secret, *backups.ready], **keep),
        )
        if store.backups.enabled:
            register_custom(
                f"{name}-daily-backup", cnpg.render_scheduled_backup(), child([cluster])
            )
        policy = cnpg.render_network_policy(store.client_namespaces)
        k8s.networking.v1.NetworkPolicy(
            f"{name}-ingress",
            metadata=policy["metadata"],
            spec=policy["spec"],
            opts=child(args.depends_on),
        )
        if args.prometheus is not None:
            register_custom(
                f"{name}-monitor",
                cnpg.render_pod_monitor(),
                child([*args.depends_on, *args.monitoring_ready]),
            )

        content = schema_job.files(
            render_bootstrap_sql(cnpg.schema(store)), rds_admin=False, app_password=False
        )
        job = schema_job.render_job(
            content,
            versions.POSTGRES_IMAGES[store.postgres_version],
            SUPERUSER,
            host=f"{cnpg.CLUSTER}-rw",
        )
        schema = create_schema_job(name, self, args, content, job, after=[cluster])

        publish_contract(
            name,
            self,
            args,
            contract=lambda namespace: cnpg.render_connection(store, namespace),
            secret_type="kubernetes.io/basic-auth",
            secret={"username": "rag_app", "password": password},
            after=[schema],
        )
        self.connection = pulumi.Output.from_input(cnpg.render_output(store))
        self.register_outputs({"connection": self.connection})
