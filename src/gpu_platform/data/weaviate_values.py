"""What the in-cluster Weaviate is made of (pure data): the Helm values of the `weaviate` chart,
the default collection the bootstrap Job creates, the Jobs that run the bootstrap script, the
NetworkPolicy and PodMonitor around it, and the connection contract clients read.

Clients reach `http://weaviate.data.svc:80` (REST) and `weaviate-grpc.data.svc:50051` (gRPC)
with an API key: the user `rag-app` reads and writes, `rag-reader` only reads. Anonymous access
is off, and no module calls anything outside the cluster.
"""

from __future__ import annotations

from typing import Any

from gpu_platform import labels, versions
from gpu_platform.data.spec import VectorStoreSpec
from gpu_platform.data.storage import storage_class_name
from gpu_platform.data.store import CONNECTION, NAMESPACE, render_contract

SERVICE_ACCOUNT = "weaviate"
HOST = f"weaviate.{NAMESPACE}.svc"
HTTP_PORT = 80  # the chart's Service; the pods listen on 8080
GRPC_HOST = f"weaviate-grpc.{NAMESPACE}.svc"
GRPC_PORT = 50051
POD_PORTS = (8080, 50051)
METRICS_PORT = 2112
# Weaviate's nodes talk to each other on these (memberlist gossip, data, Raft).
CLUSTER_PORTS = (7000, 7001, 8300, 8301)
COLLECTION = "Document"
KEYS_SECRET = "weaviate-api-keys"
KEYS_VARIABLE = "AUTHENTICATION_APIKEY_ALLOWED_KEYS"
APP_KEY = "appApiKey"
"""The key of `rag-app` (read and write) in KEYS_SECRET, which the bootstrap Jobs use."""
APP_USER, READER_USER = "rag-app", "rag-reader"
APP_LABEL = {"app": "weaviate"}
BOOTSTRAP_LABEL = {"app.kubernetes.io/name": "weaviate-bootstrap"}
# Weaviate's OpenAI module needs a key to send; vLLM, started without --api-key, reads none.
UNCHECKED_KEY = "vllm-checks-no-key"
DISTANCES = {"cosine": "cosine", "l2": "l2-squared", "inner-product": "dot"}
BACKUP_PATH = "weaviate"


def _resources(production: bool) -> dict[str, dict[str, str]]:
    if production:
        return {"requests": {"cpu": "1", "memory": "8Gi"}, "limits": {"memory": "8Gi"}}
    return {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}


def go_memory_limit(container_limit: str) -> str:
    """80 % of a `<n>Gi` container limit, in MiB as Go's runtime reads it."""
    return f"{int(container_limit.removesuffix('Gi')) * 1024 * 4 // 5}MiB"


