"""Amazon RDS for PostgreSQL for the managed pgvector store: a private, encrypted instance in the
cluster's private subnets that only the cluster's nodes and pods reach, its master password kept
by RDS in AWS Secrets Manager (never in Pulumi's state), and read access to that secret for
exactly the schema Job's service account.

Production: Multi-AZ (a synchronous standby in another zone), Performance Insights, deletion
protection and a final snapshot, and the instance protected in Pulumi.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from gpu_platform.aws.pod_identity import create_pod_identity
from gpu_platform.data import schema_job
from gpu_platform.data.managed import instance_class
from gpu_platform.data.spec import VectorStoreSpec
from gpu_platform.options import child_of

ADMIN_USER = "rag_admin"
BACKUP_WINDOW = "03:00-04:00"  # UTC
MAINTENANCE_WINDOW = "sun:04:30-sun:05:30"  # UTC, after the backup window
# Storage grows by itself up to this multiple of what is allocated.
STORAGE_GROWTH = 4


def parameters(major: str) -> tuple[str, list[dict[str, str]]]:
    """The parameter group family and its settings: TLS required of every client."""
    return f"postgres{major}", [{"name": "rds.force_ssl", "value": "1"}]


def render_secret_read_policy(secret_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReadMasterPassword",
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": secret_arn,
                }
            ],
        }
    )


@dataclass(frozen=True)
class RdsDatabase:
    address: pulumi.Output[str]
    admin: pulumi.Output[schema_job.RdsAdmin]
    ready: list[pulumi.Resource]


def create_rds(
    name: str,
    parent: pulumi.Resource,
    *,
    store: VectorStoreSpec,
    production: bool,
    environment: str,
    region: str,
    provider: pulumi.ProviderResource,
    vpc_id: pulumi.Input[str],
    subnet_ids: pulumi.Input[list[str]],
    cluster_security_group_id: pulumi.Input[str],
    cluster_name: pulumi.Input[str],
    after: pulumi.Output[bool] | None,
) -> RdsDatabase:
    def opts(**extra) -> pulumi.ResourceOptions:
        return child_of(parent, provider, **extra)

    subnets = aws.rds.SubnetGroup(
        f"{name}-subnets",
        subnet_ids=subnet_ids,
        description=f"Private subnets of the {environment} vector store",
        opts=opts(),
    )
    firewall = aws.ec2.SecurityGroup(
        f"{name}-firewall",
        vpc_id=vpc_id,
        description="PostgreSQL from the cluster's nodes and pods only",
        ingress=[
            {
                "protocol": "tcp",
                "from_port": schema_job.PORT,
                "to_port": schema_job.PORT,
                "security_groups": [cluster_security_group_id],
                "description": "the EKS cluster security group",
            }
        ],
        opts=opts(),
    )
    family, settings = parameters(store.postgres_version)
    parameter_group = aws.rds.ParameterGroup(
        f"{name}-parameters",
        family=family,
        description="TLS required",
        parameters=settings,
        opts=opts(),
    )
    identifier = f"{environment}-vectors"
    backups = store.backups
    instance = aws.rds.Instance(
        f"{name}-instance",
        # Known once a production stack's check of the deployed store passed: nothing is
        # created or changed before.
        identifier=after.apply(lambda _: identifier) if after is not None else identifier,
        engine="postgres",
        engine_version=store.postgres_version,
        auto_minor_version_upgrade=True,
        instance_class=instance_class(store, "aws", production),
        allocated_storage=store.storage_gib,
        max_allocated_storage=store.storage_gib * STORAGE_GROWTH,
        storage_type="gp3",
        storage_encrypted=True,
        db_name=schema_job.DATABASE,
        username=ADMIN_USER,
        manage_master_user_password=True,
        db_subnet_group_name=subnets.name,
        vpc_security_group_ids=[firewall.id],
        parameter_group_name=parameter_group.name,
        publicly_accessible=False,
        multi_az=production,
        performance_insights_enabled=production,
        backup_retention_period=backups.retention_days if backups.enabled else 0,
        backup_window=BACKUP_WINDOW,
        maintenance_window=MAINTENANCE_WINDOW,
        copy_tags_to_snapshot=True,
        deletion_protection=production,
        skip_final_snapshot=not production,
        final_snapshot_identifier=f"{identifier}-final" if production else None,
        enabled_cloudwatch_logs_exports=["postgresql"],
        opts=opts(protect=production),
    )
    secret_arn = instance.master_user_secrets.apply(lambda secrets: secrets[0].secret_arn)
    access = create_pod_identity(
        f"{name}-schema",
        parent,
        provider,
        cluster_name=cluster_name,
        namespace=schema_job.NAMESPACE,
        service_account=schema_job.SERVICE_ACCOUNT,
        grant="read",
        policy=secret_arn.apply(render_secret_read_policy),
    )
    admin = secret_arn.apply(lambda arn: schema_job.RdsAdmin(ADMIN_USER, arn, region))
    return RdsDatabase(instance.address, admin, [instance, *access])
