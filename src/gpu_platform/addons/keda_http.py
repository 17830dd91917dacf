"""KEDA's HTTP add-on, for models that scale to zero (pure data).

Its interceptor is a proxy that counts requests per route and holds those for a model at zero
replicas until the model's Service has a Ready endpoint; its external scaler reports the held
and in-flight requests to KEDA through an `external-push` trigger in the model's own
ScaledObject (the platform's, so vLLM's own metrics keep scaling it above one replica). The
interceptor's proxy Service listens on the model servers' port, so a model's Service can point
its clients at it by name (ExternalName) without changing the URL they use.
"""

from __future__ import annotations

from typing import Any

from gpu_platform import labels
from gpu_platform.serving.workload import PORT

NAMESPACE = "keda"  # KEDA's, where the add-on runs beside it
CHART_NAME = "keda-add-ons-http"  # the chart names its Services after itself, not the release
INTERCEPTOR_HOST = f"{CHART_NAME}-interceptor-proxy.{NAMESPACE}.svc.cluster.local"
SCALER_ADDRESS = f"{CHART_NAME}-external-scaler.{NAMESPACE}:9090"
# The pods of the interceptor, which the model servers' network policies admit.
INTERCEPTOR_LABELS = {
    "app.kubernetes.io/component": "interceptor",
    "app.kubernetes.io/name": "http-add-on",
}
_SMALL = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}


def render_values(watch_namespace: str, production: bool) -> dict[str, Any]:
    """Helm values: CRDs from the chart; every part on the system nodes and watching only the
    models' namespace; two of each in production so a node loss drops no held request; the
    proxy on the model servers' port. Timeouts are set per model on its InterceptorRoute, from
    its cold-start estimate."""
    system = labels.node_selector(labels.SYSTEM_POOL)
    count = 2 if production else 1
    return {
        "crds": {"install": True},
        # The `restricted` Pod Security level of KEDA's namespace; the images are static
        # binaries built with ko (.ko.yaml at v0.15.0), whose nonroot user is 65532.
        "podSecurityContext": {
            "runAsNonRoot": True,
            "runAsUser": 65532,
            "runAsGroup": 65532,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "operator": {
            "watchNamespace": watch_namespace,
            "nodeSelector": system,
            "resources": _SMALL,
        },
        "scaler": {"replicas": count, "nodeSelector": system, "resources": _SMALL},
        "interceptor": {
            "proxy": {"port": PORT},
            "replicas": {"min": count, "max": 10},
            "extraEnvs": {"KEDA_HTTP_WATCH_NAMESPACE": watch_namespace},
            "nodeSelector": system,
            # Every held request is an open connection: more memory than the chart's 64Mi. The
            # chart's CPU limit (0.5) would throttle a proxy that carries every streamed
            # response; Helm merges values into its defaults, and Pulumi drops a null that could
            # remove the key, so the limit is raised instead.
            "resources": {
                "requests": {"cpu": "100m", "memory": "128Mi"},
                "limits": {"cpu": "2", "memory": "512Mi"},
            },
        },
    }
