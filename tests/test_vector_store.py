"""The vector store: its config rules (each bad input named by its key), what the program
deploys for it in dev and production (checked against CloudNativePG's chart, CRDs and image
catalogue), its data protections, its connection contract, and the schema Job, whose own
shell command is run against a real PostgreSQL with pgvector."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import jsonschema
import pod_security
import pytest
from harness import gcp_production, gcp_production_config, platform_config, recorded, run_main
from upstream_checks import (
    UPSTREAM,
    chart_values,
    crd_errors,
    k8s_errors,
    load,
    unknown_keys,
)

from gpu_platform import versions
from gpu_platform.data import cnpg, schema_job
from gpu_platform.data.changes import change_problems
from gpu_platform.data.pgvector_schema import render_bootstrap_sql
from gpu_platform.data.spec import VectorStoreSpec
from stacks.config import ConfigError, parse
from tools.mockdata import PlanMocks
from tools.mockengine import SECRET, Recording

CLUSTER = "kubernetes:postgresql.cnpg.io/v1:Cluster"
JOB = "kubernetes:batch/v1:Job"
CNPG_CRDS = UPSTREAM / "charts/cloudnative-pg/templates/crds/crds.yaml"


def _problems(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(config)
    return caught.value.problems


def _store(stack: str, **settings: Any) -> dict[str, Any]:
    config = platform_config(stack)
    config["vectorStore"] = {**config.get("vectorStore", {}), **settings}
    return config


# --- config -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "settings", "expected"),
    [
        (
            "dev",
            {"dimensions": 4001},
            "vectorStore.dimensions: 4001 dimensions is more than pgvector's HNSW index takes",
        ),
        ("dev", {"dimensions": 0}, "vectorStore.dimensions: Input should be greater than"),
        ("dev", {"mode": "serverless"}, "vectorStore.mode: Input should be 'in-cluster' or"),
        ("dev", {"engine": "milvus"}, "vectorStore.engine: Input should be 'pgvector', 'weaviate'"),
        ("dev", {"postgresVersion": "14"}, "vectorStore.postgresVersion: Input should be"),
        (
            "dev",
            {"clientNamespaces": ["inference"]},
            "vectorStore.clientNamespaces: inference is always a client; remove it",
        ),
        (
            "dev",
            {"clientNamespaces": ["Apps"]},
            "vectorStore.clientNamespaces: 'Apps' is not a namespace name",
        ),
        (
            "prod",
            {"replicas": 1},
            "vectorStore.replicas: production needs at least 2 (a primary and a standby",
        ),
        (
            "prod",
            {"backups": {"enabled": False}},
            "vectorStore.backups.enabled: production keeps backups",
        ),
        (
            "prod",
            {"replicas": 5},
            "vectorStore.replicas: 5 instances need 5 system nodes (production keeps each on its "
            "own node) but cluster.systemNodes.maxNodes is 4",
        ),
    ],
)
def test_bad_store_settings_name_their_key(
    stack: str, settings: dict[str, Any], expected: str
) -> None:
    problems = _problems(_store(stack, **settings))
    assert any(p.startswith(expected) for p in problems), problems


def test_settings_of_no_store_are_refused_not_ignored() -> None:
    config = platform_config("dev")
    config["vectorStore"] = {"engine": "none", "replicas": 2, "backups": {"enabled": True}}
    config["models"].pop("bge-small")
    assert sorted(_problems(config)) == [
        "vectorStore.backups: not used with engine none; remove it or choose an engine",
        "vectorStore.replicas: not used with engine none; remove it or choose an engine",
    ]


def test_an_embedding_model_must_fill_the_store_with_vectors_of_its_size() -> None:
    config = _store("dev", dimensions=1024)
    assert _problems(config) == [
        "models.bge-small.source: returns 384-dimensional embeddings but vectorStore.dimensions "
        "is 1024; make them equal"
    ]
    # A model the catalogue does not know states its size, which is then held to the store's.
    model = config["models"]["bge-small"]
    model["source"] = "s3://models/my-encoder/"
    del model["revision"]
    assert _problems(config) == [
        "models.bge-small.dimensions: the catalogue of embedding models does not know "
        "s3://models/my-encoder/: set the size of the vectors it returns (hidden_size in its "
        "config.json)"
    ]
    model["dimensions"] = 768
    assert _problems(config) == [
        "models.bge-small.dimensions: returns 768-dimensional embeddings but "
        "vectorStore.dimensions is 1024; make them equal"
    ]
    model["dimensions"] = 1024
    assert parse(config).models["bge-small"].embedding_dimensions == 1024


def test_a_models_dimensions_cannot_contradict_the_catalogue_or_its_task() -> None:
    config = platform_config("dev")
    config["models"]["bge-small"]["dimensions"] = 512
    config["models"]["qwen-7b"]["dimensions"] = 384
    assert sorted(_problems(config)) == [
        "models.bge-small.dimensions: BAAI/bge-small-en-v1.5 returns 384-dimensional "
        "embeddings; remove it",
        "models.qwen-7b.dimensions: only an embedding model (task: embed) has it",
    ]


def test_without_a_store_an_embedding_model_needs_no_size() -> None:
    config = platform_config("dev")
    del config["vectorStore"]
    config["models"]["bge-small"]["source"] = "s3://models/my-encoder/"
    del config["models"]["bge-small"]["revision"]
    assert parse(config).vector_store.enabled is False


# --- what dev and prod deploy --------------------------------------------------------------


def _cluster(recording: Recording) -> dict[str, Any]:
    return recording.one(CLUSTER).inputs


def test_dev_runs_one_small_instance_without_backups_or_protection() -> None:
    dev = recorded("dev")
    cluster = _cluster(dev)
    assert cluster["metadata"] == {
        "name": "vectors",
        "namespace": "data",
        "labels": {"app.kubernetes.io/part-of": "gpu-platform"},
    }
    spec = cluster["spec"]
    assert spec["instances"] == 1
    assert spec["storage"] == {"size": "10Gi", "storageClass": "vector-store"}
    assert spec["imageName"] == versions.POSTGRES_IMAGES["17"]
    assert "backup" not in spec
    assert spec["affinity"]["podAntiAffinityType"] == "preferred"
    registration = dev.one(CLUSTER)
    assert not registration.options["protect"]
    storage = dev.one("kubernetes:storage.k8s.io/v1:StorageClass", "dev-vectors-storage")
    assert storage.inputs["reclaimPolicy"] == "Delete"
    # (its only bucket holds model weights, not backups)
    assert [b.name for b in dev.of_type("aws:s3/bucket:Bucket")] == ["dev-model-weights-bucket"]
    assert dev.of_type("kubernetes:postgresql.cnpg.io/v1:ScheduledBackup") == []


def test_prod_is_highly_available_backed_up_and_protected() -> None:
    prod = recorded("prod")
    spec = copy.deepcopy(_cluster(prod)["spec"])
    assert spec["instances"] == 3
    # Each instance on its own system node, spread over zones where nodes allow.
    assert spec["affinity"] == {
        "nodeSelector": {"gpuplatform.io/pool": "system"},
        "enablePodAntiAffinity": True,
        "topologyKey": "kubernetes.io/hostname",
        "podAntiAffinityType": "required",
    }
    assert spec["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    assert spec["storage"] == {"size": "100Gi", "storageClass": "vector-store-retain"}
    destination = spec["backup"]["barmanObjectStore"].pop("destinationPath")
    assert spec["backup"] == {
        "retentionPolicy": "14d",
        "barmanObjectStore": {
            "s3Credentials": {"inheritFromIAMRole": True},
            "wal": {"compression": "gzip", "maxParallel": 2},
            "data": {"compression": "gzip"},
        },
    }
    # The bucket the stack creates (named by the provider from its prefix), in a folder of
    # the Cluster's name.
    assert re.fullmatch(r"s3://prod-vectors-backups-bucket-[0-9a-f]{8}/vectors", destination)
    scheduled = prod.one("kubernetes:postgresql.cnpg.io/v1:ScheduledBackup").inputs
    assert scheduled["spec"]["cluster"] == {"name": "vectors"}
    assert crd_errors(scheduled, f"{CNPG_CRDS}#scheduledbackups.postgresql.cnpg.io") == []


def test_prod_protects_every_stateful_resource_of_the_store() -> None:
    """From the options the program registered: Pulumi refuses to delete or replace them, and
    removing the Cluster from the program leaves it (and its volumes) in the cluster."""
    prod = recorded("prod")
    stateful = {
        CLUSTER: "prod-vectors-cluster",
        "aws:s3/bucket:Bucket": "prod-vectors-backups-bucket",
        "kubernetes:storage.k8s.io/v1:StorageClass": "prod-vectors-storage",
    }
    for type_, name in stateful.items():
        assert prod.one(type_, name).options["protect"] is True, name
    assert prod.one(CLUSTER).options["retainOnDelete"] is True
    storage = prod.one("kubernetes:storage.k8s.io/v1:StorageClass", "prod-vectors-storage")
    assert storage.inputs["reclaimPolicy"] == "Retain"
    bucket = prod.one("aws:s3/bucket:Bucket", "prod-vectors-backups-bucket").inputs
    assert bucket["forceDestroy"] is False
    versioning = prod.one(
        "aws:s3/bucketVersioning:BucketVersioning", "prod-vectors-backups-versioning"
    ).inputs
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}
    access = prod.one(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "prod-vectors-backups-public-access",
    ).inputs
    assert all(access[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls"))
    lifecycle = prod.one(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "prod-vectors-backups-lifecycle",
    )
    replaced, markers = lifecycle.inputs["rules"]
    expiry = replaced["noncurrentVersionExpiration"]["noncurrentDays"]
    assert expiry == 14 + 7  # replaced versions outlive the retention window by a week
    assert "expiration" not in replaced  # barman-cloud deletes old backups itself
    # ...leaving a delete marker per object, removed once its versions are gone.
    assert markers["expiration"] == {"expiredObjectDeleteMarker": True}


def test_the_backup_identity_writes_only_its_bucket_for_only_the_database_pods() -> None:
    prod = recorded("prod")
    association = prod.one(
        "aws:eks/podIdentityAssociation:PodIdentityAssociation", "prod-vectors-backups-identity"
    ).inputs
    # CloudNativePG runs the instances as a service account named after the Cluster.
    assert (association["namespace"], association["serviceAccount"]) == ("data", "vectors")
    policy = prod.one("aws:iam/rolePolicy:RolePolicy", "prod-vectors-backups-write").inputs
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    bucket = re.fullmatch(
        r"arn:aws:s3:::(prod-vectors-backups-bucket-[0-9a-f]{8})", statements["List"]["Resource"]
    )
    assert bucket is not None
    assert statements["List"]["Action"] == "s3:ListBucket"
    assert statements["ReadWrite"] == {
        "Sid": "ReadWrite",
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        "Resource": f"arn:aws:s3:::{bucket.group(1)}/*",
    }


def test_gcp_production_backs_up_to_gcs_through_workload_identity() -> None:
    recording = gcp_production()
    spec = _cluster(recording)["spec"]
    store = gcp_production_config()["vectorStore"]
    assert spec["instances"] == store["replicas"]
    assert spec["imageName"] == versions.POSTGRES_IMAGES["18"]
    objects = spec["backup"]["barmanObjectStore"]
    assert objects["googleCredentials"] == {"gkeEnvironment": True}
    assert objects["destinationPath"].startswith("gs://") and objects["destinationPath"].endswith(
        "/vectors"
    )
    account = recording.one(
        "gcp:serviceaccount/account:Account", "gcp-dev-vectors-backups-account"
    ).inputs
    # One account per stack: another environment in the project gets its own.
    assert account["accountId"] == "gcp-dev-vectors-backups"
    annotation = spec["serviceAccountTemplate"]["metadata"]["annotations"]
    assert annotation["iam.gke.io/gcp-service-account"].startswith("gcp-dev-vectors-backups@")
    # Writers read the bucket's metadata first, which objectAdmin alone does not allow.
    roles = {
        r.inputs["role"]
        for r in recording.of_type("gcp:storage/bucketIAMMember:BucketIAMMember")
        if r.name.startswith("gcp-dev-vectors-backups-")
    }
    assert roles == {"roles/storage.objectAdmin", "roles/storage.legacyBucketReader"}
    impersonate = recording.one(
        "gcp:serviceaccount/iAMMember:IAMMember", "gcp-dev-vectors-backups-impersonate"
    ).inputs
    assert impersonate["member"].endswith(".svc.id.goog[data/vectors]")
    bucket = recording.one("gcp:storage/bucket:Bucket", "gcp-dev-vectors-backups-bucket")
    assert bucket.options["protect"] is True
    assert bucket.inputs["publicAccessPrevention"] == "enforced"
    assert bucket.inputs["versioning"] == {"enabled": True}
    storage = recording.one("kubernetes:storage.k8s.io/v1:StorageClass", "gcp-dev-vectors-storage")
    assert storage.inputs["provisioner"] == "pd.csi.storage.gke.io"
    assert k8s_errors(_cluster(recording), "1.36") == []


# --- upstream facts ------------------------------------------------------------------------


def test_operator_values_exist_upstream_and_pass_the_charts_schema() -> None:
    values = cnpg.render_operator_values()
    assert unknown_keys(values, chart_values("cloudnative-pg")) == []
    schema = load(UPSTREAM / "charts/cloudnative-pg/values.schema.json")
    defaults = chart_values("cloudnative-pg")
    merged = {
        **defaults,
        **values,
        "monitoring": {**defaults["monitoring"], **values["monitoring"]},
    }
    jsonschema.validate(merged, schema)
    # The operator release the chart installs, set explicitly so the image is pinned.
    chart = load(UPSTREAM / "charts/cloudnative-pg/Chart.yaml")
    assert (chart["version"], chart["appVersion"]) == (
        versions.CLOUDNATIVE_PG_CHART[1],
        versions.CLOUDNATIVE_PG_OPERATOR,
    )


def test_postgres_images_are_the_projects_own_catalogue_entries() -> None:
    """Each pinned image is the CloudNativePG catalogue's image for its major version (the
    "system" flavour: pgvector and barman-cloud), by tag and digest."""
    catalogue = load(UPSTREAM / "catalogs/postgresql-bookworm.yaml")
    assert catalogue["metadata"]["labels"]["images.cnpg.io/type"] == "system"
    by_major = {str(entry["major"]): entry["image"] for entry in catalogue["spec"]["images"]}
    for major, image in versions.POSTGRES_IMAGES.items():
        assert image == by_major[major], major
        assert re.search(rf":{major}\.\d+-\d+-system-bookworm@sha256:[0-9a-f]{{64}}$", image)


def test_the_crd_check_catches_a_bad_cluster() -> None:
    cluster = copy.deepcopy(_cluster(recorded("dev")))
    assert k8s_errors(cluster, "1.36") == []
    cluster["spec"]["instances"] = "three"
    cluster["spec"]["enableSuperuserAccess"] = "yes"
    errors = k8s_errors(cluster, "1.36")
    assert any("instances" in e for e in errors)
    assert any("enableSuperuserAccess" in e for e in errors)


# --- who reaches it, and how ---------------------------------------------------------------


def test_only_clients_the_operator_the_schema_job_and_prometheus_reach_the_database() -> None:
    policy = (
        recorded("dev")
        .one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "dev-vectors-ingress")
        .inputs
    )
    spec = policy["spec"]
    assert spec["podSelector"] == {"matchLabels": {"cnpg.io/cluster": "vectors"}}
    assert spec["policyTypes"] == ["Ingress"]
    rules = spec["ingress"]
    assert rules[0] == {"from": [{"podSelector": {"matchLabels": {"cnpg.io/cluster": "vectors"}}}]}
    operator, clients, monitoring = rules[1:]
    assert operator["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "cnpg-system"}}}
    ]
    assert clients["ports"] == [{"protocol": "TCP", "port": 5432}]
    job, namespaces = clients["from"]
    assert job == {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "vector-schema"}}}
    assert namespaces["namespaceSelector"]["matchExpressions"][0]["values"] == ["inference"]
    assert monitoring["ports"] == [{"protocol": "TCP", "port": 9187}]
    # The schema Job's pods carry the label the policy admits.
    job = recorded("dev").one(JOB, "dev-vectors-schema").inputs
    assert job["spec"]["template"]["metadata"]["labels"] == {
        "app.kubernetes.io/name": "vector-schema"
    }


def test_listed_client_namespaces_are_admitted_and_get_the_contract_gcp() -> None:
    recording = gcp_production()
    policy = recording.one(
        "kubernetes:networking.k8s.io/v1:NetworkPolicy", "gcp-dev-vectors-ingress"
    ).inputs
    admitted = policy["spec"]["ingress"][2]["from"][1]["namespaceSelector"]["matchExpressions"]
    assert admitted[0]["values"] == ["inference", "rag-apps"]
    maps = {
        r.inputs["metadata"]["namespace"]: r.inputs["data"]
        for r in recording.of_type("kubernetes:core/v1:ConfigMap")
        if r.inputs["metadata"]["name"] == "vector-store"
    }
    assert set(maps) == {"inference", "rag-apps"}
    assert maps["rag-apps"]["operator"] == "<#>"  # inner product
    assert maps["rag-apps"]["dimensions"] == "384"


def test_clients_read_the_contract_from_the_cluster_or_the_stack_outputs() -> None:
    dev = recorded("dev")
    contract = dev.one("kubernetes:core/v1:ConfigMap", "dev-vectors-inference-connection")
    assert contract.inputs["metadata"] == {
        "name": "vector-store",
        "namespace": "inference",
        "labels": {"app.kubernetes.io/part-of": "gpu-platform"},
    }
    assert contract.inputs["data"] == {
        "engine": "pgvector",
        "host": "vectors-rw.data.svc",
        "readHost": "vectors-ro.data.svc",
        "port": "5432",
        "database": "rag",
        "table": "rag.embeddings",
        "dimensions": "384",
        "distance": "cosine",
        "operator": "<=>",
        "sslmode": "require",
        "secretName": "vector-store",
    }
    credentials = dev.one("kubernetes:core/v1:Secret", "dev-vectors-inference-credentials")
    assert credentials.inputs["metadata"] == {"name": "vector-store", "namespace": "inference"}
    assert credentials.inputs["type"] == "kubernetes.io/basic-auth"
    # The generated password is a secret everywhere: in the Secrets and never in an output.
    assert credentials.inputs["stringData"] == SECRET
    assert (
        dev.one("kubernetes:core/v1:Secret", "dev-vectors-app-secret").inputs["stringData"]
        == SECRET
    )
    output = dev.outputs["vectorStore"]
    assert output == {
        "engine": "pgvector",
        "mode": "in-cluster",
        "host": "vectors-rw.data.svc",
        "readHost": "vectors-ro.data.svc",
        "port": 5432,
        "database": "rag",
        "table": "rag.embeddings",
        "dimensions": 384,
        "distance": "cosine",
        "configMap": "vector-store",
        "secretName": "vector-store",
    }
    assert "generated-" not in json.dumps(dev.outputs)
    # Applications wait for the schema: the contract appears once the table exists.
    job = dev.one(JOB, "dev-vectors-schema")
    assert job.key in contract.options["dependsOn"]


def test_the_schema_job_applies_the_stores_sql_after_the_cluster_exists() -> None:
    dev = recorded("dev")
    store = parse(platform_config("dev")).vector_store
    sql = render_bootstrap_sql(cnpg.schema(store))
    content = schema_job.files(sql, rds_admin=False, app_password=False)
    assert content == {"bootstrap.sql": sql}
    job = dev.one(JOB, "dev-vectors-schema")
    rendered = schema_job.render_job(
        content,
        versions.POSTGRES_IMAGES["17"],
        schema_job.SecretAdmin("vectors-superuser"),
        host="vectors-rw",
    )
    assert job.inputs["spec"] == rendered["spec"]
    assert job.inputs["metadata"] == rendered["metadata"]
    assert job.inputs["metadata"]["name"] == schema_job.job_name(content)
    script = dev.one("kubernetes:core/v1:ConfigMap", "dev-vectors-schema-sql").inputs
    assert script["metadata"]["name"] == job.inputs["metadata"]["name"]
    assert script["data"] == content
    waits_for = {
        "kubernetes:postgresql.cnpg.io/v1:Cluster::dev-vectors-cluster",
        "kubernetes:core/v1:ConfigMap::dev-vectors-schema-sql",
    }
    assert waits_for <= set(job.options["dependsOn"])
    assert job.options["customTimeouts"]["create"] == f"{schema_job.DEADLINE_SECONDS // 60}m"
    pod = job.inputs["spec"]["template"]["spec"]
    assert pod_security.violations(pod, "restricted") == []
    # Another size is another script, so another Job: it runs again (and refuses a table made
    # for the old size, see test_pgvector).
    other = render_bootstrap_sql(cnpg.schema(store.model_copy(update={"dimensions": 768})))
    other_content = schema_job.files(other, rds_admin=False, app_password=False)
    assert schema_job.job_name(other_content) != job.inputs["metadata"]["name"]


# --- a production store keeps what it was made as ------------------------------------------


def _prod_store(**settings: Any) -> VectorStoreSpec:
    return parse(_store("prod", **settings)).vector_store


def test_the_deployed_store_matches_its_own_config() -> None:
    """The output the program exports is what the next deployment compares against."""
    deployed = recorded("prod").outputs["vectorStore"]
    assert change_problems(deployed, _prod_store()) == []
    # Before the first deployment there is nothing to keep.
    assert change_problems(None, _prod_store(distance="l2")) == []


@pytest.mark.parametrize(
    ("settings", "key", "says"),
    [
        ({"dimensions": 768}, "dimensions", "holds 1024-dimensional embeddings; 768 means"),
        ({"distance": "l2"}, "distance", "index serves cosine; build an index for l2 beside"),
        ({"engine": "none"}, "engine", "holds a pgvector (in-cluster, 1024 dimensions, cosine)"),
    ],
)
def test_a_change_that_would_strand_production_data_is_refused_with_the_way_out(
    settings: dict[str, Any], key: str, says: str
) -> None:
    deployed = {"engine": "pgvector", "mode": "in-cluster", "dimensions": 1024.0}
    deployed["distance"] = "cosine"
    if settings.get("engine") == "none":
        store = VectorStoreSpec()
    else:
        store = VectorStoreSpec(engine="pgvector", replicas=2, **settings)
    (problem,) = change_problems(deployed, store)
    assert problem.path == (key,)
    assert says in problem.message
    assert "README's 'Changing a production vector store'" in problem.message
    # Once the data is moved, the change is let through deliberately, and only that one.
    accepted = store.model_copy(update={"accept_changes": (key,)})
    assert change_problems(deployed, accepted) == []


def test_an_accepted_change_that_is_no_change_must_be_removed() -> None:
    deployed = {"engine": "pgvector", "mode": "in-cluster", "dimensions": 1024, "distance": "l2"}
    store = VectorStoreSpec(engine="pgvector", distance="l2", acceptChanges=["distance"])
    assert [p.message for p in change_problems(deployed, store)] == [
        "distance is what the deployed store has; remove it from acceptChanges"
    ]
    (problem,) = _problems(_store("dev", acceptChanges=["dimensions"]))
    assert problem == (
        "vectorStore.acceptChanges: only production stacks check changes to the deployed store; "
        "remove it"
    )


def test_the_program_stops_before_changing_a_deployed_production_store() -> None:
    config = _store("prod", dimensions=768)
    config["models"]["bge-m3"]["source"] = "BAAI/bge-base-en-v1.5"  # a 768-dimensional model
    deployed = {"vectorStore": recorded("prod").outputs["vectorStore"]}
    with pytest.raises(ConfigError) as caught:
        run_main(config, stack="prod", engine_mocks=PlanMocks(deployed_outputs=deployed))
    assert caught.value.problems == [
        "vectorStore.dimensions: the deployed store holds 1024-dimensional embeddings; 768 means "
        "embedding every document again into a new table beside the old one. Keep 1024 until "
        "that is done (see the README's 'Changing a production vector store'; once the data is "
        "moved, vectorStore.acceptChanges lets the change through)"
    ]
