"""Prometheus: kube-prometheus-stack in the `observability` namespace, selecting every
ServiceMonitor and PodMonitor that carries the platform's monitoring label.

Model autoscaling (KEDA) queries it at `prometheus-operated.observability`; the DCGM exporter
and the model servers are scraped through their monitors. Its CRDs must exist before any
monitor is created, so monitors depend on `ready`. Control-plane components the cloud manages
(controller manager, scheduler, etcd) cannot be scraped on EKS or GKE and are left out.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform import labels, versions
from gpu_platform.addons import helm
from gpu_platform.catalog import Cloud
from gpu_platform.manifests import register_custom
from gpu_platform.observability import alert_rules, alertmanager, dashboards, opencost
from gpu_platform.observability.spec import ObservabilitySpec
from gpu_platform.options import child_of
from gpu_platform.passwords import password_generator

TOKEN = "gpuplatform:observability:Prometheus"
NAMESPACE = "observability"


def render_alertmanager_values(spec: ObservabilitySpec, production: bool) -> dict[str, Any]:
    """Alertmanager when a receiver is configured: the platform's routing, its receivers'
    credentials from a mounted Secret, on the system nodes; two replicas with storage for its
    silences in production."""
    if not alertmanager.enabled(spec.alerts):
        return {"enabled": False}
    alertmanager_spec: dict[str, Any] = {
        "secrets": [alertmanager.SECRET],
        "nodeSelector": labels.node_selector(labels.SYSTEM_POOL),
        "replicas": 2 if production else 1,
        "resources": {
            "requests": {"cpu": "50m", "memory": "128Mi"},
            "limits": {"memory": "256Mi"},
        },
    }
    if production:
        alertmanager_spec["storage"] = {
            "volumeClaimTemplate": {
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "2Gi"}},
                }
            }
        }
    return {
        "enabled": True,
        "config": alertmanager.render_config(spec.alerts),
        "alertmanagerSpec": alertmanager_spec,
    }


GRAFANA_ADMIN_SECRET = "grafana-admin"


def render_grafana_values(spec: ObservabilitySpec) -> dict[str, Any]:
    """Grafana on the system nodes with its admin credentials from a Secret, the chart's
    dashboards and the platform's (sidecar-loaded ConfigMaps of this namespace)."""
    if not spec.grafana:
        return {"enabled": False}
    return {
        "enabled": True,
        "image": {"tag": versions.GRAFANA_VERSION},
        "admin": {
            "existingSecret": GRAFANA_ADMIN_SECRET,
            "userKey": "admin-user",
            "passwordKey": "admin-password",
        },
        "nodeSelector": labels.node_selector(labels.SYSTEM_POOL),
        "resources": {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"memory": "512Mi"},
        },
        "serviceMonitor": {"labels": dict(labels.PROMETHEUS_SELECTOR)},
        "sidecar": {
            "dashboards": {
                "enabled": True,
                "label": next(iter(dashboards.SIDECAR_LABEL)),
                "labelValue": next(iter(dashboards.SIDECAR_LABEL.values())),
                "searchNamespace": NAMESPACE,
            }
        },
    }


def render_prometheus_values(
    cloud: Cloud, spec: ObservabilitySpec, production: bool = False
) -> dict[str, Any]:
    selector = {"matchLabels": dict(labels.PROMETHEUS_SELECTOR)}
    system = labels.node_selector(labels.SYSTEM_POOL)
    return {
        "crds": {"enabled": True},
        # The chart's own monitors carry the label too, so one selector picks up everything.
        "commonLabels": dict(labels.PROMETHEUS_SELECTOR),
        "grafana": render_grafana_values(spec),
        "alertmanager": render_alertmanager_values(spec, production),
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        # GKE's Dataplane V2 replaces kube-proxy.
        "kubeProxy": {"enabled": cloud == "aws"},
        "prometheusOperator": {"nodeSelector": system},
        # Pool labels on kube_node_labels and kube_pod_labels, so GPU series (which name their
        # node) sum per pool, and a Pending pod names the pool it waits for.
        "kube-state-metrics": {
            "metricLabelsAllowlist": [
                f"nodes=[{labels.POOL_LABEL}]",
                f"pods=[{labels.POOL_LABEL}]",
            ],
            # Subcharts do not get commonLabels: their monitors need the selector themselves.
            "prometheus": {"monitor": {"additionalLabels": dict(labels.PROMETHEUS_SELECTOR)}},
        },
        "prometheus-node-exporter": {
            "prometheus": {"monitor": {"additionalLabels": dict(labels.PROMETHEUS_SELECTOR)}}
        },
        "prometheus": {
            "prometheusSpec": {
                "serviceMonitorSelector": selector,
                "podMonitorSelector": selector,
                "ruleSelector": selector,
                "serviceMonitorNamespaceSelector": {},
                "podMonitorNamespaceSelector": {},
                "retention": spec.retention,
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": f"{spec.storage_gib}Gi"}},
                        }
                    }
                },
                # Production keeps more series (more nodes, models, longer retention).
                "resources": (
                    {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"memory": "4Gi"}}
                    if production
                    else {"requests": {"cpu": "200m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}}
                ),
                "nodeSelector": system,
            }
        },
    }


