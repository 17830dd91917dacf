"""Keda: KEDA installed from its chart, CRDs included, in its own `restricted` namespace, and,
when a model scales to zero, KEDA's HTTP add-on beside it (gpu_platform/addons/keda_http.py).

`ready` is the release: anything that creates ScaledObjects depends on it, so their CRDs exist
first. `http_ready` is the add-on's release, for InterceptorRoutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform import labels, versions
from gpu_platform.addons import helm
from gpu_platform.addons.platform_base import render_namespace
from gpu_platform.options import child_of

TOKEN = "gpuplatform:addons:Keda"
NAMESPACE = "keda"
_SMALL = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}}


def render_keda_values() -> dict[str, Any]:
    """Helm values: CRDs from the chart, the external metrics server on, sized for a platform
    cluster, kept on the system nodes."""
    return {
        "crds": {"install": True},
        "metricsServer": {"enabled": True},
        "resources": {
            "operator": {
                "requests": {"cpu": "100m", "memory": "256Mi"},
                "limits": {"memory": "1Gi"},
            },
            "metricServer": _SMALL,
            "webhooks": _SMALL,
        },
        "nodeSelector": labels.node_selector(labels.SYSTEM_POOL),
    }


@dataclass(frozen=True)
class KedaArgs:
    kubernetes_version: str
    k8s_provider: k8s.Provider
    chart_version: str | None = None
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    http_add_on_values: dict[str, Any] | None = None
    """Install the HTTP add-on with these values (gpu_platform.addons.keda_http)."""


class Keda(pulumi.ComponentResource):
    """The KEDA operator, metrics server and admission webhooks."""

    namespace: str = NAMESPACE
    ready: k8s.helm.v3.Release
    """Depend on this before creating ScaledObjects."""
    http_ready: k8s.helm.v3.Release | None = None
    """Depend on this before creating InterceptorRoutes (None: the add-on is not installed)."""

    def __init__(self, name: str, args: KedaArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TOKEN, name, None, opts)
        # KEDA's pods run as non-root with every capability dropped: restricted fits.
        manifest = render_namespace(NAMESPACE, "restricted", args.kubernetes_version)
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata=manifest["metadata"],
            opts=child_of(self, args.k8s_provider, args.depends_on),
        )
        self.ready = helm.release(
            f"{name}-release",
            chart=versions.KEDA_CHART,
            version=args.chart_version,
            namespace=NAMESPACE,
            values=render_keda_values(),
            timeout=600,
            opts=child_of(self, args.k8s_provider, [namespace, *args.depends_on]),
        )
        if args.http_add_on_values is not None:
            self.http_ready = helm.release(
                f"{name}-http-release",
                chart=versions.KEDA_HTTP_CHART,
                namespace=NAMESPACE,
                values=args.http_add_on_values,
                timeout=600,
                # The add-on scales its interceptor with a ScaledObject: KEDA's CRDs first.
                opts=child_of(self, args.k8s_provider, [namespace, self.ready, *args.depends_on]),
            )
        self.register_outputs({"namespace": NAMESPACE})
