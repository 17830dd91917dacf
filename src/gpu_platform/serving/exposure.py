"""How a model server is reached, disrupted and watched (pure data): Service, PodDisruptionBudget,
NetworkPolicy, PodMonitor, ServiceAccount."""

from __future__ import annotations

from collections.abc import Sequence

from gpu_platform import labels
from gpu_platform.addons.keda import NAMESPACE as KEDA_NAMESPACE
from gpu_platform.addons.keda_http import INTERCEPTOR_LABELS
from gpu_platform.serving.spec import ModelSpec
from gpu_platform.serving.workload import PORT, WAIT_FOR, app_labels

CLIENT_LABEL = labels.INFERENCE_CLIENT_LABEL
# Prometheus' name for the pod label gpuplatform.io/pool (non-alphanumerics become `_`).
POOL_META_LABEL = "__meta_kubernetes_pod_label_" + labels.POOL_LABEL.replace(".", "_").replace(
    "/", "_"
)
MONITORING_NAMESPACE = "observability"


def render_service(name: str, namespace: str, service_name: str | None = None) -> dict:
    """The ClusterIP Service in front of the model's pods (`service_name`: another name than
    the model's own, for a model whose own name points at the interceptor)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": service_name or name,
            "namespace": namespace,
            "labels": app_labels(name),
        },
        "spec": {
            "type": "ClusterIP",
            "selector": app_labels(name),
            "ports": [{"name": "http", "port": PORT, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def render_pdb(
    name: str, namespace: str, model: ModelSpec, production: bool = False
) -> dict | None:
    """Voluntary disruptions (node drains, node upgrades) take one replica at a time; KEDA
    scaling in is not a disruption and is not limited by it.

    In production a drain never takes the last Ready replica, even of a model running one:
    `minAvailable` is at least 1 (a drain of its node waits until another replica is Ready), and
    a replica still loading weights is evicted only while the others meet the budget
    (`IfHealthyBudget`; Kubernetes has no policy that never evicts an unready pod).

    With two or more minimum replicas the budget also tells `pulumi up` when they are all Ready:
    `minAvailable` is one less, so disruptions become allowed exactly when minReplicas pods are
    healthy, however many more KEDA asked for."""
    spec: dict = {"selector": {"matchLabels": app_labels(name)}}
    annotations: dict[str, str] = {}
    if production and model.min_replicas >= 1:
        spec["minAvailable"] = max(1, model.min_replicas - 1)
        spec["unhealthyPodEvictionPolicy"] = "IfHealthyBudget"
        if model.min_replicas >= 2:
            annotations[WAIT_FOR] = "condition=DisruptionAllowed"
    elif model.max_replicas > 1:
        spec["maxUnavailable"] = 1
    else:
        return None
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": app_labels(name),
            **({"annotations": annotations} if annotations else {}),
        },
        "spec": spec,
    }


# Where pods get cloud credentials when they read weights from object storage: the EKS Pod
# Identity agent, and GKE's metadata server (Workload Identity).
CREDENTIAL_ENDPOINTS = {
    "aws": [("169.254.170.23/32", 80)],
    "gcp": [("169.254.169.254/32", 80), ("169.254.169.252/32", 988)],
}

# What "any public address" leaves out: private networks (the VPC, other pods and services),
# carrier-grade NAT space and link-local addresses (instance metadata, credential agents).
NOT_PUBLIC = ("10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16")


def render_network_policy(
    name: str,
    namespace: str,
    *,
    object_store: Sequence[str] | None = None,
    credentials_from: str | None = None,
    interceptor: bool = False,
) -> dict:
    """Ingress: clients' namespaces and the monitoring namespace, on the API port only, and the
    HTTP add-on's interceptor for a model that scales to zero (`interceptor`).

    Egress: DNS, and HTTPS for the weights. A model from the Hugging Face hub may reach any
    public address on 443 (the hub's CDN has no fixed addresses; a NetworkPolicy cannot name
    hosts). A model in object storage reaches only the object store's addresses
    (`object_store`: the region's S3 prefix list, or Google's private API range) and its
    cloud's credential endpoint (`credentials_from`); None means the store's addresses are not
    known (an adopted GKE network), and it gets the hub's rule."""

    def namespace_with(key: str, value: str) -> dict:
        return {"namespaceSelector": {"matchLabels": {key: value}}}

    if object_store is None:
        weights = [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(NOT_PUBLIC)}}]
    elif object_store:
        weights = [{"ipBlock": {"cidr": cidr}} for cidr in object_store]
    else:
        # An egress rule with no peers admits every address: never write one.
        raise ValueError(f"{name}: the object store has no addresses to allow")
    dns_ports = [{"protocol": proto, "port": 53} for proto in ("UDP", "TCP")]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": app_labels(name)},
        "spec": {
            "podSelector": {"matchLabels": app_labels(name)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {
                    "from": [
                        namespace_with(CLIENT_LABEL, "true"),
                        namespace_with("kubernetes.io/metadata.name", MONITORING_NAMESPACE),
                        *(
                            [
                                {
                                    **namespace_with("kubernetes.io/metadata.name", KEDA_NAMESPACE),
                                    "podSelector": {"matchLabels": dict(INTERCEPTOR_LABELS)},
                                }
                            ]
                            if interceptor
                            else []
                        ),
                    ],
                    "ports": [{"protocol": "TCP", "port": PORT}],
                }
            ],
            "egress": [
                {
                    "to": [namespace_with("kubernetes.io/metadata.name", "kube-system")],
                    "ports": dns_ports,
                },
                {"to": weights, "ports": [{"protocol": "TCP", "port": 443}]},
                *(
                    {
                        "to": [{"ipBlock": {"cidr": cidr}}],
                        "ports": [{"protocol": "TCP", "port": port}],
                    }
                    for cidr, port in CREDENTIAL_ENDPOINTS.get(credentials_from or "", [])
                ),
            ],
        },
    }


def render_pod_monitor(name: str, namespace: str) -> dict:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {**app_labels(name), **labels.PROMETHEUS_SELECTOR},
        },
        "spec": {
            "selector": {"matchLabels": app_labels(name)},
            "podMetricsEndpoints": [
                {
                    "port": "http",
                    "path": "/metrics",
                    "interval": "15s",
                    # Every series names the pool it runs on and the model, as `pool` and
                    # `model`, so rules and dashboards slice GPU and model series alike.
                    "relabelings": [
                        {
                            "sourceLabels": [POOL_META_LABEL],
                            "targetLabel": "pool",
                            "action": "replace",
                        }
                    ],
                    "metricRelabelings": [
                        {
                            "sourceLabels": ["model_name"],
                            "targetLabel": "model",
                            "action": "replace",
                        }
                    ],
                }
            ],
        },
    }


def render_service_account(name: str, namespace: str) -> dict:
    """One identity per model, so object-store access is granted to exactly this model
    (EKS Pod Identity, GKE Workload Identity)."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": name, "namespace": namespace, "labels": app_labels(name)},
        "automountServiceAccountToken": False,
    }
