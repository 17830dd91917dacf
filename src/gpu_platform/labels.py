"""The platform's scheduling vocabulary, in one place: node labels, taints, tolerations, node
selectors and the GPU resources a pool's nodes advertise, plus the ownership tags of cloud
resources.

Node pools render their labels and taints from here; add-ons and model servers derive their
tolerations, selectors and resource requests from here, so a workload always matches the pool it
targets. Labels and taints mean the same on EKS and GKE.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from gpu_platform import catalog
from gpu_platform.catalog import Cloud
from gpu_platform.pools import NodePoolSpec

DOMAIN = "gpuplatform.io"
ENVIRONMENT = re.compile(r"^[a-z][a-z0-9-]{0,19}$", re.ASCII)
"""An environment's name, in resource names, labels and tags."""
ENVIRONMENT_RULE = (
    "lowercase letters, digits and '-', starting with a letter, at most 20 characters"
)
POOL_LABEL = f"{DOMAIN}/pool"
GPU_LABEL = f"{DOMAIN}/gpu"
CAPACITY_LABEL = f"{DOMAIN}/capacity"
WORKLOAD_LABEL = f"{DOMAIN}/workload"
SPOT_TAINT_KEY = f"{DOMAIN}/spot"
GPU_RESOURCE = "nvidia.com/gpu"
GPU_TAINT_KEY = "nvidia.com/gpu"
# Read by the GPU Operator's MIG manager (EKS) and device plugin (per-pool time-slicing config).
MIG_CONFIG_LABEL = "nvidia.com/mig.config"
DEVICE_PLUGIN_CONFIG_LABEL = "nvidia.com/device-plugin.config"
EKS_ACCELERATOR_LABEL = "k8s.amazonaws.com/accelerator"
SYSTEM_POOL = "system"
PART_OF_LABEL = "app.kubernetes.io/part-of"
# `application` or `platform`: application namespaces must have a NetworkPolicy (policy/rules.py).
NAMESPACE_ROLE_LABEL = f"{DOMAIN}/namespace-role"
# Namespaces whose pods may call model servers carry this label (gateways, applications, a
# vector store that embeds with a served model).
INFERENCE_CLIENT_LABEL = f"{DOMAIN}/inference-client"
# The label every ServiceMonitor and PodMonitor of the platform carries; the stack's Prometheus
# selects monitors by it.
PROMETHEUS_SELECTOR = {f"{DOMAIN}/prometheus": "platform"}

MigStrategy = Literal["none", "single", "mixed"]
Effect = Literal["NoSchedule", "NoExecute", "PreferNoSchedule"]


@dataclass(frozen=True)
class Taint:
    """A node taint. `set_by_cloud` marks taints the cloud adds itself (GKE's GPU taint)."""

    key: str
    value: str
    effect: Effect = "NoSchedule"
    set_by_cloud: bool = False

    @property
    def cloud_effect(self) -> str:
        """The effect as EKS and GKE APIs spell it (NO_SCHEDULE)."""
        return {"NoSchedule": "NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}.get(
            self.effect, "PREFER_NO_SCHEDULE"
        )

    def as_k8s(self) -> dict[str, str]:
        return {"key": self.key, "value": self.value, "effect": self.effect}


def pool_labels(cloud: Cloud, name: str, pool: NodePoolSpec) -> dict[str, str]:
    """Kubernetes labels every node of the pool carries."""
    labels = {
        POOL_LABEL: name,
        GPU_LABEL: pool.gpu,
        CAPACITY_LABEL: pool.capacity,
        WORKLOAD_LABEL: pool.workload,
    }
    if cloud == "aws":
        # cluster-autoscaler's AWS provider knows GPU nodes by this label: it waits for their
        # GPUs to be advertised instead of scaling up again, and weighs GPU use on scale-down.
        labels[EKS_ACCELERATOR_LABEL] = catalog.gpu(pool.gpu).product_label.lower()
    # On GKE, MIG partitioning and time-sharing are done by GKE itself (gpu_partition_size,
    # gpu_sharing_config); on EKS the GPU Operator applies them, selected by these labels.
    if cloud == "aws" and pool.sharing.mode == "mig":
        labels[MIG_CONFIG_LABEL] = f"all-{pool.sharing.mig_profile}"
    if cloud == "aws" and pool.sharing.mode == "time-slicing":
        labels[DEVICE_PLUGIN_CONFIG_LABEL] = name
    return labels


def system_labels() -> dict[str, str]:
    """Labels of the CPU system pool that runs platform pods."""
    return {POOL_LABEL: SYSTEM_POOL, WORKLOAD_LABEL: SYSTEM_POOL}