@dataclass(frozen=True)
class PrometheusArgs:
    cloud: Cloud
    spec: ObservabilitySpec
    k8s_provider: k8s.Provider
    chart_version: str | None = None
    production: bool = False
    receiver_secrets: dict[str, pulumi.Output[str]] = field(default_factory=dict)
    grafana_admin_password: pulumi.Output[str] | None = None
    """From config; generated when None."""
    cluster_name: pulumi.Input[str] = ""
    """OpenCost's cluster id."""
    opencost_prices: dict[str, Any] = field(default_factory=dict)
    """OpenCost's custom price list (opencost.price_list)."""
    """Alert receivers' credentials, by config secret key (`pagerdutyRoutingKey`, ...)."""
    rule_groups: list[dict[str, Any]] = field(default_factory=list)
    """The platform's alerting and recording rules (gpu_platform/observability/alert_rules.py)."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)


class Prometheus(pulumi.ComponentResource):
    """kube-prometheus-stack: Prometheus, its operator and CRDs, node and cluster exporters."""

    ready: k8s.helm.v3.Release
    """Depend on this before creating ServiceMonitors or PodMonitors."""

    def __init__(self, name: str, args: PrometheusArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TOKEN, name, None, opts)
        child = functools.partial(child_of, self, args.k8s_provider)
        credentials: list[pulumi.Resource] = []
        if alertmanager.enabled(args.spec.alerts):
            keys = alertmanager.secret_keys(args.spec.alerts)
            credentials.append(
                k8s.core.v1.Secret(
                    f"{name}-alert-receivers",
                    metadata={"name": alertmanager.SECRET, "namespace": NAMESPACE},
                    type="Opaque",
                    string_data={key: args.receiver_secrets[name_] for name_, key in keys.items()},
                    opts=child(args.depends_on),
                )
            )
        if args.spec.grafana:
            password = args.grafana_admin_password or password_generator(name, self)(
                "grafana-admin-password"
            )
            credentials.append(
                k8s.core.v1.Secret(
                    f"{name}-grafana-admin",
                    metadata={"name": GRAFANA_ADMIN_SECRET, "namespace": NAMESPACE},
                    type="Opaque",
                    string_data={"admin-user": "admin", "admin-password": password},
                    opts=child(args.depends_on),
                )
            )
        self.ready = helm.release(
            f"{name}-release",
            chart=versions.KUBE_PROMETHEUS_STACK_CHART,
            version=args.chart_version,
            namespace=NAMESPACE,
            values=render_prometheus_values(args.cloud, args.spec, args.production),
            timeout=900,
            opts=child([*args.depends_on, *credentials]),
        )
        if args.spec.grafana:
            for dashboard_name in dashboards.DASHBOARDS:
                board = dashboards.render_config_map(dashboard_name, NAMESPACE)
                k8s.core.v1.ConfigMap(
                    f"{name}-dashboard-{dashboard_name}",
                    metadata=board["metadata"],
                    data=board["data"],
                    opts=child(args.depends_on),
                )
        if args.spec.cost_report:
            helm.release(
                f"{name}-opencost",
                chart=versions.OPENCOST_CHART,
                namespace=NAMESPACE,
                values=pulumi.Output.from_input(args.cluster_name).apply(
                    lambda cluster: opencost.render_values(cluster, args.opencost_prices)
                ),
                timeout=600,
                opts=child([self.ready, *args.depends_on]),
            )
        if args.rule_groups:
            register_custom(
                f"{name}-rules",
                alert_rules.render_prometheus_rule(NAMESPACE, args.rule_groups),
                child([self.ready]),
            )
        self.register_outputs({"namespace": NAMESPACE})
