"""What the in-cluster pgvector store is made of (pure data): the CloudNativePG operator's Helm
values, the `postgresql.cnpg.io/v1` Cluster and its ScheduledBackup, the StorageClass its
volumes use, the NetworkPolicy and PodMonitor around it, and the connection contract clients
read.

Names are fixed so clients can rely on them: the Cluster `vectors` in the `data` namespace
serves the database `rag` at `vectors-rw.data.svc:5432` (the primary; `vectors-ro` reaches the
standbys), applications log in as `rag_app`.
"""

from __future__ import annotations

from typing import Any

from gpu_platform import labels, versions
from gpu_platform.catalog import Cloud
from gpu_platform.data.pgvector_schema import VectorSchema, operator
from gpu_platform.data.schema_job import DATABASE, PORT
from gpu_platform.data.schema_job import LABEL as SCHEMA_JOB_LABEL
from gpu_platform.data.spec import VectorStoreSpec
from gpu_platform.data.storage import storage_class_name
from gpu_platform.data.store import CONNECTION, NAMESPACE, render_contract

OPERATOR_NAMESPACE = "cnpg-system"
CLUSTER = "vectors"
METRICS_PORT = 9187
HOST = f"{CLUSTER}-rw.{NAMESPACE}.svc"
READ_HOST = f"{CLUSTER}-ro.{NAMESPACE}.svc"
APP_SECRET = "vector-store-app"
"""The application role's credentials in `data`: CloudNativePG sets the role's password from it."""
CLUSTER_LABEL = "cnpg.io/cluster"
# CloudNativePG's instance manager serves its status API on 8000 (the operator calls it).
STATUS_PORT = 8000
# A bucket path must not hold an earlier cluster's backups: barman-cloud refuses to archive into
# a non-empty one, so the path carries the cluster name.
BACKUP_PATH = CLUSTER


def schema(store: VectorStoreSpec) -> VectorSchema:
    return VectorSchema(dimensions=store.dimensions, distance=store.distance)


def render_operator_values(monitoring: bool = True) -> dict[str, Any]:
    """The operator on the system nodes, its CRDs from the chart, its metrics scraped when the
    cluster runs the Prometheus Operator."""
    system = labels.node_selector(labels.SYSTEM_POOL)
    return {
        "image": {"tag": versions.CLOUDNATIVE_PG_OPERATOR},
        "crds": {"create": True},
        "nodeSelector": system,
        "resources": {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"memory": "512Mi"},
        },
        "monitoring": {
            "podMonitorEnabled": monitoring,
            "podMonitorAdditionalLabels": dict(labels.PROMETHEUS_SELECTOR),
        },
    }


def _resources(production: bool) -> dict[str, dict[str, str]]:
    if production:
        return {"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"memory": "4Gi"}}
    return {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}


def render_cluster(
    store: VectorStoreSpec,
    *,
    production: bool,
    backup_destination: str | None = None,
    cloud: Cloud = "aws",
    service_account_annotations: dict[str, Any] | None = None,
) -> dict:
    """The PostgreSQL cluster: `replicas` instances on system nodes, each on its own node in
    production and spread over zones, the pgvector image of the configured major version, and,
    with `backup_destination` (an `s3://` or `gs://` bucket URL), WAL archiving and base
    backups there with the pods' cloud identity."""
    spec: dict[str, Any] = {
        "description": "pgvector store for retrieval (gpu-platform)",
        "instances": store.replicas,
        "imageName": versions.POSTGRES_IMAGES[store.postgres_version],
        "primaryUpdateStrategy": "unsupervised",
        # The schema Job connects as postgres with the password CloudNativePG generates into
        # `vectors-superuser`; it never leaves the cluster.
        "enableSuperuserAccess": True,
        "bootstrap": {
            "initdb": {"database": DATABASE, "owner": "rag_owner", "dataChecksums": True}
        },
        "managed": {
            "roles": [
                # The database owner owns the schema; nobody logs in as it.
                {"name": "rag_owner", "ensure": "present", "login": False},
                {
                    "name": "rag_app",
                    "ensure": "present",
                    "login": True,
                    "passwordSecret": {"name": APP_SECRET},
                },
            ]
        },
        "storage": {
            "size": f"{store.storage_gib}Gi",
            "storageClass": storage_class_name(production),
        },
        "resources": _resources(production),
        "affinity": {
            "nodeSelector": labels.node_selector(labels.SYSTEM_POOL),
            "enablePodAntiAffinity": True,
            "topologyKey": "kubernetes.io/hostname",
            "podAntiAffinityType": "required" if production else "preferred",
        },
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                # Zones are spread when nodes allow; the node anti-affinity is the hard rule.
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {CLUSTER_LABEL: CLUSTER}},
            }
        ],
    }
    if backup_destination is not None:
        credentials = (
            {"s3Credentials": {"inheritFromIAMRole": True}}
            if cloud == "aws"
            else {"googleCredentials": {"gkeEnvironment": True}}
        )
        spec["backup"] = {
            "retentionPolicy": f"{store.backups.retention_days}d",
            "barmanObjectStore": {
                "destinationPath": f"{backup_destination.rstrip('/')}/{BACKUP_PATH}",
                **credentials,
                "wal": {"compression": "gzip", "maxParallel": 2},
                "data": {"compression": "gzip"},
            },
        }
    if service_account_annotations:
        spec["serviceAccountTemplate"] = {
            "metadata": {"annotations": dict(service_account_annotations)}
        }
    return {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": {
            "name": CLUSTER,
            "namespace": NAMESPACE,
            "labels": {labels.PART_OF_LABEL: "gpu-platform"},
        },
        "spec": spec,
    }


