"""ClusterAutoscaler (EKS): cluster-autoscaler from its chart, discovering the cluster's node
groups by tag and choosing between them with the priority expander: reserved capacity first
(already paid for), then spot, then on-demand, in the order every model's tiers ask for
(gpu_platform/tiers.py).

GKE runs its own autoscaler, configured on each node pool.

Scale-down suits GPU nodes: pods with emptyDir volumes (every model server's /dev/shm) do not
pin a node forever, DaemonSet pods (the GPU agents) do not count as utilisation, and
PodDisruptionBudgets are respected. Model servers are marked safe-to-evict=false, so the
autoscaler never moves one (loading or serving) to pack nodes: their nodes go away when KEDA
scales the replicas in.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from gpu_platform import k8s_versions, labels
from gpu_platform.addons import helm
from gpu_platform.addons.spec import ClusterAutoscalerSpec
from gpu_platform.aws.addons import AUTOSCALER_NAMESPACE, AUTOSCALER_SERVICE_ACCOUNT
from gpu_platform.options import child_of
from gpu_platform.pools import NodePoolSpec
from gpu_platform.serving.spec import ModelSpec
from gpu_platform.tiers import SYSTEM_PRIORITY, pool_priorities

TOKEN = "gpuplatform:addons:ClusterAutoscaler"
PRIORITY_CONFIGMAP = "cluster-autoscaler-priority-expander"


_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _asg_pattern(pool: str) -> str:
    # EKS names a managed node group's Auto Scaling group eks-<node group>-<uuid>, and node
    # groups are named <pool>-<hex suffix>: the suffix has no '-', so pool `a` never matches
    # the groups of pool `a-b`.
    return f"^eks-{pool}-[0-9a-f]+-{_UUID}$"


def render_priority_expander(
    pools: Mapping[str, NodePoolSpec], models: Mapping[str, ModelSpec] | None = None
) -> dict:
    """The ConfigMap the priority expander reads: ASG name patterns by priority
    (gpu_platform.tiers: capacity kinds, and the models' tier orders)."""
    priorities: dict[int, list[str]] = {SYSTEM_PRIORITY: [_asg_pattern(labels.SYSTEM_POOL)]}
    for name, priority in sorted(pool_priorities(pools, models or {}).items()):
        priorities.setdefault(priority, []).append(_asg_pattern(name))
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": PRIORITY_CONFIGMAP, "namespace": AUTOSCALER_NAMESPACE},
        "data": {"priorities": yaml.safe_dump(dict(sorted(priorities.items())), sort_keys=False)},
    }


def render_cluster_autoscaler_values(
    cluster_name: str, region: str, spec: ClusterAutoscalerSpec, image_tag: str | None = None
) -> dict[str, Any]:
    """Chart values; `image_tag` replaces the chart's default image (see AutoscalerRelease)."""
    return {
        **({"image": {"tag": image_tag}} if image_tag else {}),
        "cloudProvider": "aws",
        "awsRegion": region,
        "autoDiscovery": {"clusterName": cluster_name},
        "fullnameOverride": AUTOSCALER_SERVICE_ACCOUNT,
        # The EKS Pod Identity association names this service account.
        "rbac": {"serviceAccount": {"create": True, "name": AUTOSCALER_SERVICE_ACCOUNT}},
        "extraArgs": {
            "expander": "priority",
            "balance-similar-node-groups": True,
            "skip-nodes-with-local-storage": False,
            "ignore-daemonsets-utilization": True,
            "scale-down-unneeded-time": spec.scale_down_unneeded_time,
            "scale-down-delay-after-add": spec.scale_down_delay_after_add,
            "max-node-provision-time": spec.max_node_provision_time,
        },
        "priorityClassName": "system-cluster-critical",
        "nodeSelector": labels.node_selector(labels.SYSTEM_POOL),
        "resources": {"requests": {"cpu": "100m", "memory": "300Mi"}, "limits": {"memory": "1Gi"}},
        "podDisruptionBudget": {"maxUnavailable": 1},
    }


def autoscaler_release(
    kubernetes_version: str, chart_version: str | None
) -> k8s_versions.AutoscalerRelease:
    """The pinned release for the cluster's minor version, or the stack's chart with its own
    default image (a chart override is expected to be one whose app matches the cluster)."""
    if chart_version is not None:
        return k8s_versions.AutoscalerRelease(chart_version)
    return k8s_versions.CLUSTER_AUTOSCALER[kubernetes_version]


@dataclass(frozen=True)
class ClusterAutoscalerArgs:
    cluster_name: pulumi.Input[str]
    region: str
    kubernetes_version: str
    pools: Mapping[str, NodePoolSpec]
    spec: ClusterAutoscalerSpec
    k8s_provider: k8s.Provider
    models: Mapping[str, ModelSpec] = field(default_factory=dict)
    """Whose tiers order the pools."""
    chart_version: str | None = None
    depends_on: list[pulumi.Resource] = field(default_factory=list)


class ClusterAutoscaler(pulumi.ComponentResource):
    """cluster-autoscaler and its priority expander configuration."""

    def __init__(
        self, name: str, args: ClusterAutoscalerArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(TOKEN, name, None, opts)

        child = functools.partial(child_of, self, args.k8s_provider)

        expander = render_priority_expander(args.pools, args.models)
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-priorities",
            metadata=expander["metadata"],
            data=expander["data"],
            opts=child(args.depends_on),
        )
        release = autoscaler_release(args.kubernetes_version, args.chart_version)
        chart = ("cluster-autoscaler", release.chart, k8s_versions.CLUSTER_AUTOSCALER_REPO)
        values = pulumi.Output.from_input(args.cluster_name).apply(
            lambda cluster: render_cluster_autoscaler_values(
                cluster, args.region, args.spec, release.image_tag
            )
        )
        helm.release(
            f"{name}-release",
            release_name=AUTOSCALER_SERVICE_ACCOUNT,
            chart=chart,
            namespace=AUTOSCALER_NAMESPACE,
            values=values,
            timeout=600,
            opts=child([config_map, *args.depends_on]),
        )
        self.register_outputs({"chartVersion": release.chart})
