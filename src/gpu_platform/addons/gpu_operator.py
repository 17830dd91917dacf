"""GpuOperator: the NVIDIA GPU stack on top of what the cloud already provides, never twice.

- EKS: the AL2023 NVIDIA AMI ships the driver and container toolkit, so the GPU Operator runs
  with both off and supplies the device plugin, GPU feature discovery, node feature discovery,
  the MIG manager (when a pool uses MIG) and the DCGM exporter. Time-slicing pools get a
  device-plugin config each, selected by the node label `nvidia.com/device-plugin.config`.
- GKE: GKE installs the driver and runs its own device plugin, MIG partitioning and time-sharing
  (see `gpu_platform/gcp/node_pool.py`), so a GPU Operator would only double-install them. Only
  the DCGM exporter is added, reading the driver GKE installed under /home/kubernetes/bin/nvidia.
  GKE admits system-node-critical pods outside kube-system only up to a ResourceQuota scoped to
  that priority, so its namespace gets one.

A public component: typed args (GpuOperatorArgs, the pools as gpu_platform.pool_args), its
Kubernetes provider through `opts`, checked at construction. No `from __future__ import
annotations`: Pulumi's component analyzer reads the annotations.
"""

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import yaml

from gpu_platform import labels, versions
from gpu_platform.addons import helm
from gpu_platform.addons.platform_base import render_namespace
from gpu_platform.args import (
    chart_version_problems,
    check,
    component_type,
    depends_on,
    mig_strategy,
    pool_spec,
    required,
    supported_version,
)
from gpu_platform.catalog import Cloud
from gpu_platform.labels import MigStrategy
from gpu_platform.observability import dcgm_counters
from gpu_platform.pool_args import GpuPoolArgs
from gpu_platform.pools import NodePoolSpec

TOKEN = "gpuplatform:addons:GpuOperator"
NAMESPACE = {"aws": "gpu-operator", "gcp": "dcgm-exporter"}
DEVICE_PLUGIN_CONFIG = "device-plugin-config"
GKE_DRIVER_DIR = "/home/kubernetes/bin/nvidia"
GKE_ACCELERATOR_LABEL = "cloud.google.com/gke-accelerator"
# Every GPU series carries the Kubernetes node it was read on, as `node`, which the node's own
# alerts carry too (Alertmanager silences a down node's GPU alerts by it).
NODE_RELABELING = {
    "sourceLabels": ["__meta_kubernetes_pod_node_name"],
    "targetLabel": "node",
    "action": "replace",
}
_DCGM_METRICS_MOUNT = {  # the chart's own default mount, kept when adding ours
    "name": "exporter-metrics-volume",
    "mountPath": "/etc/dcgm-exporter/default-counters.csv",
    "subPath": "default-counters.csv",
}


def _device_plugin_config(strategy: MigStrategy, replicas: int | None = None) -> str:
    config: dict[str, Any] = {"version": "v1", "flags": {"migStrategy": strategy}}
    if replicas is not None:
        config["flags"]["migStrategy"] = "none"
        config["sharing"] = {
            "timeSlicing": {
                "renameByDefault": False,
                # A pod asking for 2 shared GPUs could get 2 slices of one GPU; refuse instead.
                "failRequestsGreaterThanOne": True,
                "resources": [{"name": labels.GPU_RESOURCE, "replicas": replicas}],
            }
        }
    return yaml.safe_dump(config, sort_keys=False)


def render_time_slicing_config(
    pools: Mapping[str, NodePoolSpec], strategy: MigStrategy
) -> dict | None:
    """The device-plugin ConfigMap: `default` for ordinary nodes plus one entry per time-slicing
    pool (its nodes carry `nvidia.com/device-plugin.config=<pool>`). None without such pools."""
    shared = {
        name: pool.sharing.replicas
        for name, pool in pools.items()
        if pool.sharing.mode == "time-slicing"
    }
    if not shared:
        return None
    data = {"default": _device_plugin_config(strategy)}
    data |= {name: _device_plugin_config(strategy, replicas) for name, replicas in shared.items()}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": DEVICE_PLUGIN_CONFIG, "namespace": NAMESPACE["aws"]},
        "data": data,
    }