def render_scheduled_backup() -> dict:
    """A base backup every day at 03:00 UTC (and one right after the cluster is created), so a
    restore replays at most a day of WAL."""
    return {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "ScheduledBackup",
        "metadata": {"name": f"{CLUSTER}-daily", "namespace": NAMESPACE},
        "spec": {
            # CloudNativePG's schedule has a seconds field first.
            "schedule": "0 0 3 * * *",
            "immediate": True,
            "backupOwnerReference": "self",
            "cluster": {"name": CLUSTER},
            "method": "barmanObjectStore",
        },
    }


def render_network_policy(client_namespaces: tuple[str, ...]) -> dict:
    """Who reaches the database pods: the other instances (replication), the operator, the
    schema Job, client namespaces on 5432, and Prometheus on the metrics port."""
    own = {"podSelector": {"matchLabels": {CLUSTER_LABEL: CLUSTER}}}
    namespaces = sorted({"inference", *client_namespaces})
    by_name = "kubernetes.io/metadata.name"
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"{CLUSTER}-ingress", "namespace": NAMESPACE},
        "spec": {
            "podSelector": {"matchLabels": {CLUSTER_LABEL: CLUSTER}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {"from": [own]},
                {
                    "from": [{"namespaceSelector": {"matchLabels": {by_name: OPERATOR_NAMESPACE}}}],
                    "ports": [
                        {"protocol": "TCP", "port": STATUS_PORT},
                        {"protocol": "TCP", "port": PORT},
                    ],
                },
                {
                    "from": [
                        {"podSelector": {"matchLabels": dict(SCHEMA_JOB_LABEL)}},
                        {
                            "namespaceSelector": {
                                "matchExpressions": [
                                    {"key": by_name, "operator": "In", "values": namespaces}
                                ]
                            }
                        },
                    ],
                    "ports": [{"protocol": "TCP", "port": PORT}],
                },
                {
                    "from": [{"namespaceSelector": {"matchLabels": {by_name: "observability"}}}],
                    "ports": [{"protocol": "TCP", "port": METRICS_PORT}],
                },
            ],
        },
    }


def render_pod_monitor() -> dict:
    """Prometheus scrapes every instance's exporter (replication lag, connections, WAL
    archiving failures)."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {
            "name": CLUSTER,
            "namespace": NAMESPACE,
            "labels": dict(labels.PROMETHEUS_SELECTOR),
        },
        "spec": {
            "selector": {"matchLabels": {CLUSTER_LABEL: CLUSTER}},
            "podMetricsEndpoints": [{"port": "metrics", "interval": "30s"}],
        },
    }


def render_connection(
    store: VectorStoreSpec,
    namespace: str,
    host: Any = HOST,
    read_host: Any = READ_HOST,
) -> dict:
    """The ConfigMap a client namespace reads: where the store is and what it holds. The
    password is in the Secret it names (keys `username` and `password`). A managed database
    gives its own address (an Output), and its standby takes no reads."""
    table = schema(store)
    return render_contract(
        namespace,
        {
            "engine": store.engine,
            "host": host,
            "readHost": read_host,
            "port": str(PORT),
            "database": DATABASE,
            "table": f"{table.schema}.{table.table}",
            "dimensions": str(store.dimensions),
            "distance": store.distance,
            "operator": operator(store.distance),
            # The server certificate is signed by the cluster's own CA; `require` encrypts.
            "sslmode": "require",
            "secretName": CONNECTION,
        },
    )


def render_output(store: VectorStoreSpec, host: Any = HOST, read_host: Any = READ_HOST) -> dict:
    """The stack output `vectorStore` of a pgvector store: the contract without the password."""
    table = schema(store)
    return {
        "engine": store.engine,
        "mode": store.mode,
        "host": host,
        "readHost": read_host,
        "port": PORT,
        "database": DATABASE,
        "table": f"{table.schema}.{table.table}",
        "dimensions": store.dimensions,
        "distance": store.distance,
        "configMap": CONNECTION,
        "secretName": CONNECTION,
    }