def _affinity(production: bool) -> dict[str, Any]:
    """Nodes apart (required in production), zones apart where the nodes allow."""
    selector = {"matchLabels": dict(APP_LABEL)}
    by_node = {"topologyKey": "kubernetes.io/hostname", "labelSelector": selector}
    by_zone = {"topologyKey": "topology.kubernetes.io/zone", "labelSelector": selector}
    preferred = [{"weight": 100, "podAffinityTerm": by_zone}]
    if production:
        return {
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [by_node],
                "preferredDuringSchedulingIgnoredDuringExecution": preferred,
            }
        }
    preferred.append({"weight": 50, "podAffinityTerm": by_node})
    return {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": preferred}}


def embedding_base_url(model_url: str) -> str:
    """The module adds `/v1/embeddings` itself."""
    return model_url.removesuffix("/v1")


def render_values(
    store: VectorStoreSpec,
    *,
    production: bool,
    vectorizer_url: str | None = None,
    backup: tuple[str, str] | None = None,
    backup_settings: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Helm values. `vectorizer_url`: the served embedding model's `/v1` URL, for the
    OpenAI-compatible module; `backup`: (backend, bucket) with the backend's extra settings."""
    env: dict[str, Any] = {
        "AUTHENTICATION_APIKEY_ENABLED": "true",
        "AUTHENTICATION_APIKEY_USERS": f"{APP_USER},{READER_USER}",
        "PROMETHEUS_MONITORING_ENABLED": True,
        # Weaviate reports usage to its maker by default; nothing leaves the cluster here.
        "DISABLE_TELEMETRY": "true",
        # The Go runtime collects harder as the heap nears this, well before the container's
        # memory limit (Weaviate's guidance: 10-20 % below it).
        "GOMEMLIMIT": go_memory_limit(_resources(production)["limits"]["memory"]),
    }
    if vectorizer_url is not None:
        env["OPENAI_APIKEY"] = UNCHECKED_KEY
    values: dict[str, Any] = {
        "image": {"tag": versions.WEAVIATE_VERSION},
        "replicas": store.replicas,
        # The chart's sysctl init container is privileged and runs alpine:latest.
        "initContainers": {"sysctlInitContainer": {"enabled": False}},
        "storage": {
            "size": f"{store.storage_gib}Gi",
            "storageClassName": storage_class_name(production),
        },
        "resources": _resources(production),
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "containerSecurityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
        # The chart's default is a public LoadBalancer for both.
        "service": {"type": "ClusterIP"},
        "grpcService": {"type": "ClusterIP"},
        "serviceAccountName": SERVICE_ACCOUNT,
        "authentication": {"anonymous_access": {"enabled": False}},
        "authorization": {
            "admin_list": {
                "enabled": True,
                "users": [APP_USER],
                "read_only_users": [READER_USER],
            }
        },
        "env": env,
        "envSecrets": {KEYS_VARIABLE: KEYS_SECRET},
        "modules": {
            "text2vec-openai": {"enabled": vectorizer_url is not None},
            "default_vectorizer_module": "none",
        },
        "nodeSelector": labels.node_selector(labels.SYSTEM_POOL),
        "affinity": _affinity(production),
        "podDisruptionBudgets": {
            "weaviate": {
                "enabled": store.replicas > 1,
                "spec": {"minAvailable": max(store.replicas - 1, 1)},
            }
        },
    }
    if backup is not None:
        backend, bucket = backup
        prefix = backend.upper()
        values["backups"] = {
            backend: {
                "enabled": True,
                "envconfig": {
                    f"BACKUP_{prefix}_BUCKET": bucket,
                    f"BACKUP_{prefix}_PATH": BACKUP_PATH,
                    **(backup_settings or {}),
                },
            }
        }
    return values


def render_collection(
    store: VectorStoreSpec, vectorizer: tuple[str, str] | None = None
) -> dict[str, Any]:
    """The default collection, as Weaviate's REST API takes it: an HNSW index for the
    configured distance, replicated `replicas` times, vectorized by the served embedding model
    (`vectorizer`: its name and `/v1` URL) or by nobody (clients send vectors)."""
    # The source is metadata: the module embeds only the content.
    skip = {"moduleConfig": {"text2vec-openai": {"skip": True}}} if vectorizer else {}
    collection: dict[str, Any] = {
        "class": COLLECTION,
        "description": "Documents for retrieval (gpu-platform)",
        "vectorIndexType": "hnsw",
        "vectorIndexConfig": {"distance": DISTANCES[store.distance]},
        "replicationConfig": {"factor": store.replicas},
        "properties": [
            {"name": "content", "dataType": ["text"]},
            {"name": "source", "dataType": ["text"], **skip},
        ],
        "vectorizer": "none",
    }
    if vectorizer is not None:
        model, url = vectorizer
        collection["vectorizer"] = "text2vec-openai"
        collection["moduleConfig"] = {
            "text2vec-openai": {
                "baseURL": embedding_base_url(url),
                "model": model,
                "vectorizeClassName": False,
            }
        }
    return collection


def render_network_policy(client_namespaces: tuple[str, ...]) -> dict:
    """Who reaches Weaviate's pods: the other nodes, the bootstrap Jobs and the client
    namespaces on the API ports, Prometheus on the metrics port."""
    by_name = "kubernetes.io/metadata.name"
    namespaces = sorted({"inference", *client_namespaces})
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "weaviate-ingress", "namespace": NAMESPACE},
        "spec": {
            "podSelector": {"matchLabels": dict(APP_LABEL)},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [{"podSelector": {"matchLabels": dict(APP_LABEL)}}],
                    "ports": [{"protocol": "TCP", "port": p} for p in (*POD_PORTS, *CLUSTER_PORTS)]
                    + [{"protocol": "UDP", "port": CLUSTER_PORTS[0]}],
                },
                {
                    "from": [
                        {"podSelector": {"matchLabels": dict(BOOTSTRAP_LABEL)}},
                        {
                            "namespaceSelector": {
                                "matchExpressions": [
                                    {"key": by_name, "operator": "In", "values": namespaces}
                                ]
                            }
                        },
                    ],
                    "ports": [{"protocol": "TCP", "port": p} for p in POD_PORTS],
                },
                {
                    "from": [{"namespaceSelector": {"matchLabels": {by_name: "observability"}}}],
                    "ports": [{"protocol": "TCP", "port": METRICS_PORT}],
                },
            ],
        },
    }


def render_pod_monitor() -> dict:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {
            "name": "weaviate",
            "namespace": NAMESPACE,
            "labels": dict(labels.PROMETHEUS_SELECTOR),
        },
        "spec": {
            "selector": {"matchLabels": dict(APP_LABEL)},
            "podMetricsEndpoints": [{"port": "metrics", "interval": "30s"}],
        },
    }


def render_connection(
    store: VectorStoreSpec, namespace: str, vectorizer: str | None
) -> dict[str, Any]:
    """The ConfigMap a client namespace reads; the API keys are in the Secret it names (keys
    `apiKey`, read and write, and `readOnlyApiKey`)."""
    return render_contract(
        namespace,
        {
            "engine": "weaviate",
            "host": HOST,
            "port": str(HTTP_PORT),
            "grpcHost": GRPC_HOST,
            "grpcPort": str(GRPC_PORT),
            "collection": COLLECTION,
            "dimensions": str(store.dimensions),
            "distance": store.distance,
            "vectorizer": vectorizer or "none",
            "secretName": CONNECTION,
        },
    )
