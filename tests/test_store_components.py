"""The vector stores as public components: PgVector, ManagedPgVector and Weaviate take typed
args (the store as the stack config's own VectorStoreSpec spells it, the cluster it serves),
their providers through resource options, and refuse bad args before creating anything, naming
the key as the schema spells it."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from harness import run_mocked

from gpu_platform.args import ArgsError
from gpu_platform.data.managed_pgvector import ManagedPgVector, ManagedPgVectorArgs
from gpu_platform.data.pgvector import PgVector, PgVectorArgs
from gpu_platform.data.weaviate import Weaviate, WeaviateArgs
from tools.mockengine import Recording

AWS = {"cloud": "aws", "region": "us-east-1", "cluster_name": "team-gpu"}
GCP = {"cloud": "gcp", "region": "us-central1", "project": "team-ml"}
AWS_NETWORK = {"vpc_id": "vpc-1", "subnet_ids": ["subnet-1"], "cluster_security_group_id": "sg-1"}


def _providers(cloud: str) -> list[pulumi.ProviderResource]:
    import pulumi_aws as aws
    import pulumi_gcp as gcp
    import pulumi_kubernetes as k8s

    account = (
        aws.Provider("account", region="us-east-1")
        if cloud == "aws"
        else gcp.Provider("account", project="team-ml", region="us-central1")
    )
    return [k8s.Provider("cluster", kubeconfig="{}"), account]


def _run(make: Any, cloud: str = "aws") -> Recording:
    return run_mocked(lambda: make(pulumi.ResourceOptions(providers=_providers(cloud))))


def _refused(make: Any) -> list[str]:
    """The problems a component reports, checked to come before any resource."""
    problems: list[str] = []

    def program() -> None:
        try:
            make()
        except ArgsError as error:
            problems.extend(error.problems)

    assert run_mocked(program).resources == []
    return problems


def test_pgvector_takes_its_providers_from_options_and_is_not_scraped_without_prometheus() -> None:
    recording = _run(
        lambda opts: PgVector(
            "vectors",
            PgVectorArgs(
                store={"dimensions": 768, "backups": {"enabled": True}},
                cluster=AWS,  # type: ignore[typeddict-item]
                kubernetes_version="1.36",
            ),
            opts=opts,
        )
    )
    custom = [r for r in recording.resources if r.custom and not r.type.startswith("pulumi:")]
    by_package: dict[str, set[str | None]] = {}
    for resource in custom:
        by_package.setdefault(resource.type.split(":")[0], set()).add(resource.provider)
    assert by_package["kubernetes"] == {"pulumi:providers:kubernetes::cluster"}
    assert by_package["aws"] == {"pulumi:providers:aws::account"}
    # The backup writer's Pod Identity association names the cluster it was given.
    association = recording.one("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert association.inputs["clusterName"] == "team-gpu"
    assert not [r for r in custom if r.inputs.get("kind") == "PodMonitor"]
    operator = recording.one("kubernetes:helm.sh/v3:Release", "vectors-operator")
    assert operator.inputs["values"]["monitoring"]["podMonitorEnabled"] is False
    cluster = recording.one("kubernetes:postgresql.cnpg.io/v1:Cluster", "vectors-cluster")
    assert cluster.inputs["spec"]["instances"] == 1
    destination = cluster.inputs["spec"]["backup"]["barmanObjectStore"]["destinationPath"]
    assert destination.startswith("s3://vectors-backups-")


def test_a_store_with_prometheus_is_scraped_once_its_crds_exist() -> None:
    def make(opts: pulumi.ResourceOptions) -> None:
        import pulumi_kubernetes as k8s

        prometheus = k8s.helm.v3.Release(
            "prometheus",
            chart="kube-prometheus-stack",
            opts=pulumi.ResourceOptions(
                provider=opts.providers[0]  # type: ignore[index]
            ),
        )
        PgVector(
            "vectors",
            PgVectorArgs(
                store={},
                cluster={**AWS, "prometheus_release": prometheus},  # type: ignore[typeddict-item]
                kubernetes_version="1.36",
            ),
            opts=opts,
        )

    recording = _run(make)
    monitor = recording.one("kubernetes:monitoring.coreos.com/v1:PodMonitor", "vectors-monitor")
    assert "kubernetes:helm.sh/v3:Release::prometheus" in monitor.options["dependsOn"]
    operator = recording.one("kubernetes:helm.sh/v3:Release", "vectors-operator")
    assert operator.inputs["values"]["monitoring"]["podMonitorEnabled"] is True


def test_managed_pgvector_on_gke_places_cloud_sql_in_the_given_network() -> None:
    recording = _run(
        lambda opts: ManagedPgVector(
            "vectors",
            ManagedPgVectorArgs(
                store={"dimensions": 1024},
                cluster=GCP,  # type: ignore[typeddict-item]
                environment="team",
                network_id="projects/team-ml/global/networks/gpu",
                create_peering=False,
            ),
            opts=opts,
        ),
        cloud="gcp",
    )
    database = recording.one("gcp:sql/databaseInstance:DatabaseInstance")
    assert database.provider == "pulumi:providers:gcp::account"
    network = database.inputs["settings"]["ipConfiguration"]
    assert network["privateNetwork"] == "projects/team-ml/global/networks/gpu"
    assert network["ipv4Enabled"] is False
    # The network already has private services access: nothing is peered.
    assert not [r for r in recording.resources if r.type.startswith("gcp:servicenetworking")]


def test_weaviate_vectorizes_with_the_named_served_model() -> None:
    recording = _run(
        lambda opts: Weaviate(
            "weaviate",
            WeaviateArgs(
                store={"dimensions": 384, "embedding_model": "bge-small"},
                cluster=AWS,  # type: ignore[typeddict-item]
            ),
            opts=opts,
        )
    )
    bootstrap = recording.one("kubernetes:core/v1:ConfigMap", "weaviate-bootstrap")
    collection = json.loads(bootstrap.inputs["data"]["collection.json"])
    vectorizer = collection["moduleConfig"]["text2vec-openai"]
    assert vectorizer["baseURL"] == "http://vllm-bge-small.inference.svc.cluster.local:8000"
    assert vectorizer["model"] == "bge-small"
    connection = recording.one("kubernetes:core/v1:ConfigMap", "weaviate-inference-connection")
    assert "bge-small" in json.dumps(connection.inputs["data"])


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lambda: PgVector(
                "v",
                PgVectorArgs(
                    store={"engine": "weaviate"},  # type: ignore[typeddict-unknown-key]
                    cluster=AWS,  # type: ignore[typeddict-item]
                    kubernetes_version="1.36",
                ),
            ),
            "PgVectorArgs.store.engine: the component sets it; remove it",
        ),
        (
            lambda: PgVector(
                "v",
                PgVectorArgs(
                    store={"dimensions": 5000},
                    cluster=AWS,  # type: ignore[typeddict-item]
                    kubernetes_version="1.36",
                ),
            ),
            "PgVectorArgs.store.dimensions: ",
        ),
        (
            lambda: PgVector(
                "v",
                PgVectorArgs(
                    store={"replicas": 1},
                    cluster={**AWS, "production": True},  # type: ignore[typeddict-item]
                    kubernetes_version="1.36",
                ),
            ),
            "PgVectorArgs.store.backups.enabled: production keeps backups",
        ),
        (
            lambda: PgVector(
                "v",
                PgVectorArgs(
                    store={"backups": {"enabled": True}},
                    cluster={"cloud": "aws", "region": "us-east-1"},
                    kubernetes_version="1.36",
                ),
            ),
            "PgVectorArgs.cluster.clusterName: required on aws",
        ),
        (
            lambda: Weaviate(
                "w",
                WeaviateArgs(
                    store={},
                    cluster={"cloud": "gcp", "region": "us-central1"},
                ),
            ),
            "WeaviateArgs.cluster.project: required on gcp",
        ),
        (
            lambda: Weaviate(
                "w",
                WeaviateArgs(store={"postgres_version": "17"}, cluster=GCP),  # type: ignore[typeddict-item]
            ),
            "WeaviateArgs.store.postgresVersion: pgvector only",
        ),
        (
            lambda: ManagedPgVector(
                "m",
                ManagedPgVectorArgs(
                    store={"storage_gib": 10},
                    cluster=AWS,  # type: ignore[typeddict-item]
                    environment="team",
                    **AWS_NETWORK,  # type: ignore[typeddict-item]
                ),
            ),
            # The schema's name (`storageGib`), not the stack config's (`storageGiB`).
            "ManagedPgVectorArgs.store.storageGib: at least 20",
        ),
        (
            lambda: ManagedPgVector(
                "m",
                ManagedPgVectorArgs(
                    store={},
                    cluster=AWS,
                    environment="team",
                    network_id="n",  # type: ignore[typeddict-item]
                ),
            ),
            "ManagedPgVectorArgs.vpcId: required on aws",
        ),
        (
            lambda: ManagedPgVector(
                "m",
                ManagedPgVectorArgs(
                    store={},
                    cluster=AWS,
                    environment="team",
                    network_id="n",  # type: ignore[typeddict-item]
                ),
            ),
            "ManagedPgVectorArgs.networkId: gcp only; remove it",
        ),
        (
            lambda: ManagedPgVector(
                "m",
                ManagedPgVectorArgs(
                    store={},
                    cluster=GCP,
                    environment="Team_1",
                    network_id="n",  # type: ignore[typeddict-item]
                ),
            ),
            "ManagedPgVectorArgs.environment: lowercase letters",
        ),
        (
            lambda: ManagedPgVector(
                "m",
                ManagedPgVectorArgs(
                    store={"instance_class": "n2-standard-4", "backups": {"retention_days": 90}},
                    cluster=AWS,  # type: ignore[typeddict-item]
                    environment="team",
                    **AWS_NETWORK,  # type: ignore[typeddict-item]
                ),
            ),
            # The managed database's own limits, as the stack config checks them.
            "ManagedPgVectorArgs.store.instanceClass: not a RDS instance class",
        ),
        (
            lambda: Weaviate(
                "w",
                WeaviateArgs(store={"embedding_model": "BGE Small/v1"}, cluster=AWS),  # type: ignore[typeddict-item]
            ),
            "WeaviateArgs.store.embeddingModel: 'BGE Small/v1' is not a served model's name",
        ),
    ],
    ids=[
        "engine-is-the-components",
        "dimensions",
        "production-backups",
        "eks-cluster-name",
        "gke-project",
        "engine-rules",
        "schema-key-names",
        "aws-network",
        "other-clouds-network",
        "environment",
        "managed-limits",
        "vectorizer-name",
    ],
)
def test_bad_store_args_are_refused_before_anything_is_created(make: Any, expected: str) -> None:
    problems = _refused(make)
    assert any(p.startswith(expected) for p in problems), problems
