"""The Platform's add-ons: namespaces, priorities and quotas, Prometheus, the GPU Operator (or
GKE's DCGM exporter), KEDA and, on EKS, cluster-autoscaler."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi

from gpu_platform import labels
from gpu_platform.addons.cluster_autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from gpu_platform.addons.gpu_operator import GpuOperator, GpuOperatorArgs
from gpu_platform.addons.keda import Keda, KedaArgs
from gpu_platform.addons.platform_base import PlatformBase, PlatformBaseArgs
from gpu_platform.args import pool_args
from gpu_platform.observability.prometheus import NAMESPACE as PROMETHEUS_NAMESPACE
from gpu_platform.observability.prometheus import RECEIVER_ARGS, Prometheus, PrometheusArgs
from gpu_platform.platform import derived
from gpu_platform.platform.spec import PlatformSpec
from gpu_platform.serving.vllm_service import NAMESPACE as SERVING_NAMESPACE

if TYPE_CHECKING:
    from gpu_platform.platform.component import Platform, Secrets


def install(platform: Platform, name: str, config: PlatformSpec) -> None:
    """Namespaces, GPU Operator (or DCGM exporter), KEDA and, on EKS, cluster-autoscaler."""
    cloud, addons, cluster = config.cloud, config.addons, platform.cluster
    version = config.cluster.kubernetes_version
    strategy = labels.mig_strategy(config.node_pools)
    provider = cluster.k8s_provider
    ready = list(cluster.system_ready)
    pools = list(platform.node_pools.values())
    platform.base = PlatformBase(
        f"{name}-base",
        PlatformBaseArgs(
            cloud.provider,
            version,
            config.node_pools,
            strategy,
            addons.gpu_quota,
            provider,
            ready,
            inference_clients=derived.inference_clients(config),
        ),
        opts=pulumi.ResourceOptions(parent=platform),
    )
    platform.prometheus = Prometheus(
        f"{name}-prometheus",
        prometheus_args(config, cluster.cluster_name, platform.secrets),
        opts=pulumi.ResourceOptions(
            parent=platform,
            providers=[provider],
            depends_on=[*ready, platform.base.namespaces[PROMETHEUS_NAMESPACE]],
        ),
    )
    gpu_args = GpuOperatorArgs(
        cloud=cloud.provider,
        kubernetes_version=version,
        pools={n: pool_args(p) for n, p in config.node_pools.items()},  # type: ignore[misc]
        mig_strategy=strategy,
        service_monitor=True,
    )
    chart_version = (
        addons.chart_versions.gpu_operator
        if cloud.provider == "aws"
        else addons.chart_versions.dcgm_exporter
    )
    if chart_version is not None:
        gpu_args["chart_version"] = chart_version
    platform.gpu_operator = GpuOperator(
        f"{name}-gpu",
        gpu_args,
        opts=pulumi.ResourceOptions(
            parent=platform,
            providers=[provider],
            depends_on=[*ready, *pools, platform.prometheus.ready],
        ),
    )
    keda_args = KedaArgs(kubernetes_version=version)
    if addons.chart_versions.keda is not None:
        keda_args["chart_version"] = addons.chart_versions.keda
    if any(m.scales_to_zero for m in config.models.values()):
        keda_args["http_add_on"] = {
            "watch_namespace": SERVING_NAMESPACE,
            "highly_available": config.production,
        }
    platform.keda = Keda(
        f"{name}-keda",
        keda_args,
        opts=pulumi.ResourceOptions(parent=platform, providers=[provider], depends_on=ready),
    )
    if cloud.provider == "aws":
        ClusterAutoscaler(
            f"{name}-autoscaler",
            ClusterAutoscalerArgs(
                cluster_name=cluster.cluster_name,
                region=cloud.region,
                kubernetes_version=version,
                pools=config.node_pools,
                models=config.models,
                spec=addons.cluster_autoscaler,
                k8s_provider=provider,
                chart_version=addons.chart_versions.cluster_autoscaler,
                depends_on=[*ready, *pools],
            ),
            opts=pulumi.ResourceOptions(parent=platform),
        )


def prometheus_args(
    config: PlatformSpec, cluster_name: pulumi.Input[str], secrets: Secrets
) -> PrometheusArgs:
    """The stack's observability settings, pools, models, prices and secrets as Prometheus'
    args (the component derives the platform's rules from them)."""
    cloud = config.cloud.provider
    args = PrometheusArgs(
        cloud=cloud,
        kubernetes_version=config.cluster.kubernetes_version,
        observability=config.observability.model_dump(exclude_unset=True),  # type: ignore[typeddict-item]
        pools={n: pool_args(p) for n, p in config.node_pools.items()},  # type: ignore[misc]
        models={n: m.model_dump(exclude_none=True) for n, m in config.models.items()},  # type: ignore[misc]
        mig_strategy=labels.mig_strategy(config.node_pools),
        pricing=config.pricing.model_dump(exclude_unset=True),  # type: ignore[typeddict-item]
        cluster_name=cluster_name,
        production=config.production,
    )
    machine = config.cluster.system_nodes.instance_type
    if machine is not None:
        args["system_machine_type"] = machine
    chart_version = config.addons.chart_versions.kube_prometheus_stack
    if chart_version is not None:
        args["chart_version"] = chart_version
    for key, name in RECEIVER_ARGS.items():
        value = secrets.receivers.get(key)
        if value is not None:
            args[name] = value  # type: ignore[literal-required]
    if secrets.grafana_admin_password is not None:
        args["grafana_admin_password"] = secrets.grafana_admin_password
    return args
