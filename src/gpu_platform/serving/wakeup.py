"""Scale to zero that wakes up (pure data): how a model at zero replicas still answers.

A model with minReplicas 0 keeps its URL. Its Service `vllm-<model>` becomes an ExternalName
for the HTTP add-on's interceptor, which listens on the same port: clients resolve the model's
name to the interceptor without knowing it. The interceptor matches the request's host to the
model's InterceptorRoute, holds it until the backend Service `vllm-<model>-backend` (the model's
pods) has a Ready replica, then proxies it, streamed responses included. The model's
ScaledObject gets an `external-push` trigger from the add-on's scaler: a held request activates
it (0 -> 1), and vLLM's own metrics take over above one replica.
"""

from __future__ import annotations

from gpu_platform.addons.keda_http import INTERCEPTOR_HOST, SCALER_ADDRESS
from gpu_platform.serving.coldstart import ColdStart, hold_seconds
from gpu_platform.serving.exposure import render_service
from gpu_platform.serving.workload import PORT, app_labels

# In-flight requests per replica the interceptor's trigger asks for: high enough that vLLM's
# queue and KV-cache triggers decide every step above one replica; the trigger is the wake-up.
CONCURRENCY_PER_REPLICA = 1000
# Time to the first response header once the replica is Ready (a long prompt's prefill).
RESPONSE_HEADER_SECONDS = 300


def backend_name(name: str) -> str:
    return f"{name}-backend"


def hosts(name: str, namespace: str) -> list[str]:
    """Every name a client in the cluster may call the model by (the interceptor ignores the
    port)."""
    return [
        f"{name}.{namespace}.svc.cluster.local",
        f"{name}.{namespace}.svc",
        f"{name}.{namespace}",
        name,
    ]


def render_front_service(name: str, namespace: str) -> dict:
    """The model's Service, pointing at the interceptor: the URL clients use does not change."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": app_labels(name)},
        "spec": {
            "type": "ExternalName",
            "externalName": INTERCEPTOR_HOST,
            "ports": [{"name": "http", "port": PORT, "protocol": "TCP"}],
        },
    }


def render_backend_service(name: str, namespace: str) -> dict:
    """The model's pods, which only the interceptor calls."""
    return render_service(name, namespace, backend_name(name))


def render_interceptor_route(name: str, namespace: str, start: ColdStart) -> dict:
    """Which requests the interceptor holds for the model, and for how long: twice the cold-start
    estimate, where the add-on's default would be forever (or 30 s with a fallback); no overall
    deadline, as a streamed generation may run for minutes."""
    return {
        "apiVersion": "http.keda.sh/v1beta1",
        "kind": "InterceptorRoute",
        "metadata": {"name": name, "namespace": namespace, "labels": app_labels(name)},
        "spec": {
            "target": {"service": backend_name(name), "port": PORT},
            "rules": [{"hosts": hosts(name, namespace)}],
            "scalingMetric": {"concurrency": {"targetValue": CONCURRENCY_PER_REPLICA}},
            "timeouts": {
                "readiness": f"{hold_seconds(start)}s",
                "responseHeader": f"{RESPONSE_HEADER_SECONDS}s",
                "request": "0s",
            },
        },
    }


def render_wake_trigger(name: str) -> dict:
    """The ScaledObject trigger fed by the add-on's scaler for the model's route."""
    return {
        "type": "external-push",
        "name": "wake-up",
        "metadata": {"scalerAddress": SCALER_ADDRESS, "interceptorRoute": name},
    }
