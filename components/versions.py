"""Pinned versions of what the platform installs that do not depend on the Kubernetes version
(those are in `components/k8s_versions.py`).

Changing a pin is a reviewed change: it shows up in both stacks' offline plans, and the values
the platform renders are checked against the vendored upstream data of the pinned release.
"""

from __future__ import annotations

EKS_AMI_TYPE = "AL2023_x86_64_NVIDIA"
EKS_SYSTEM_AMI_TYPE = "AL2023_x86_64_STANDARD"

# GKE installs the NVIDIA driver that belongs to the node's GKE version ("DEFAULT"), so the
# driver moves only with the (release-channel-pinned) node version. Changing this value
# recreates every GPU node pool.
GKE_GPU_DRIVER_VERSION = "DEFAULT"
GKE_IMAGE_TYPE = "COS_CONTAINERD"


# Helm charts: (chart, version, repository). Stacks may override a version in
# addons.chartVersions; the values the platform renders are checked against these versions'
# values.yaml, vendored in tests/upstream (sources.yaml there names each release's commit).
GPU_OPERATOR_CHART = ("gpu-operator", "v26.7.0", "https://helm.ngc.nvidia.com/nvidia")
KEDA_CHART = ("keda", "2.20.2", "https://kedacore.github.io/charts")
DCGM_EXPORTER_CHART = (
    "dcgm-exporter",
    "4.8.2",
    "https://nvidia.github.io/dcgm-exporter/helm-charts",
)
# vLLM's OpenAI-compatible server, by tag and digest: a tag can be moved, a digest cannot. The
# digest is the tag's image index as Dockerfiles pinning it record it (e.g. opendatalab/MinerU);
# its amd64 manifest is sha256:4ac9b7c6dabc3ec762c0edef4e9245abe98373844da91cc53ee42e5c58280c5b.
# The metric names and CLI flags the platform uses are checked against lists derived from vLLM's
# source (tests/upstream/metrics).
VLLM_IMAGE = (
    "vllm/vllm-openai:v0.21.0"
    "@sha256:a230095847e93bd4df9888b33dab956fa9504537b828a23657d2b26fed57b5c9"
)
KUBE_PROMETHEUS_STACK_CHART = (
    "kube-prometheus-stack",
    "88.5.3",
    "https://prometheus-community.github.io/helm-charts",
)
