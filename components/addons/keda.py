"""Keda: KEDA installed from its chart, CRDs included, in its own `restricted` namespace.

`ready` is the release: anything that creates ScaledObjects depends on it, so their CRDs exist
first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import labels, versions
from components.addons import helm
from components.addons.platform_base import render_namespace
from components.options import child_of

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


class Keda(pulumi.ComponentResource):
    """The KEDA operator, metrics server and admission webhooks."""

    namespace: str = NAMESPACE
    ready: k8s.helm.v3.Release
    """Depend on this before creating ScaledObjects."""

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
        self.register_outputs({"namespace": NAMESPACE})
