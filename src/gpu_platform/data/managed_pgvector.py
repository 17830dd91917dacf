"""ManagedPgVector: pgvector on the cloud's managed PostgreSQL (Amazon RDS or Cloud SQL), reachable
only from the cluster, prepared by the same bootstrap SQL and schema Job as the in-cluster store.

The application role's password is generated (a secret in Pulumi's state, never in config or
outputs) and set by the schema Job; clients read it from the `vector-store` Secret in their
namespace, next to the ConfigMap with the database's private address.

A public component: typed args (ManagedPgVectorArgs), its Kubernetes and cloud providers
through `opts`, checked at construction by the stack config's own store rules. No `from
__future__ import annotations`: Pulumi's component analyzer reads the annotations.
"""

import functools
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform import labels, versions
from gpu_platform.args import check, component_type, depends_on, spec_key
from gpu_platform.data import cnpg, managed, schema_job
from gpu_platform.data.cloudsql import create_cloud_sql
from gpu_platform.data.pgvector_schema import render_bootstrap_sql
from gpu_platform.data.rds import create_rds
from gpu_platform.data.spec import VectorStoreSpec
from gpu_platform.data.store import (
    StoreClusterArgs,
    StoreSettings,
    create_schema_job,
    publish_contract,
    store_settings,
)
from gpu_platform.data.store_args import VectorStoreArgs
from gpu_platform.options import child_of
from gpu_platform.passwords import password_generator

TOKEN = "gpuplatform:data:ManagedPgVector"
ADMIN_SECRET = "vector-store-admin"
"""Cloud SQL: the admin user's credentials, for the schema Job."""


class ManagedPgVectorArgs(TypedDict):
    """pgvector on Amazon RDS (EKS) or Cloud SQL (GKE) in the cluster's network, prepared by a
    schema Job in namespace `data` (which must exist)."""

    store: VectorStoreArgs
    """The store: its machine, size, vectors and backups."""
    cluster: StoreClusterArgs
    """The cluster whose pods use the database, and the cloud account it runs in."""
    environment: str
    """Names the database instance (`<environment>-vectors`) and its final snapshot:
    lowercase letters, digits and '-', starting with a letter, at most 20 characters."""
    vpc_id: NotRequired[pulumi.Input[str]]
    """EKS: the cluster's VPC (required there)."""
    subnet_ids: NotRequired[pulumi.Input[list[str]]]
    """EKS: the cluster's private subnets, the database's subnet group (required there)."""
    cluster_security_group_id: NotRequired[pulumi.Input[str]]
    """EKS: the cluster's security group, the only one the database admits (required
    there)."""
    network_id: NotRequired[pulumi.Input[str]]
    """GKE: the cluster's VPC network (required there)."""
    create_peering: NotRequired[bool]
    """GKE: reserve a range and peer the network for private services access; false on a
    network that already has it. Default: true."""


# What each cloud places the database with.
_NETWORK = {
    "aws": {
        "vpc_id": "vpcId",
        "subnet_ids": "subnetIds",
        "cluster_security_group_id": "clusterSecurityGroupId",
    },
    "gcp": {"network_id": "networkId"},
}


def network_problems(cloud: str, args: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Each cloud's network args given, the other cloud's left out."""
    problems = [
        (key, f"required on {cloud}")
        for name, key in _NETWORK.get(cloud, {}).items()
        if args.get(name) is None
    ]
    for other, keys in _NETWORK.items():
        if other != cloud:
            problems += [
                (key, f"{other} only; remove it") for name, key in keys.items() if name in args
            ]
    if cloud == "aws" and "create_peering" in args:
        problems.append(("createPeering", "gcp only; remove it"))
    return problems


class _Network:
    """Where the database goes, from ManagedPgVectorArgs."""

    def __init__(self, args: Mapping[str, Any]):
        self.vpc_id = args.get("vpc_id")
        self.subnet_ids = args.get("subnet_ids")
        self.cluster_security_group_id = args.get("cluster_security_group_id")
        self.network_id = args.get("network_id")
        self.create_peering = bool(args.get("create_peering", True))


class ManagedPgVector(pulumi.ComponentResource):
    """RDS or Cloud SQL with pgvector, its schema, and the connection contract. Give it the
    Kubernetes provider and the cloud's in `opts` (`providers=[...]`)."""

    connection: pulumi.Output[dict[str, Any]]
    """What a client needs (no password): engine, the database's private address, port,
    database, table, dimensions, distance, and the ConfigMap and Secret in each client
    namespace."""

    def __init__(
        self, name: str, args: ManagedPgVectorArgs, opts: pulumi.ResourceOptions | None = None
    ):
        component = "ManagedPgVectorArgs"
        resolved = store_settings(
            component, args, engine="pgvector", mode="managed", depends_on=depends_on(opts)
        )
        environment = args.get("environment")
        problems = network_problems(resolved.cloud, args)
        problems += [
            (spec_key("store", p.path, VectorStoreSpec), p.message)
            for p in managed.problems(resolved.store, resolved.cloud)
        ]
        if not labels.ENVIRONMENT.fullmatch(str(environment or "")):
            problems.append(("environment", labels.ENVIRONMENT_RULE))
        check(component, problems)
        super().__init__(component_type(TOKEN, "ManagedPgVector"), name, None, opts)
        self._build(name, resolved.with_providers(self), str(environment), _Network(args))

    def _build(self, name: str, args: StoreSettings, environment: str, network: _Network) -> None:
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
                environment=environment,
                region=args.region or "",
                provider=args.cloud_provider,
                vpc_id=network.vpc_id,
                subnet_ids=network.subnet_ids,
                cluster_security_group_id=network.cluster_security_group_id,
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
                network=network.network_id,
                create_peering=network.create_peering,
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
        self.connection = pulumi.Output.from_input(cnpg.render_output(store, address, address))
        self.register_outputs({"connection": self.connection})
