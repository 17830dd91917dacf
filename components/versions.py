"""Pinned versions of what the platform installs, in one place.

Changing a pin is a reviewed change: it shows up in both stacks' offline plans. Check a new value
live before pinning it:

    aws ssm get-parameter --name \\
      /aws/service/eks/optimized-ami/<k8s>/amazon-linux-2023/x86_64/nvidia/recommended/release_version
    aws eks describe-addon-versions --kubernetes-version <k8s> --addon-name <name>
"""

from __future__ import annotations

# EKS AL2023 NVIDIA AMI release per Kubernetes minor version: `<kubelet version>-<build date>`.
# Every AL2023 variant (standard, nvidia, neuron) of one build shares the release version.
EKS_NVIDIA_AMI_RELEASES: dict[str, str] = {
    "1.32": "1.32.13-20260818",
    "1.33": "1.33.13-20260923",
    "1.34": "1.34.11-20260930",
}
EKS_AMI_TYPE = "AL2023_x86_64_NVIDIA"
EKS_SYSTEM_AMI_TYPE = "AL2023_x86_64_STANDARD"

# Last day of EKS standard support per Kubernetes minor version (AWS's EKS version calendar);
# after it the control plane bills the extended-support rate.
EKS_STANDARD_SUPPORT_END: dict[str, str] = {
    "1.32": "2026-03-23",
    "1.33": "2026-07-29",
    "1.34": "2026-12-02",
}

# EKS managed add-ons per Kubernetes minor version. Stacks on another version set
# cluster.addonVersions for all of them.
EKS_ADDONS = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent", "coredns", "aws-ebs-csi-driver")
EKS_ADDON_VERSIONS: dict[str, dict[str, str]] = {
    "1.33": {
        "vpc-cni": "v1.22.4-eksbuild.3",
        "kube-proxy": "v1.33.10-eksbuild.29",
        "eks-pod-identity-agent": "v1.3.10-eksbuild.3",
        "coredns": "v1.12.4-eksbuild.38",
        "aws-ebs-csi-driver": "v1.66.0-eksbuild.1",
    },
}

# GKE installs the NVIDIA driver that belongs to the node's GKE version ("DEFAULT"), so the
# driver moves only with the (release-channel-pinned) node version. Changing this value
# recreates every GPU node pool.
GKE_GPU_DRIVER_VERSION = "DEFAULT"
GKE_IMAGE_TYPE = "COS_CONTAINERD"


# Helm charts: (chart, version, repository). Stacks may override a version in
# addons.chartVersions; the values the platform renders are checked against these versions.
GPU_OPERATOR_CHART = ("gpu-operator", "v26.7.0", "https://helm.ngc.nvidia.com/nvidia")
KEDA_CHART = ("keda", "2.20.2", "https://kedacore.github.io/charts")
DCGM_EXPORTER_CHART = (
    "dcgm-exporter",
    "4.8.2",
    "https://nvidia.github.io/dcgm-exporter/helm-charts",
)
CLUSTER_AUTOSCALER_REPO = "https://kubernetes.github.io/autoscaler"
# cluster-autoscaler's minor version must match the cluster's; chart version by Kubernetes minor.
CLUSTER_AUTOSCALER_CHARTS: dict[str, str] = {
    "1.33": "9.51.0",  # cluster-autoscaler 1.33.0
    "1.34": "9.53.0",  # cluster-autoscaler 1.34.2
}

# vLLM's OpenAI-compatible server. The metric names and CLI flags the platform uses are checked
# against this release line (../shared/reference/metrics).
VLLM_IMAGE = "vllm/vllm-openai:v0.21.0"
KUBE_PROMETHEUS_STACK_CHART = (
    "kube-prometheus-stack",
    "88.5.3",
    "https://prometheus-community.github.io/helm-charts",
)
