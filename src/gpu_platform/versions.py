"""Pinned versions of what the platform installs that do not depend on the Kubernetes version
(those are in `gpu_platform/k8s_versions.py`).

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
# KEDA's HTTP add-on (interceptor, external scaler, operator): holds requests to a model at zero
# replicas and wakes it. Chart 0.15.0 installs the 0.15.0 images (its appVersion); the chart's
# release commit is kedacore/charts c4b92e9 (tests/upstream/charts/keda-add-ons-http).
KEDA_HTTP_CHART = ("keda-add-ons-http", "0.15.0", "https://kedacore.github.io/charts")
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
# Its compressed size, for the cold-start estimate. Assumption: about 10 GB (CUDA, PyTorch and
# vLLM); re-measure when the image changes (the sum of the amd64 manifest's layer sizes:
# `docker manifest inspect -v <image>`).
VLLM_IMAGE_COMPRESSED_BYTES = 10e9
# Grafana as the kube-prometheus-stack chart's grafana subchart (12.11.1) runs it: its
# appVersion, set explicitly so the image is pinned in the platform's values. The dashboards are
# built with grafana-foundation-sdk's build for Grafana "next" (1769699241), the one for 12+.
GRAFANA_VERSION = "13.2.0"
KUBE_PROMETHEUS_STACK_CHART = (
    "kube-prometheus-stack",
    "88.5.3",
    "https://prometheus-community.github.io/helm-charts",
)
# CloudNativePG: the operator chart and the operator release it installs (the chart's appVersion,
# set explicitly so the image is pinned in the values the platform renders).
CLOUDNATIVE_PG_CHART = ("cloudnative-pg", "0.29.0", "https://cloudnative-pg.github.io/charts")
CLOUDNATIVE_PG_OPERATOR = "1.30.0"
# PostgreSQL by major version: CloudNativePG's "system" images (Debian bookworm; PostgreSQL,
# pgvector and barman-cloud for backups), by tag and digest, from the project's
# ClusterImageCatalog (cloudnative-pg/postgres-containers, vendored in tests/upstream/catalogs).
POSTGRES_IMAGES = {
    "15": "ghcr.io/cloudnative-pg/postgresql:15.19-202608170814-system-bookworm"
    "@sha256:08eb167b35d7b67e4cf40385262a954c0412ec981ec55b9a5b3a8b9ec2f95053",
    "16": "ghcr.io/cloudnative-pg/postgresql:16.15-202608170814-system-bookworm"
    "@sha256:1625a452268aa8cb5149ec5a7428484e0a0402b8319598ec3d74ec212d21dbf2",
    "17": "ghcr.io/cloudnative-pg/postgresql:17.11-202608170816-system-bookworm"
    "@sha256:d24d5a390d90b20a43ef7036981f5e6c6f78bbd3198a1e2cd99443fbbd14a9b8",
    "18": "ghcr.io/cloudnative-pg/postgresql:18.6-202608170814-system-bookworm"
    "@sha256:83229f82cf85a38c3b13d9edbc0667763006514b499510540d704a21c9aa725a",
}
# Weaviate: the chart and the Weaviate release it installs (the chart's default, set explicitly).
WEAVIATE_CHART = ("weaviate", "17.8.3", "https://weaviate.github.io/weaviate-helm")
WEAVIATE_VERSION = "1.38.2"
# The image the Weaviate bootstrap and backup Jobs run their Python script with (standard
# library only): the pinned PostgreSQL 17 image, which ships python3, so no further image is
# pulled or pinned.
BOOTSTRAP_PYTHON_IMAGE = POSTGRES_IMAGES["17"]
OPENCOST_CHART = ("opencost", "2.5.17", "https://opencost.github.io/opencost-helm-chart")
