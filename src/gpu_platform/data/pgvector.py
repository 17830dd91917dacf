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
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform import versions
from gpu_platform.addons import helm
from gpu_platform.addons.platform_base import render_namespace
from gpu_platform.data import cnpg, schema_job
from gpu_platform.data.pgvector_schema import render_bootstrap_sql
from gpu_platform.data.storage import create_storage_class
from gpu_platform.data.store import (
    StoreArgs,
    create_backups,
    create_schema_job,
    publish_contract,
)
from gpu_platform.manifests import register_custom
from gpu_platform.options import child_of
from gpu_platform.passwords import password_generator

TOKEN = "gpuplatform:data:PgVector"
# CloudNativePG generates the superuser's password into this Secret (enableSuperuserAccess).
SUPERUSER = schema_job.SecretAdmin(f"{cnpg.CLUSTER}-superuser")


@dataclass(frozen=True, kw_only=True)
class PgVectorArgs(StoreArgs):
    kubernetes_version: str
    """Pins the operator namespace's Pod Security labels."""


class PgVector(pulumi.ComponentResource):
    """CloudNativePG and one pgvector Cluster."""

    connection: dict[str, pulumi.Input[str | int]]
    """What a client needs (no password): host, port, database, table, secret name."""
    backup_url: pulumi.Output[str] | None

    def __init__(self, name: str, args: PgVectorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TOKEN, name, None, opts)
        store, production = args.store, args.production
        child = functools.partial(child_of, self, args.k8s_provider)
        keep = {"protect": production, "retain_on_delete": production}

        manifest = render_namespace(cnpg.OPERATOR_NAMESPACE, "restricted", args.kubernetes_version)
        namespace = k8s.core.v1.Namespace(
            f"{name}-operator-ns", metadata=manifest["metadata"], opts=child(args.depends_on)
        )
        operator = helm.release(
            f"{name}-operator",
            chart=versions.CLOUDNATIVE_PG_CHART,
            namespace=cnpg.OPERATOR_NAMESPACE,
            values=cnpg.render_operator_values(),
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
        self.connection = cnpg.render_output(store)
        self.register_outputs({"connection": self.connection})
