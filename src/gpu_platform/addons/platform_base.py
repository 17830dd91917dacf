"""PlatformBase: the namespaces workloads run in, their Pod Security levels, PriorityClasses,
GPU quotas and container defaults.

Pod Security Admission levels, and why:

- `inference`: restricted. Model servers run as non-root with every capability dropped and the
  RuntimeDefault seccomp profile; nothing else belongs there.
- `batch`: baseline. Batch jobs bring their own images, many of which run as root; baseline
  still forbids privileged pods and host namespaces, paths and ports.
- `data`: baseline. Vector store images (Weaviate) run as root by default.
- `observability`: privileged. The Prometheus node exporter reads the host's network, process
  namespace and filesystem, which no other level allows.

Every namespace also warns and audits against `restricted`, so drift shows up before it is
enforced.

`inference`, `batch` and `data` are application namespaces (labelled so: the policy pack wants a
NetworkPolicy in each); `observability` and the add-ons' own namespaces are platform ones.
Model servers and data stores bring their own policies, which admit what each needs; under
them `inference` and `data` deny every other ingress (so a pod no policy selects, or the
namespace of a stack without models or with a managed store, is not open to the cluster).
`batch` gets one that admits traffic from its own pods and from `observability` (metrics) only,
and leaves egress open (jobs fetch their data).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform import labels
from gpu_platform.catalog import Cloud
from gpu_platform.labels import MigStrategy
from gpu_platform.options import child_of
from gpu_platform.pools import NodePoolSpec

TOKEN = "gpuplatform:addons:PlatformBase"
PSA = "pod-security.kubernetes.io"
NAMESPACE_LEVELS = {
    "inference": "restricted",
    "batch": "baseline",
    "data": "baseline",
    "observability": "privileged",
}
NAMESPACE_ROLES = {
    "inference": "application",
    "batch": "application",
    "data": "application",
    "observability": "platform",
}
GPU_NAMESPACES = ("inference", "batch")
INFERENCE_PRIORITY, BATCH_PRIORITY = "inference", "batch"


def render_namespace(
    name: str, level: str, kubernetes_version: str, role: str = "platform"
) -> dict:
    """A Namespace with Pod Security Admission labels pinned to the cluster's version, and its
    role (`application` or `platform`)."""
    version = f"v{kubernetes_version}"
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {
                f"{PSA}/enforce": level,
                f"{PSA}/enforce-version": version,
                f"{PSA}/warn": "restricted",
                f"{PSA}/warn-version": version,
                f"{PSA}/audit": "restricted",
                f"{PSA}/audit-version": version,
                labels.PART_OF_LABEL: "gpu-platform",
                labels.NAMESPACE_ROLE_LABEL: role,
            },
        },
    }


# Namespaces whose workloads bring their own allow policies; everything else is denied.
DEFAULT_DENY_NAMESPACES = ("inference", "data")


def render_default_deny(namespace: str) -> dict:
    """Deny every ingress to the namespace's pods that no other policy admits (policies add
    up: each allows, none removes)."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": "default-deny-ingress",
            "namespace": namespace,
            "labels": {labels.PART_OF_LABEL: "gpu-platform"},
        },
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }


