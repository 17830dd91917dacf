"""Prometheus: kube-prometheus-stack in the `observability` namespace, selecting every
ServiceMonitor and PodMonitor that carries the platform's monitoring label.

Model autoscaling (KEDA) queries it at `prometheus-operated.observability`; the DCGM exporter
and the model servers are scraped through their monitors. Its CRDs must exist before any
monitor is created, so monitors depend on `ready`. Control-plane components the cloud manages
(controller manager, scheduler, etcd) cannot be scraped on EKS or GKE and are left out.

A public component: typed args (PrometheusArgs, the observability settings as
gpu_platform.observability.observability_args), its Kubernetes provider through `opts`, checked
at construction by the stack config's own rules. It derives the platform's rules itself from the
pools and models it is given: their SLOs, GPU cost at the catalog's prices (or `pricing`'s),
capacity alerts and start-up estimates. No `from __future__ import annotations`: Pulumi's
component analyzer reads the annotations.
"""

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform import versions
from gpu_platform.addons import helm
from gpu_platform.args import (
    chart_version_problems,
    check,
    component_type,
    depends_on,
    from_args,
    mig_strategy,
    pool_spec,
    required,
    spec_key,
    supported_version,
)
from gpu_platform.catalog import Cloud
from gpu_platform.manifests import register_custom
from gpu_platform.observability import (
    alert_rules,
    alertmanager,
    cost_rules,
    dashboards,
    opencost,
)
from gpu_platform.observability.observability_args import ObservabilityArgs, PricingArgs
from gpu_platform.observability.prometheus_values import (
    GRAFANA_ADMIN_SECRET,
    NAMESPACE,
    render_prometheus_values,
)
from gpu_platform.observability.spec import AlertsSpec, ObservabilitySpec, receiver_secrets
from gpu_platform.options import child_of
from gpu_platform.passwords import password_generator
from gpu_platform.pool_args import GpuPoolArgs
from gpu_platform.pricing import PricingSpec
from gpu_platform.serving import coldstart
from gpu_platform.serving.model_args import ModelArgs
from gpu_platform.serving.rules import model_problems
from gpu_platform.serving.spec import ModelSpec

TOKEN = "gpuplatform:observability:Prometheus"


class PrometheusArgs(TypedDict):
    """kube-prometheus-stack with the platform's rules and dashboards, in namespace
    `observability` (which must exist)."""

    cloud: str
    """aws or gcp: where the cluster runs."""
    kubernetes_version: str
    """The cluster's Kubernetes minor version, e.g. "1.36" (the pools' rules depend on it)."""
    observability: NotRequired[ObservabilityArgs]
    """Retention, storage, Grafana, OpenCost, and the alerts' thresholds and receivers."""
    pools: NotRequired[dict[str, GpuPoolArgs]]
    """The cluster's GPU pools, by name: GPU cost per pool, namespace and model, and the
    capacity alerts."""
    models: NotRequired[dict[str, ModelArgs]]
    """The models VllmService serves, by name: their SLO, replica bounds and start-up estimate
    (the serving alerts and dashboards)."""
    mig_strategy: NotRequired[str]
    """How the cluster advertises MIG slices (none, single or mixed; the GPU units priced).
    Default: what the pools need."""
    pricing: NotRequired[PricingArgs]
    """Price overrides: the GPU cost rules and OpenCost use the catalog's list prices
    otherwise."""
    system_machine_type: NotRequired[str]
    """The machine type of the cluster's system nodes, which OpenCost's CPU and memory prices
    derive from; a type the catalog lacks needs its price in pricing.hourlyUsd (else OpenCost
    prices CPU and memory at zero). Default: the platform's (m6i.xlarge on aws, e2-standard-4
    on gcp)."""
    cluster_name: NotRequired[pulumi.Input[str]]
    """The cluster's name, OpenCost's cluster id (required with observability.costReport)."""
    production: NotRequired[bool]
    """Larger Prometheus, two Alertmanagers with storage for their silences."""
    chart_version: NotRequired[str]
    """Override of the pinned kube-prometheus-stack chart version."""
    pagerduty_routing_key: NotRequired[pulumi.Input[str]]
    """PagerDuty Events API v2 integration key (a secret; required with
    observability.alerts.pagerduty)."""
    slack_webhook_url: NotRequired[pulumi.Input[str]]
    """Slack incoming webhook URL (a secret; required with observability.alerts.slack)."""
    grafana_admin_password: NotRequired[pulumi.Input[str]]
    """Grafana's admin password (a secret). Default: a generated one."""


# The receivers' secret args, by the stack config secret each stands for.
RECEIVER_ARGS = {
    "pagerdutyRoutingKey": "pagerduty_routing_key",
    "slackWebhookUrl": "slack_webhook_url",
}