def render_gpu_operator_values(
    pools: Mapping[str, NodePoolSpec], strategy: MigStrategy, service_monitor: bool
) -> dict[str, Any]:
    """Helm values of the GPU Operator on EKS with the AL2023 NVIDIA AMI."""
    tolerations = labels.gpu_node_tolerations("aws")
    values: dict[str, Any] = {
        # The AMI ships both; installing them again would fight the host's.
        "driver": {"enabled": False},
        "toolkit": {"enabled": False},
        "mig": {"strategy": "single" if strategy == "none" else strategy},
        "migManager": {"enabled": strategy != "none"},
        "dcgmExporter": {
            "enabled": True,
            # The counters the platform's alerts read (gpu_platform/observability/dcgm_counters.py).
            "config": {"name": dcgm_counters.CONFIG_MAP},
            "serviceMonitor": {
                "enabled": service_monitor,
                "additionalLabels": dict(labels.PROMETHEUS_SELECTOR),
                "relabelings": [NODE_RELABELING],
            },
        },
        # Operands run on every GPU node, spot nodes included.
        "daemonsets": {"tolerations": tolerations},
        "operator": {"nodeSelector": labels.node_selector(labels.SYSTEM_POOL)},
        "node-feature-discovery": {
            "worker": {"tolerations": tolerations},
            "master": {"nodeSelector": labels.node_selector(labels.SYSTEM_POOL)},
            "gc": {"nodeSelector": labels.node_selector(labels.SYSTEM_POOL)},
        },
    }
    if render_time_slicing_config(pools, strategy) is not None:
        values["devicePlugin"] = {
            "config": {"create": False, "name": DEVICE_PLUGIN_CONFIG, "default": "default"}
        }
    return values


def render_dcgm_exporter_values(service_monitor: bool) -> dict[str, Any]:
    """Helm values of the standalone DCGM exporter on GKE GPU nodes."""
    return {
        "tolerations": labels.gpu_node_tolerations("gcp"),
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": GKE_ACCELERATOR_LABEL, "operator": "Exists"}]}
                    ]
                }
            }
        },
        # GKE's driver lives on the host, outside any container image.
        "extraHostVolumes": [{"name": "nvidia-install-dir-host", "hostPath": GKE_DRIVER_DIR}],
        # The platform's counter list, where the chart's default list would be.
        "extraConfigMapVolumes": [
            {
                "name": _DCGM_METRICS_MOUNT["name"],
                "configMap": {
                    "name": dcgm_counters.CONFIG_MAP,
                    "items": [{"key": dcgm_counters.KEY, "path": _DCGM_METRICS_MOUNT["subPath"]}],
                },
            }
        ],
        "extraVolumeMounts": [
            _DCGM_METRICS_MOUNT,
            {"name": "nvidia-install-dir-host", "mountPath": "/usr/local/nvidia", "readOnly": True},
        ],
        "extraEnv": [{"name": "LD_LIBRARY_PATH", "value": "/usr/local/nvidia/lib64"}],
        # Without a device plugin allocation the exporter sees the GPUs only as a privileged pod;
        # the chart's default forbids privilege escalation, which privileged contradicts.
        "securityContext": {"privileged": True, "allowPrivilegeEscalation": True},
        "serviceMonitor": {
            "enabled": service_monitor,
            "additionalLabels": dict(labels.PROMETHEUS_SELECTOR),
            "relabelings": [NODE_RELABELING],
        },
    }


def render_critical_pods_quota(namespace: str) -> dict:
    """GKE admits system-node-critical pods outside kube-system only within such a quota."""
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "critical-pods", "namespace": namespace},
        "spec": {
            "hard": {"pods": "1000"},
            "scopeSelector": {
                "matchExpressions": [
                    {
                        "scopeName": "PriorityClass",
                        "operator": "In",
                        "values": ["system-node-critical", "system-cluster-critical"],
                    }
                ]
            },
        },
    }


