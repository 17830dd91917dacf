"""Cloud SQL for PostgreSQL for the managed pgvector store: a private-IP-only instance in the
cluster's VPC network (through private services access), TLS required, with the `rag`
database and an admin user whose generated password lives in a Kubernetes Secret for the schema
Job (and, encrypted, in Pulumi's state).

Private services access is a peering of the network with Google's service producer network over
a reserved range. On a network the stack creates, the stack reserves the range and makes the
peering. On an adopted cluster's network (`cluster.create: false`) it does neither: a network
has one such peering, shared by every service that uses it, and replacing its ranges would cut
the others off. Such a network needs private services access set up beforehand (README).

Production: a regional (high-availability) instance, point-in-time recovery, Query Insights,
deletion protection in Cloud SQL and in Pulumi.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from gpu_platform.data import schema_job
from gpu_platform.data.managed import CLOUD_SQL_MAX_LOG_DAYS, instance_class
from gpu_platform.data.spec import VectorStoreSpec
from gpu_platform.options import child_of

ADMIN_USER = "rag_admin"
PEERING_PREFIX = 20  # a /20 reserved for Google-managed services in the network
# Storage grows by itself up to this multiple of what is configured.
STORAGE_GROWTH = 4


def settings(store: VectorStoreSpec, production: bool, network: str) -> dict:
    """The instance's `settings` block."""
    backups = store.backups
    return {
        "tier": instance_class(store, "gcp", production),
        "edition": "ENTERPRISE",
        "availability_type": "REGIONAL" if production else "ZONAL",
        "disk_type": "PD_SSD",
        "disk_size": store.storage_gib,
        "disk_autoresize": True,
        "disk_autoresize_limit": store.storage_gib * STORAGE_GROWTH,
        "deletion_protection_enabled": production,
        "ip_configuration": {
            "ipv4_enabled": False,
            "private_network": network,
            "ssl_mode": "ENCRYPTED_ONLY",
        },
        "backup_configuration": {
            "enabled": backups.enabled,
            "start_time": "03:00",
            "point_in_time_recovery_enabled": backups.enabled,
            "transaction_log_retention_days": min(backups.retention_days, CLOUD_SQL_MAX_LOG_DAYS),
            "backup_retention_settings": {
                "retained_backups": backups.retention_days,
                "retention_unit": "COUNT",
            },
        },
        "insights_config": {"query_insights_enabled": production},
        "maintenance_window": {"day": 7, "hour": 4},
        "user_labels": {"gpuplatform-store": "pgvector"},
    }


@dataclass(frozen=True)
class CloudSqlDatabase:
    address: pulumi.Output[str]
    ready: list[pulumi.Resource]


def create_cloud_sql(
    name: str,
    parent: pulumi.Resource,
    *,
    store: VectorStoreSpec,
    production: bool,
    project: str | None,
    region: str,
    provider: pulumi.ProviderResource,
    network: pulumi.Input[str],
    create_peering: bool,
    admin_password: pulumi.Output[str],
    after: pulumi.Output[bool] | None,
) -> CloudSqlDatabase:
    def opts(**extra) -> pulumi.ResourceOptions:
        return child_of(parent, provider, **extra)

    waits: list[pulumi.Resource] = []
    if create_peering:
        reserved = gcp.compute.GlobalAddress(
            f"{name}-services-range",
            project=project,
            purpose="VPC_PEERING",
            address_type="INTERNAL",
            prefix_length=PEERING_PREFIX,
            network=network,
            opts=opts(),
        )
        waits.append(
            gcp.servicenetworking.Connection(
                f"{name}-services-peering",
                network=network,
                service="servicenetworking.googleapis.com",
                reserved_peering_ranges=[reserved.name],
                # Google refuses to remove a peering a Cloud SQL instance still used moments
                # ago; the network's deletion removes it.
                deletion_policy="ABANDON",
                opts=opts(),
            )
        )
    configured = pulumi.Output.all(network=network, checked=after).apply(
        lambda resolved: settings(store, production, resolved["network"])
    )
    instance = gcp.sql.DatabaseInstance(
        f"{name}-instance",
        project=project,
        region=region,
        database_version=f"POSTGRES_{store.postgres_version}",
        settings=configured,
        deletion_protection=production,
        # Cloud SQL grows the disk itself; the configured size is only where it starts (a
        # changed size would otherwise replace the instance).
        opts=opts(protect=production, depends_on=waits, ignore_changes=["settings.diskSize"]),
    )
    database = gcp.sql.Database(
        f"{name}-database",
        project=project,
        instance=instance.name,
        name=schema_job.DATABASE,
        opts=opts(),
    )
    # A built-in user is a member of cloudsqlsuperuser: it may create the extension and roles.
    user = gcp.sql.User(
        f"{name}-admin",
        project=project,
        instance=instance.name,
        name=ADMIN_USER,
        password=admin_password,
        # A user that was granted roles in SQL cannot be deleted through the API; the
        # instance's deletion removes it.
        deletion_policy="ABANDON",
        opts=opts(),
    )
    return CloudSqlDatabase(instance.private_ip_address, [database, user])
