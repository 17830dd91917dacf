"""pgvector on the cloud's managed PostgreSQL: config rules by key path, Amazon RDS (private,
encrypted, its password kept by RDS, reachable from the cluster only, highly available and
protected in production), Cloud SQL (private IP only, private services access only on a network
the stack owns), the schema Job wired to each, and the cost estimate."""

from __future__ import annotations

import json
from typing import Any

import pytest
from harness import platform_config, run_main
from upstream_checks import recorded_object_errors

from gpu_platform.data import cloudsql, prices, schema_job
from gpu_platform.data.spec import VectorStoreSpec
from stacks.config import ConfigError, parse
from stacks.estimate import estimate
from tools.mockengine import SECRET, Recording

RDS = "aws:rds/instance:Instance"
CLOUD_SQL = "gcp:sql/databaseInstance:DatabaseInstance"


def _managed(stack: str, **settings: Any) -> dict[str, Any]:
    config = platform_config(stack)
    dimensions = {"prod": 1024, "dev": 384, "gcp-dev": 384}[stack]
    config["vectorStore"] = {
        "engine": "pgvector",
        "mode": "managed",
        "dimensions": dimensions,
        **({"backups": {"enabled": True, "retentionDays": 14}} if stack == "prod" else {}),
        **settings,
    }
    return config


def _problems(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(config)
    return caught.value.problems


# --- config --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "settings", "expected"),
    [
        ("dev", {"replicas": 2}, "vectorStore.replicas: not used with managed"),
        ("dev", {"storageGiB": 10}, "vectorStore.storageGiB: at least 20"),
        ("dev", {"instanceClass": "r7g.large"}, "vectorStore.instanceClass: not a RDS instance"),
        (
            "gcp-dev",
            {"instanceClass": "db.r7g.large"},
            "vectorStore.instanceClass: not a Cloud SQL tier, such as db-custom-2-7680",
        ),
        (
            "prod",
            {"backups": {"enabled": True, "retentionDays": 60}},
            "vectorStore.backups.retentionDays: RDS keeps automated backups at most 35 days",
        ),
        (
            "prod",
            {"backups": {"enabled": False}},
            "vectorStore.backups.enabled: production keeps backups",
        ),
    ],
)
def test_bad_managed_settings_name_their_key(
    stack: str, settings: dict[str, Any], expected: str
) -> None:
    problems = _problems(_managed(stack, **settings))
    assert any(p.startswith(expected) for p in problems), problems


def test_managed_is_pgvector_only_and_machines_are_managed_only() -> None:
    with pytest.raises(ValueError, match="managed is pgvector only"):
        VectorStoreSpec(engine="weaviate", mode="managed")
    with pytest.raises(ValueError, match="instanceClass: managed only"):
        VectorStoreSpec(engine="pgvector", instanceClass="db.r7g.large")
    # Production needs no replicas count: the provider runs the standby.
    assert parse(_managed("prod")).vector_store.replicas == 1


# --- Amazon RDS ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rds() -> Recording:
    return run_main(_managed("prod"), stack="prod")


def test_rds_is_private_encrypted_highly_available_and_protected(rds: Recording) -> None:
    instance = rds.one(RDS)
    inputs = instance.inputs
    assert instance.options["protect"] is True
    expected = {
        "identifier": "prod-vectors",
        "engine": "postgres",
        "engineVersion": "17",
        "instanceClass": "db.r7g.large",
        "allocatedStorage": 20,
        "storageType": "gp3",
        "storageEncrypted": True,
        "dbName": "rag",
        "manageMasterUserPassword": True,
        "publiclyAccessible": False,
        "multiAz": True,
        "performanceInsightsEnabled": True,
        "backupRetentionPeriod": 14,
        "deletionProtection": True,
        "skipFinalSnapshot": False,
        "finalSnapshotIdentifier": "prod-vectors-final",
    }
    assert {key: inputs[key] for key in expected} == expected
    assert "password" not in inputs  # RDS keeps it in Secrets Manager, never Pulumi
    parameters = rds.one("aws:rds/parameterGroup:ParameterGroup").inputs
    assert parameters["family"] == "postgres17"
    assert parameters["parameters"] == [{"name": "rds.force_ssl", "value": "1"}]
    firewall = rds.one("aws:ec2/securityGroup:SecurityGroup", "prod-vectors-rds-firewall")
    (rule,) = firewall.inputs["ingress"]
    assert (rule["fromPort"], rule["toPort"], rule["protocol"]) == (5432, 5432, "tcp")
    assert rule["securityGroups"] == [f"sg-{_cluster_sg(rds)}"]
    assert "cidrBlocks" not in rule


def _cluster_sg(recording: Recording) -> str:
    from tools.mockdata import _digest

    return _digest("prod-cluster-cluster", "cluster")


