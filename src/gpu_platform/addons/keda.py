"""Keda: KEDA installed from its chart, CRDs included, in its own `restricted` namespace, and,
when a model scales to zero, KEDA's HTTP add-on beside it (gpu_platform/addons/keda_http.py).

`ready` is the release: anything that creates ScaledObjects depends on it, so their CRDs exist
first. `http_ready` is the add-on's release, for InterceptorRoutes.

A public component: typed args (KedaArgs), its Kubernetes provider through `opts`, checked at
construction (gpu_platform.args). No `from __future__ import annotations` here: Pulumi's
component analyzer reads the args' and outputs' annotations as types, not strings.
"""

from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform import labels, versions
from gpu_platform.addons import helm, keda_http
from gpu_platform.addons.keda_http import NAMESPACE
from gpu_platform.addons.platform_base import render_namespace
from gpu_platform.args import (
    chart_version_problems,
    check,
    component_type,
    depends_on,
    supported_version,
)

TOKEN = "gpuplatform:addons:Keda"
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


class KedaHttpAddOnArgs(TypedDict):
    """KEDA's HTTP add-on, which wakes models that scale to zero."""

    watch_namespace: str
    """The namespace of the models that scale to zero; the add-on watches only it."""
    highly_available: NotRequired[bool]
    """Two of each of the add-on's parts, so a node loss drops no held request (production)."""


class KedaArgs(TypedDict):
    """The KEDA operator, its metrics server and admission webhooks, in namespace `keda`."""

    kubernetes_version: str
    """The cluster's Kubernetes minor version, e.g. "1.36": the namespace's Pod Security labels
    are pinned to it."""
    chart_version: NotRequired[str]
    """The `keda` chart's version; default the one the platform pins and tests."""
    http_add_on: NotRequired[KedaHttpAddOnArgs]
    """Install KEDA's HTTP add-on beside it (models that scale to zero)."""


def problems(args: KedaArgs) -> list[tuple[str, str]]:
    found = supported_version(args.get("kubernetes_version"))
    found += chart_version_problems(args.get("chart_version"))
    add_on = args.get("http_add_on")
    if add_on is not None and not add_on.get("watch_namespace"):
        found.append(("httpAddOn.watchNamespace", "name the namespace of the models"))
    return found


class Keda(pulumi.ComponentResource):
    """The KEDA operator, metrics server and admission webhooks, and KEDA's HTTP add-on when
    asked. Give it the Kubernetes provider in `opts` (`providers=[k8s_provider]`)."""

    namespace: pulumi.Output[str]
    """The namespace KEDA runs in."""
    ready: k8s.helm.v3.Release
    """KEDA's release: depend on it before creating ScaledObjects (its CRDs)."""
    http_ready: k8s.helm.v3.Release | None
    """The HTTP add-on's release: depend on it before creating InterceptorRoutes (absent
    without the add-on)."""

    def __init__(self, name: str, args: KedaArgs, opts: pulumi.ResourceOptions | None = None):
        check("KedaArgs", problems(args))
        super().__init__(component_type(TOKEN, "Keda"), name, None, opts)
        waits = depends_on(opts)
        # KEDA's pods run as non-root with every capability dropped: restricted fits.
        manifest = render_namespace(NAMESPACE, "restricted", args["kubernetes_version"])
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata=manifest["metadata"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=waits),
        )
        self.ready = helm.release(
            f"{name}-release",
            chart=versions.KEDA_CHART,
            version=args.get("chart_version"),
            namespace=NAMESPACE,
            values=render_keda_values(),
            timeout=600,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, *waits]),
        )
        self.http_ready = None
        add_on = args.get("http_add_on")
        if add_on is not None:
            self.http_ready = helm.release(
                f"{name}-http-release",
                chart=versions.KEDA_HTTP_CHART,
                namespace=NAMESPACE,
                values=keda_http.render_values(
                    add_on["watch_namespace"], add_on.get("highly_available", False)
                ),
                timeout=600,
                # The add-on scales its interceptor with a ScaledObject: KEDA's CRDs first.
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[namespace, self.ready, *waits]
                ),
            )
        self.namespace = pulumi.Output.from_input(NAMESPACE)
        self.register_outputs(
            {"namespace": self.namespace, "ready": self.ready, "httpReady": self.http_ready}
        )
