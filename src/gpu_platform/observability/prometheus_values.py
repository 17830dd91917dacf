"""kube-prometheus-stack's Helm values (pure data): Prometheus selecting every monitor and rule
that carries the platform's monitoring label, Grafana with the platform's dashboards, and
Alertmanager when a receiver is configured, all on the system nodes."""

from __future__ import annotations

from typing import Any

from gpu_platform import labels, versions
from gpu_platform.catalog import Cloud
from gpu_platform.observability import alertmanager, dashboards
from gpu_platform.observability.spec import ObservabilitySpec

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