def render_batch_network_policy() -> dict:
    """Batch pods admit their own namespace's pods and metrics scrapes; egress stays open."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": "batch-ingress",
            "namespace": "batch",
            "labels": {labels.PART_OF_LABEL: "gpu-platform"},
        },
        "spec": {
            "podSelector": {},
            "policyTypes": ["Ingress"],
            "ingress": [
                {"from": [{"podSelector": {}}]},
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "observability"}
                            }
                        }
                    ]
                },
            ],
        },
    }


def render_priority_classes() -> list[dict]:
    """Inference may preempt lower-priority pods to get a GPU; batch never preempts anything,
    so batch jobs can only fill capacity inference is not using."""
    return [
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": INFERENCE_PRIORITY},
            "value": 100000,
            "preemptionPolicy": "PreemptLowerPriority",
            "globalDefault": False,
            "description": "Model serving: preempts batch work for GPUs.",
        },
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": BATCH_PRIORITY},
            "value": 1000,
            "preemptionPolicy": "Never",
            "globalDefault": False,
            "description": "Batch jobs: never preempt; preempted by inference.",
        },
    ]


def render_gpu_quota(
    cloud: Cloud,
    pools: Mapping[str, NodePoolSpec],
    strategy: MigStrategy,
    overrides: Mapping[str, int],
) -> dict[str, dict[str, str]]:
    """ResourceQuota `hard` limits per namespace: GPU namespaces may request what the pools of
    their workload can hold at maximum size (or the configured quota); other namespaces none."""
    quotas: dict[str, dict[str, int]] = {name: {} for name in NAMESPACE_LEVELS}
    for namespace in GPU_NAMESPACES:
        totals = quotas[namespace]
        totals[labels.GPU_RESOURCE] = 0
        for pool in pools.values():
            if pool.workload != namespace:
                continue
            for resource, count in labels.advertised_resources(cloud, pool, strategy).items():
                totals[resource] = totals.get(resource, 0) + count * pool.max_nodes
        if namespace in overrides:
            totals[labels.GPU_RESOURCE] = overrides[namespace]
    for totals in quotas.values():
        totals.setdefault(labels.GPU_RESOURCE, 0)
    return {
        namespace: {
            f"requests.{resource}": str(count) for resource, count in sorted(totals.items())
        }
        for namespace, totals in quotas.items()
    }


def render_resource_quota(namespace: str, hard: dict[str, str]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "gpu", "namespace": namespace},
        "spec": {"hard": hard},
    }


def render_limit_range(namespace: str) -> dict:
    """Defaults for containers that set no resources: a request so the scheduler can place them
    and a memory limit so one cannot starve a node. No default CPU limit (it only throttles)."""
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "container-defaults", "namespace": namespace},
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "defaultRequest": {"cpu": "100m", "memory": "256Mi"},
                    "default": {"memory": "1Gi"},
                }
            ]
        },
    }


@dataclass(frozen=True)
class PlatformBaseArgs:
    cloud: Cloud
    kubernetes_version: str
    pools: Mapping[str, NodePoolSpec]
    mig_strategy: MigStrategy
    gpu_quota: Mapping[str, int]
    k8s_provider: k8s.Provider
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    inference_clients: tuple[str, ...] = ()
    """Namespaces of the platform's own whose pods call model servers."""


class PlatformBase(pulumi.ComponentResource):
    """Namespaces, PriorityClasses, GPU ResourceQuotas and LimitRanges."""

    namespaces: dict[str, k8s.core.v1.Namespace]

    def __init__(
        self, name: str, args: PlatformBaseArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(TOKEN, name, None, opts)

        child = functools.partial(child_of, self, args.k8s_provider)

        quotas = render_gpu_quota(args.cloud, args.pools, args.mig_strategy, args.gpu_quota)
        self.namespaces = {}
        for namespace, level in NAMESPACE_LEVELS.items():
            manifest = render_namespace(
                namespace, level, args.kubernetes_version, NAMESPACE_ROLES[namespace]
            )
            if namespace in args.inference_clients:
                manifest["metadata"]["labels"][labels.INFERENCE_CLIENT_LABEL] = "true"
            ns = k8s.core.v1.Namespace(
                f"{name}-{namespace}", metadata=manifest["metadata"], opts=child(args.depends_on)
            )
            self.namespaces[namespace] = ns
            quota = render_resource_quota(namespace, quotas[namespace])
            k8s.core.v1.ResourceQuota(
                f"{name}-{namespace}-gpu",
                metadata=quota["metadata"],
                spec=quota["spec"],
                opts=child([ns]),
            )
            limits = render_limit_range(namespace)
            k8s.core.v1.LimitRange(
                f"{name}-{namespace}-defaults",
                metadata=limits["metadata"],
                spec=limits["spec"],
                opts=child([ns]),
            )
        for namespace in DEFAULT_DENY_NAMESPACES:
            deny = render_default_deny(namespace)
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{namespace}-default-deny",
                metadata=deny["metadata"],
                spec=deny["spec"],
                opts=child([self.namespaces[namespace]]),
            )
        batch = render_batch_network_policy()
        k8s.networking.v1.NetworkPolicy(
            f"{name}-batch-ingress",
            metadata=batch["metadata"],
            spec=batch["spec"],
            opts=child([self.namespaces["batch"]]),
        )
        for priority in render_priority_classes():
            k8s.scheduling.v1.PriorityClass(
                f"{name}-{priority['metadata']['name']}",
                metadata=priority["metadata"],
                value=priority["value"],
                preemption_policy=priority["preemptionPolicy"],
                global_default=priority["globalDefault"],
                description=priority["description"],
                opts=child(args.depends_on),
            )
        self.register_outputs({"namespaces": list(self.namespaces)})