def test_the_schema_job_reads_only_the_rds_secret_with_its_own_identity(rds: Recording) -> None:
    job = rds.one("kubernetes:batch/v1:Job", "prod-vectors-schema").inputs
    pod = job["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == schema_job.SERVICE_ACCOUNT
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    arn = env["ADMIN_SECRET_ARN"]
    assert arn.startswith("arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-")
    assert env["PGUSER"] == "rag_admin" and env["AWS_REGION"] == "us-east-1"
    assert env["PGHOST"].endswith(".us-east-1.rds.amazonaws.com")
    policy = json.loads(
        rds.one("aws:iam/rolePolicy:RolePolicy", "prod-vectors-rds-schema-read").inputs["policy"]
    )
    assert policy["Statement"] == [
        {
            "Sid": "ReadMasterPassword",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": arn,
        }
    ]
    association = rds.one(
        "aws:eks/podIdentityAssociation:PodIdentityAssociation", "prod-vectors-rds-schema-identity"
    ).inputs
    assert (association["namespace"], association["serviceAccount"]) == ("data", "vector-schema")
    scripts = rds.one("kubernetes:core/v1:ConfigMap", "prod-vectors-schema-sql").inputs["data"]
    assert set(scripts) == {"bootstrap.sql", "app_password.sql", "rds_admin_password.py"}
    assert job["metadata"]["name"] == schema_job.job_name(scripts)
    contract = rds.one("kubernetes:core/v1:ConfigMap", "prod-vectors-inference-connection")
    assert contract.inputs["data"]["host"] == env["PGHOST"]
    assert contract.inputs["data"]["readHost"] == env["PGHOST"]  # the standby takes no reads
    credentials = rds.one("kubernetes:core/v1:Secret", "prod-vectors-inference-credentials")
    assert credentials.inputs["stringData"] == SECRET
    assert rds.outputs["vectorStore"]["mode"] == "managed"


def test_the_estimate_prices_the_database_and_its_standby() -> None:
    items = {i.name: i for i in estimate(parse(_managed("prod"))).items}
    instance, storage = items["vector-store-instance"], items["vector-store-storage"]
    assert (instance.machine_type, instance.nodes_min) == ("db.r7g.large", 2)
    assert instance.usd_per_node_hour == prices.RDS_USD_PER_HOUR["db.r7g.large"]
    assert storage.monthly_max == pytest.approx(2 * 20 * prices.RDS_STORAGE_USD_PER_GIB_MONTH)
    # No system node is kept for it, as an in-cluster store's instances would need.
    assert items["system-nodes"].nodes_min == 2
    raw = _managed("dev", instanceClass="db.x2g.large")
    unknown = {i.name: i for i in estimate(parse(raw)).items}["vector-store-instance"]
    assert unknown.usd_per_node_hour == 0 and "pricing.hourlyUsd" in unknown.basis
    raw["pricing"] = {"hourlyUsd": {"db.x2g.large": 0.5}}
    known = {i.name: i for i in estimate(parse(raw)).items}["vector-store-instance"]
    assert (known.usd_per_node_hour, known.nodes_min) == (0.5, 1)


# --- Cloud SQL -----------------------------------------------------------------------------


def test_cloud_sql_on_a_network_the_stack_creates_peers_it_gcp() -> None:
    recording = run_main(_managed("gcp-dev"), stack="gcp-dev")
    instance = recording.one(CLOUD_SQL)
    settings = instance.inputs["settings"]
    assert settings["ipConfiguration"] == {
        "ipv4Enabled": False,
        "privateNetwork": settings["ipConfiguration"]["privateNetwork"],
        "sslMode": "ENCRYPTED_ONLY",
    }
    network = recording.one("gcp:compute/network:Network").name
    assert settings["ipConfiguration"]["privateNetwork"].startswith(network)
    assert (settings["availabilityType"], settings["tier"]) == ("ZONAL", "db-custom-1-3840")
    assert instance.inputs["databaseVersion"] == "POSTGRES_17"
    reserved = recording.one("gcp:compute/globalAddress:GlobalAddress").inputs
    assert (reserved["purpose"], reserved["prefixLength"]) == ("VPC_PEERING", 20)
    peering = recording.one("gcp:servicenetworking/connection:Connection")
    assert peering.key in instance.options["dependsOn"]
    admin = recording.one("gcp:sql/user:User")
    assert admin.inputs["password"] == SECRET
    # Granted roles in SQL, it cannot be deleted through the API: the instance takes it along.
    assert admin.inputs["deletionPolicy"] == "ABANDON"
    # Cloud SQL grows the disk; a grown disk must not read as a change to replace for.
    assert instance.options["ignoreChanges"] == ["settings.diskSize"]
    assert settings["diskAutoresizeLimit"] == 4 * 20
    job = recording.one("kubernetes:batch/v1:Job", "gcp-dev-vectors-schema").inputs["spec"][
        "template"
    ]["spec"]
    env = {e["name"]: e for e in job["containers"][0]["env"]}
    assert env["PGUSER"]["valueFrom"]["secretKeyRef"]["name"] == "vector-store-admin"
    assert "serviceAccountName" not in job


def test_an_adopted_gke_network_is_not_repeered_gcp() -> None:
    """A network has one private services peering, shared by every service on it: the stack
    uses it and never replaces its ranges."""
    config = _managed("gcp-dev")
    config["cluster"]["create"] = False
    recording = run_main(config, stack="gcp-dev")
    assert recording.of_type("gcp:compute/globalAddress:GlobalAddress") == []
    assert recording.of_type("gcp:servicenetworking/connection:Connection") == []
    settings = recording.one(CLOUD_SQL).inputs["settings"]
    assert settings["ipConfiguration"]["privateNetwork"].endswith("/global/networks/default")


def test_production_cloud_sql_is_regional_recoverable_and_protected() -> None:
    store = VectorStoreSpec(
        engine="pgvector", mode="managed", backups={"enabled": True, "retentionDays": 30}
    )
    settings = cloudsql.settings(store, True, "projects/p/global/networks/n")
    assert settings["availability_type"] == "REGIONAL"
    assert settings["deletion_protection_enabled"] is True
    backups = settings["backup_configuration"]
    assert backups["point_in_time_recovery_enabled"] is True
    assert backups["transaction_log_retention_days"] == 7  # Cloud SQL's most
    assert backups["backup_retention_settings"]["retained_backups"] == 30


def test_every_kubernetes_object_passes_its_schema(rds: Recording) -> None:
    validated, problems = recorded_object_errors(rds.resources, "1.36")
    assert problems == {} and validated >= 20