def receiver_args(
    alerts: AlertsSpec, args: Mapping[str, Any]
) -> tuple[dict[str, pulumi.Input[str]], list[tuple[str, str]]]:
    """The receivers' credentials among `args` (by RECEIVER_ARGS' names), by config secret
    key, and the problems: a receiver the alerts use without its secret, or a secret no alert
    uses."""
    secrets, problems = {}, []
    for key, used in receiver_secrets(alerts).items():
        value = args.get(RECEIVER_ARGS[key])
        if used and value is None:
            problems.append((key, "required: the alerts name this receiver"))
        elif value is not None and not used:
            problems.append((key, "no alert goes to this receiver; remove it"))
        elif value is not None:
            secrets[key] = value
    return secrets, problems


@dataclass(frozen=True)
class _Settings:
    """PrometheusArgs, checked and resolved."""

    cloud: Cloud
    spec: ObservabilitySpec
    chart_version: str | None = None
    production: bool = False
    receiver_secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Alert receivers' credentials, by config secret key (`pagerdutyRoutingKey`, ...)."""
    grafana_admin_password: pulumi.Input[str] | None = None
    """Generated when None."""
    cluster_name: pulumi.Input[str] = ""
    """OpenCost's cluster id."""
    opencost_prices: dict[str, Any] = field(default_factory=dict)
    """OpenCost's custom price list (opencost.price_list)."""
    rule_groups: list[dict[str, Any]] = field(default_factory=list)
    """The platform's alerting and recording rules (gpu_platform/observability/alert_rules.py)."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)


def settings(args: PrometheusArgs, waits: list[pulumi.Resource]) -> _Settings:
    """The args checked by the stack config's own rules, and the rules derived from them."""
    component = "PrometheusArgs"
    required(component, args, ("cloud", "kubernetes_version"))
    cloud, version = args.get("cloud"), args.get("kubernetes_version")
    problems = supported_version(version) + chart_version_problems(args.get("chart_version"))
    if cloud not in ("aws", "gcp"):
        problems.append(("cloud", f"{cloud!r} is not aws or gcp"))
    check(component, problems)
    spec = from_args(component, "observability", ObservabilitySpec, args.get("observability", {}))
    pricing = from_args(component, "pricing", PricingSpec, args.get("pricing", {}))
    pools = {
        name: pool_spec(component, pool, cloud, version, f"pools.{name}")  # type: ignore[arg-type]
        for name, pool in (args.get("pools") or {}).items()
    }
    models = {
        name: from_args(component, f"models.{name}", ModelSpec, model)
        for name, model in (args.get("models") or {}).items()
    }
    production = bool(args.get("production", False))
    problems = [
        (spec_key(f"models.{name}", p.path, ModelSpec), p.message)
        for name, model in models.items()
        for p in model_problems(cloud, production, model, pools)  # type: ignore[arg-type]
    ]
    secrets, found = receiver_args(spec.alerts, args)
    problems += found
    if args.get("grafana_admin_password") is not None and not spec.grafana:
        problems.append(("grafanaAdminPassword", "observability.grafana is false; remove it"))
    if spec.cost_report and args.get("cluster_name") is None:
        problems.append(("clusterName", "required with observability.costReport (OpenCost)"))
    check(component, problems)
    strategy = mig_strategy(component, args.get("mig_strategy"), pools)
    return _Settings(
        cloud=cloud,  # type: ignore[arg-type]
        spec=spec,
        chart_version=args.get("chart_version"),
        production=production,
        receiver_secrets=secrets,
        grafana_admin_password=args.get("grafana_admin_password"),
        cluster_name=args.get("cluster_name") or "",
        opencost_prices=opencost.system_price_list(
            cloud,  # type: ignore[arg-type]
            args.get("system_machine_type"),
            pricing,
        ),
        rule_groups=alert_rules.render_groups(
            spec,
            models,
            cost_rules.pool_unit_prices(cloud, pools, strategy, pricing),  # type: ignore[arg-type]
            pools,
            coldstart.startup_estimates(cloud, models, pools),  # type: ignore[arg-type]
        ),
        depends_on=waits,
    )


class Prometheus(pulumi.ComponentResource):
    """kube-prometheus-stack: Prometheus, its operator and CRDs, node and cluster exporters,
    Grafana with the platform's dashboards, OpenCost and the platform's rules. Give it the
    Kubernetes provider in `opts` (`providers=[k8s_provider]`)."""

    namespace: pulumi.Output[str]
    """The namespace it runs in (observability)."""
    ready: k8s.helm.v3.Release
    """kube-prometheus-stack's release: depend on it before creating ServiceMonitors,
    PodMonitors or PrometheusRules (its CRDs)."""

    def __init__(self, name: str, args: PrometheusArgs, opts: pulumi.ResourceOptions | None = None):
        resolved = settings(args, depends_on(opts))
        super().__init__(component_type(TOKEN, "Prometheus"), name, None, opts)
        self._build(name, resolved)

    def _build(self, name: str, args: _Settings) -> None:
        child = functools.partial(child_of, self, None)
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
        self.namespace = pulumi.Output.from_input(NAMESPACE)
        self.register_outputs({"namespace": NAMESPACE})