class GpuOperatorArgs(TypedDict):
    """The GPU stack a cluster's GPU pools need from Kubernetes."""

    cloud: str
    """aws: the NVIDIA GPU Operator (the AMI has the driver); gcp: the DCGM exporter alone."""
    kubernetes_version: str
    """The cluster's Kubernetes minor version, e.g. "1.36" (its namespace's Pod Security labels
    are pinned to it)."""
    pools: dict[str, GpuPoolArgs]
    """The cluster's GPU pools by name: MIG and time-slicing settings come from them."""
    mig_strategy: NotRequired[str]
    """How MIG slices are advertised (none, single or mixed). Default: what the pools need."""
    chart_version: NotRequired[str]
    """The chart's version; default the one the platform pins and tests."""
    service_monitor: NotRequired[bool]
    """Whether the cluster runs the Prometheus Operator (a ServiceMonitor for the DCGM
    exporter). Default: true."""


def _specs(args: GpuOperatorArgs) -> dict[str, NodePoolSpec]:
    """The pools' specs, each checked by the stack config's own rules."""
    required("GpuOperatorArgs", args, ("cloud", "kubernetes_version", "pools"))
    cloud, version = args.get("cloud"), args.get("kubernetes_version")
    problems = supported_version(version) + chart_version_problems(args.get("chart_version"))
    if cloud not in NAMESPACE:
        problems.append(("cloud", f"{cloud!r} is not aws or gcp"))
    check("GpuOperatorArgs", problems)
    return {
        name: pool_spec("GpuOperatorArgs", pool, cloud, version, f"pools.{name}")  # type: ignore[arg-type]
        for name, pool in (args.get("pools") or {}).items()
    }


class GpuOperator(pulumi.ComponentResource):
    """NVIDIA GPU Operator (EKS) or DCGM exporter (GKE), with its namespace and configuration.
    Give it the Kubernetes provider in `opts` (`providers=[k8s_provider]`)."""

    namespace: pulumi.Output[str]
    """The namespace the GPU agents run in."""
    release: k8s.helm.v3.Release
    """The chart's release: depend on it before running GPU workloads."""

    def __init__(
        self, name: str, args: GpuOperatorArgs, opts: pulumi.ResourceOptions | None = None
    ):
        pools = _specs(args)
        strategy = mig_strategy("GpuOperatorArgs", args.get("mig_strategy"), pools)
        super().__init__(component_type(TOKEN, "GpuOperator"), name, None, opts)
        cloud: Cloud = args["cloud"]  # type: ignore[assignment]
        monitor = args.get("service_monitor", True)
        waits = depends_on(opts)

        def child(depends: list[pulumi.Resource]) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, depends_on=depends)

        # Node agents need host access: the namespace is privileged.
        manifest = render_namespace(NAMESPACE[cloud], "privileged", args["kubernetes_version"])
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns", metadata=manifest["metadata"], opts=child(waits)
        )
        counters = dcgm_counters.render_config_map(NAMESPACE[cloud])
        ready: list[pulumi.Resource] = [
            namespace,
            *waits,
            k8s.core.v1.ConfigMap(
                f"{name}-dcgm-metrics",
                metadata=counters["metadata"],
                data=counters["data"],
                opts=child([namespace]),
            ),
        ]
        if cloud == "aws":
            chart = versions.GPU_OPERATOR_CHART
            values = render_gpu_operator_values(pools, strategy, monitor)
            config = render_time_slicing_config(pools, strategy)
            if config is not None:
                ready.append(
                    k8s.core.v1.ConfigMap(
                        f"{name}-device-plugin-config",
                        metadata=config["metadata"],
                        data=config["data"],
                        opts=child([namespace]),
                    )
                )
        else:
            chart = versions.DCGM_EXPORTER_CHART
            values = render_dcgm_exporter_values(monitor)
            quota = render_critical_pods_quota(NAMESPACE["gcp"])
            ready.append(
                k8s.core.v1.ResourceQuota(
                    f"{name}-critical-pods",
                    metadata=quota["metadata"],
                    spec=quota["spec"],
                    opts=child([namespace]),
                )
            )
        self.release = helm.release(
            f"{name}-release",
            chart=chart,
            version=args.get("chart_version"),
            namespace=NAMESPACE[cloud],
            values=values,
            timeout=900,
            opts=child(ready),
        )
        self.namespace = pulumi.Output.from_input(NAMESPACE[cloud])
        self.register_outputs({"namespace": self.namespace, "release": self.release})
