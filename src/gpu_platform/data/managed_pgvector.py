"""ManagedPgVector: pgvector on the cloud's managed PostgreSQL (Amazon RDS or Cloud SQL), reachable
only from the cluster, prepared by the same bootstrap SQL and schema Job as the in-cluster store.

The application role's password is generated (a secret in Pulumi's state, never in config or
outputs) and set by the schema Job; clients read it from the `vector-store` Secret in their
namespace, next to the ConfigMap with the database's private address.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform import versions
from gpu_platform.data import cnpg, schema_job
from gpu_platform.data.cloudsql import create_cloud_sql
from gpu_platform.data.pgvector_schema import render_bootstrap_sql
from gpu_platform.data.rds import create_rds
from gpu_platform.data.store import (
    StoreArgs,
    create_schema_job,
    publish_contract,
)
from gpu_platform.options import child_of
from gpu_platform.passwords import password_generator

TOKEN = "gpuplatform:data:ManagedPgVector"
ADMIN_SECRET = "vector-store-admin"
"""Cloud SQL: the admin user's credentials, for the schema Job."""


@dataclass(frozen=True, kw_only=True)
class ManagedPgVectorArgs(StoreArgs):
    environment: str
    """Names the RDS instance (`<environment>-vectors`) and its final snapshot."""
    vpc_id: pulumi.Input[str] | None = None
    subnet_ids: pulumi.Input[list[str]] | None = None
    """EKS: the cluster's private subnets."""
    cluster_security_group_id: pulumi.Input[str] | None = None
    network_id: pulumi.Input[str] | None = None
    """GKE: the cluster's VPC network."""
    create_peering: bool = True
    """GKE: reserve a range and peer the network for private services access (only on a
    network the stack creates)."""


class ManagedPgVector(pulumi.ComponentResource):
    """RDS or Cloud SQL with pgvector, its schema, and the connection contract."""

    connection: dict[str, pulumi.Input[str | int]]

    def __init__(
        self, name: str, args: ManagedPgVectorArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(TOKEN, name, None, opts)
        store, production = args.store, args.production
        child = functools.partial(child_of, self, args.k8s_provider)
        generated = password_generator(name, self)

        app_password = generated("app-password")
        app_secret = k8s.core.v1.Secret(
            f"{name}-app-secret",
            metadata={"name": cnpg.APP_SECRET, "namespace": schema_job.NAMESPACE},
            type="kubernetes.io/basic-auth",
            string_data={"username": "rag_app", "password": app_password},
            opts=child(args.depends_on),
        )
        waits: list[pulumi.Resource] = [app_secret]
        if args.cloud == "aws":
            database = create_rds(
                f"{name}-rds",
                self,
                store=store,
                production=production,
                environment=args.environment,
                region=args.region or "",
                provider=args.cloud_provider,
                vpc_id=args.vpc_id,
                subnet_ids=args.subnet_ids,
                cluster_security_group_id=args.cluster_security_group_id,
                cluster_name=args.cluster_name,
                after=args.checked,
            )
            account = k8s.core.v1.ServiceAccount(
                f"{name}-schema-account",
                metadata={"name": schema_job.SERVICE_ACCOUNT, "namespace": schema_job.NAMESPACE},
                automount_service_account_token=False,
                opts=child(args.depends_on),
            )
            address, admin = database.address, database.admin
            waits += [*database.ready, account]
        else:
            admin_password = generated("admin-password")
            database = create_cloud_sql(
                f"{name}-cloudsql",
                self,
                store=store,
                production=production,
                project=args.project,
                region=args.region or "",
                provider=args.cloud_provider,
                network=args.network_id,
                create_peering=args.create_peering,
                admin_password=admin_password,
                after=args.checked,
            )
            admin_secret = k8s.core.v1.Secret(
                f"{name}-admin-secret",
                metadata={"name": ADMIN_SECRET, "namespace": schema_job.NAMESPACE},
                type="kubernetes.io/basic-auth",
                string_data={"username": "rag_admin", "password": admin_password},
                opts=child(args.depends_on),
            )
            address = database.address
            admin = pulumi.Output.from_input(schema_job.SecretAdmin(ADMIN_SECRET))
            waits += [*database.ready, admin_secret]

        sql = render_bootstrap_sql(cnpg.schema(store))
        content = schema_job.files(sql, rds_admin=args.cloud == "aws", app_password=True)
        image = versions.POSTGRES_IMAGES[store.postgres_version]
        job = pulumi.Output.all(admin, address).apply(
            lambda resolved: schema_job.render_job(
                content, image, resolved[0], resolved[1], cnpg.APP_SECRET
            )
        )
        schema = create_schema_job(name, self, args, content, job, after=waits)

        publish_contract(
            name,
            self,
            args,
            contract=lambda namespace: cnpg.render_connection(store, namespace, address, address),
            secret_type="kubernetes.io/basic-auth",
            secret={"username": "rag_app", "password": app_password},
            after=[schema],
        )
        self.connection = cnpg.render_output(store, address, address)
        self.register_outputs({"connection": self.connection})
