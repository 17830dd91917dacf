"""The `addons` section of the stack config: chart version overrides, GPU quotas per namespace
and cluster-autoscaler behaviour."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from gpu_platform.spec import Spec, check

CHART_VERSION = re.compile(r"^v?\d+\.\d+\.\d+$", re.ASCII)
CHART_VERSION_RULE = "not a chart version such as 2.20.2 or v26.7.0"
_DURATION = re.compile(r"^(?=\d)(\d+h)?(\d+m)?(\d+s)?$", re.ASCII)

GpuNamespace = Literal["inference", "batch"]


def _version(value: str | None) -> str | None:
    if value is None:
        return None
    return check(CHART_VERSION, value, CHART_VERSION_RULE)


class ChartVersionsSpec(Spec):
    """Chart versions to use instead of the pinned ones. The rendered values are checked against
    the pinned versions' values.yaml; review an override's release notes before using it."""

    gpu_operator: str | None = Field(None, description="NVIDIA GPU Operator (aws), e.g. v26.7.0.")
    keda: str | None = Field(None, description="KEDA, e.g. 2.20.2.")
    dcgm_exporter: str | None = Field(None, description="DCGM exporter (gcp), e.g. 4.8.2.")
    kube_prometheus_stack: str | None = Field(
        None, description="kube-prometheus-stack (the stack's Prometheus), e.g. 88.5.3."
    )
    cluster_autoscaler: str | None = Field(
        None,
        description=(
            "cluster-autoscaler chart (aws), installed with its own default image, whose minor "
            "version must match the cluster's (the pinned release does)."
        ),
    )

    @field_validator(
        "gpu_operator", "keda", "dcgm_exporter", "kube_prometheus_stack", "cluster_autoscaler"
    )
    @classmethod
    def _versions(cls, value: str | None) -> str | None:
        return _version(value)


def _duration(value: str) -> str:
    return check(_DURATION, value, "not a duration such as 10m, 90s or 1h30m")


class ClusterAutoscalerSpec(Spec):
    """How cluster-autoscaler (EKS) adds and removes GPU nodes."""

    scale_down_unneeded_time: str = Field(
        "10m", description="How long a node must be unneeded before it is removed."
    )
    scale_down_delay_after_add: str = Field(
        "10m", description="How long after a scale-up before scale-down is considered again."
    )
    max_node_provision_time: str = Field(
        "20m",
        description=(
            "How long a node may take to register before its group is treated as failed; GPU "
            "nodes with large images are slow."
        ),
    )

    @field_validator(
        "scale_down_unneeded_time", "scale_down_delay_after_add", "max_node_provision_time"
    )
    @classmethod
    def _durations(cls, value: str) -> str:
        return _duration(value)


class AddonsSpec(Spec):
    """Cluster add-ons: GPU Operator / DCGM exporter, KEDA, cluster-autoscaler, namespaces."""

    chart_versions: ChartVersionsSpec = Field(
        default_factory=ChartVersionsSpec, description="Overrides of the pinned chart versions."
    )
    gpu_quota: dict[GpuNamespace, int] = Field(
        default_factory=dict,
        description=(
            "Most nvidia.com/gpu a namespace (inference, batch) may request. Default: what the "
            "pools of that workload can hold at their maximum size."
        ),
    )
    cluster_autoscaler: ClusterAutoscalerSpec = Field(
        default_factory=ClusterAutoscalerSpec,
        description="aws only: cluster-autoscaler settings (GKE runs its own autoscaler).",
    )

    @field_validator("gpu_quota")
    @classmethod
    def _quota(cls, value: dict[str, int]) -> dict[str, int]:
        for namespace, count in value.items():
            if count < 0:
                raise ValueError(f"{namespace}: a quota cannot be negative")
        return value