def pool_taints(cloud: Cloud, pool: NodePoolSpec) -> tuple[Taint, ...]:
    """Every taint a node of the pool carries, whether the platform or the cloud sets it.

    GPU nodes are tainted so that only pods asking for GPUs land there: EKS nodes get
    `nvidia.com/gpu=true:NoSchedule` from the node group; GKE adds `nvidia.com/gpu=present:
    NoSchedule` itself (a node cannot carry two taints with one key and effect, so the platform
    does not add its own there). Spot nodes also carry `gpuplatform.io/spot=true:NoSchedule` so
    only workloads that accept interruption are scheduled on them.
    """
    taints = [gpu_taint(cloud)]
    if pool.capacity == "spot":
        taints.append(SPOT_TAINT)
    return tuple(taints)


def gpu_taint(cloud: Cloud) -> Taint:
    """The taint every GPU node carries on this cloud."""
    if cloud == "gcp":
        return Taint(GPU_TAINT_KEY, "present", set_by_cloud=True)
    return Taint(GPU_TAINT_KEY, "true")


SPOT_TAINT = Taint(SPOT_TAINT_KEY, "true")


def tolerations(taints: tuple[Taint, ...]) -> list[dict[str, str]]:
    """Tolerations that admit a pod onto nodes with these taints.

    The GPU taint is tolerated by key (operator Exists) so one toleration covers both the EKS
    (`true`) and the GKE (`present`) value; every other taint by key and value.
    """
    result = []
    for taint in taints:
        if taint.key == GPU_TAINT_KEY:
            result.append({"key": taint.key, "operator": "Exists", "effect": taint.effect})
        else:
            result.append(
                {
                    "key": taint.key,
                    "operator": "Equal",
                    "value": taint.value,
                    "effect": taint.effect,
                }
            )
    return result


def tolerates(toleration: Mapping[str, str], taint: Taint) -> bool:
    """Kubernetes' toleration matching rule for one taint."""
    if toleration.get("effect") not in (None, "", taint.effect):
        return False
    if toleration.get("operator") == "Exists":
        return toleration.get("key") in (None, "", taint.key)
    return toleration.get("key") == taint.key and toleration.get("value") == taint.value


def node_selector(name: str) -> dict[str, str]:
    """Selects the nodes of one pool."""
    return {POOL_LABEL: name}


def gpu_node_tolerations(cloud: Cloud) -> list[dict[str, str]]:
    """Tolerations for node agents that must run on every GPU node, spot nodes included."""
    return tolerations((gpu_taint(cloud), SPOT_TAINT))


def mig_strategy(pools: Mapping[str, NodePoolSpec]) -> MigStrategy:
    """The GPU Operator MIG strategy for a set of pools: `single` when every MIG pool uses one
    profile (slices are advertised as nvidia.com/gpu), `mixed` otherwise (each profile is its own
    resource), `none` without MIG pools."""
    profiles = {p.sharing.mig_profile for p in pools.values() if p.sharing.mode == "mig"}
    if not profiles:
        return "none"
    return "single" if len(profiles) == 1 else "mixed"


def advertised_resources(cloud: Cloud, pool: NodePoolSpec, strategy: MigStrategy) -> dict[str, int]:
    """The GPU resources one node of the pool advertises to the scheduler."""
    count, sharing = pool.gpus_per_node, pool.sharing
    if sharing.mode == "mig":
        profile = catalog.gpu(pool.gpu).mig_profile(sharing.mig_profile or "")
        assert profile is not None  # the config model guarantees it
        slices = count * profile.max_instances
        if cloud == "aws" and strategy == "mixed":
            return {f"nvidia.com/mig-{profile.name}": slices}
        return {GPU_RESOURCE: slices}
    if sharing.mode == "time-slicing":
        return {GPU_RESOURCE: count * (sharing.replicas or 1)}
    return {GPU_RESOURCE: count}


def cloud_tags(cloud: Cloud, *, environment: str, stack: str, project: str) -> dict[str, str]:
    """Tags (AWS) or labels (GCP) that every cloud resource of a stack carries.

    AWS tag keys may contain `/` and `.`; GCP label keys may not, so the GCP form uses `_`.
    """
    tags = {
        f"{DOMAIN}/environment": environment,
        f"{DOMAIN}/stack": stack,
        f"{DOMAIN}/project": project,
        f"{DOMAIN}/managed-by": "pulumi",
    }
    if cloud == "aws":
        return tags
    return {_gcp_label(key): _gcp_label(value) for key, value in tags.items()}


def _gcp_label(text: str) -> str:
    """GCP label keys and values: lowercase letters, digits, '_' and '-', at most 63."""
    return re.sub(r"[^a-z0-9_-]", "_", text.lower())[:63]
