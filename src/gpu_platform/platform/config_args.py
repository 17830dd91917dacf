"""Typed args of the whole platform: the settings of one environment, as a stack's
`gpu-platform:platform` config holds them, which the public Platform component takes in every
language. Generated from gpu_platform.platform.spec.PlatformSpec by `make docs`
(tools/argsgen.py); change the specs, not this file. `cloud` is one object with every cloud's
keys (a component schema has no tagged unions): `provider` chooses, and the spec refuses the
other cloud's keys."""

# No `from __future__ import annotations`: Pulumi's component analyzer reads these
# annotations as types.
from typing import NotRequired, TypedDict

from gpu_platform.data.store_args import VectorStoreBackupsArgs
from gpu_platform.observability.observability_args import ObservabilityArgs, PricingArgs
from gpu_platform.pool_args import GpuPoolArgs
from gpu_platform.serving.model_args import ModelArgs


class PlatformCloudArgs(TypedDict):
    """One of aws, gcp, each with its own keys: aws: Deploy to AWS (EKS). gcp: Deploy to Google
    Cloud (GKE)."""

    provider: str
    """Cloud provider: aws or gcp. One of: aws, gcp."""
    region: str
    """aws: AWS region, e.g. us-east-1. gcp: GCP region, e.g. us-central1."""
    project: NotRequired[str]
    """gcp: GCP project id (required on gcp), e.g. my-project."""
    zones: NotRequired[list[str]]
    """aws: Availability zones for subnets and GPU nodes, e.g. [us-east-1a, us-east-1b]; required when the stack creates the cluster, at least two when production is true. GPU types exist only in some zones. gcp: Zones for GPU nodes (GKE node_locations), e.g. [us-central1-a, us-central1-c]; required when the stack creates the cluster, at least two when production is true."""
    profile: NotRequired[str]
    """aws: AWS shared-config profile to deploy with. The AWS provider and the cluster's kubeconfig (AWS_PROFILE for `aws eks get-token`) both use it. Default: the ambient AWS credentials."""
    assume_role_arn: NotRequired[str]
    """aws: IAM role to assume for every AWS call and for cluster access (`aws eks get-token --role-arn`), so the cloud and Kubernetes providers act as one identity; that role creates the cluster and is its admin."""


class SystemNodesArgs(TypedDict):
    """The small CPU node pool that runs platform pods (CoreDNS, operators, autoscaler)."""

    instance_type: NotRequired[str]
    """Instance type (aws) or machine type (gcp). Default: m6i.xlarge on aws, e2-standard-4 on gcp."""
    min_nodes: NotRequired[int]
    """Fewest system nodes (at least 1). Default: 2."""
    max_nodes: NotRequired[int]
    """Most system nodes. Default: 4."""
    disk_gib: NotRequired[int]
    """Root disk size in GiB. Default: 100."""
    ami_release_version: NotRequired[str]
    """aws only: the EKS AL2023 AMI release, e.g. 1.36.2-20260714. Default: the release pinned for the cluster's Kubernetes version."""


class PlatformClusterArgs(TypedDict):
    """The Kubernetes cluster the platform runs on."""

    name: str
    """Cluster name: a DNS-1123 label (lowercase letters, digits, '-'), at most 40."""
    create: NotRequired[bool]
    """true: create the cluster; false: adopt an existing cluster of that name. Default: true."""
    kubernetes_version: NotRequired[str]
    """Kubernetes minor version as a quoted string: one of 1.34, 1.35, 1.36. Upgrade one minor version at a time (README: Upgrading Kubernetes). Default: 1.36."""
    admin_role_arns: NotRequired[list[str]]
    """aws only: IAM role ARNs granted cluster-admin through EKS access entries, in addition to the identity that creates the cluster."""
    endpoint_access: NotRequired[str]
    """private: the Kubernetes API answers only inside the cluster's network (deploy from a runner there; README: Reaching a private API). public: it also answers the internet, from publicAccessCidrs. Default: private when production is true, else public. One of: private, public."""
    public_access_cidrs: NotRequired[list[str]]
    """With endpointAccess public: the public IPv4 CIDR blocks allowed to reach the API (EKS public access CIDRs, GKE authorized networks); required in production. Default outside production: 0.0.0.0/0."""
    network_cidr: NotRequired[str]
    """aws: the VPC CIDR (/16 to /20), split into a private and a public subnet per zone. gcp: the node subnet's primary range (/16 to /24). Default: 10.0.0.0/16."""
    pods_cidr: NotRequired[str]
    """gcp only: secondary range for pods (default 10.64.0.0/14)."""
    services_cidr: NotRequired[str]
    """gcp only: secondary range for services (default 10.68.0.0/20)."""
    release_channel: NotRequired[str]
    """gcp only: GKE release channel RAPID, REGULAR or STABLE (default REGULAR). One of: RAPID, REGULAR, STABLE."""
    addon_versions: NotRequired[dict[str, str]]
    """aws only: EKS add-on versions by add-on name (vpc-cni, kube-proxy, eks-pod-identity-agent, coredns, aws-ebs-csi-driver), overriding the version pinned for the cluster's Kubernetes version or, where none is pinned, the EKS default looked up at deploy time."""
    system_nodes: NotRequired[SystemNodesArgs]
    """CPU node pool for platform pods."""


class ChartVersionsArgs(TypedDict):
    """Chart versions to use instead of the pinned ones. The rendered values are checked against
    the pinned versions' values.yaml; review an override's release notes before using it."""

    gpu_operator: NotRequired[str]
    """NVIDIA GPU Operator (aws), e.g. v26.7.0."""
    keda: NotRequired[str]
    """KEDA, e.g. 2.20.2."""
    dcgm_exporter: NotRequired[str]
    """DCGM exporter (gcp), e.g. 4.8.2."""
    kube_prometheus_stack: NotRequired[str]
    """kube-prometheus-stack (the stack's Prometheus), e.g. 88.5.3."""
    cluster_autoscaler: NotRequired[str]
    """cluster-autoscaler chart (aws), installed with its own default image, whose minor version must match the cluster's (the pinned release does)."""


class ClusterAutoscalerArgs(TypedDict):
    """How cluster-autoscaler (EKS) adds and removes GPU nodes."""

    scale_down_unneeded_time: NotRequired[str]
    """How long a node must be unneeded before it is removed. Default: 10m."""
    scale_down_delay_after_add: NotRequired[str]
    """How long after a scale-up before scale-down is considered again. Default: 10m."""
    max_node_provision_time: NotRequired[str]
    """How long a node may take to register before its group is treated as failed; GPU nodes with large images are slow. Default: 20m."""


class AddonsArgs(TypedDict):
    """Cluster add-ons: GPU Operator / DCGM exporter, KEDA, cluster-autoscaler, namespaces."""

    chart_versions: NotRequired[ChartVersionsArgs]
    """Overrides of the pinned chart versions."""
    gpu_quota: NotRequired[dict[str, int]]
    """Most nvidia.com/gpu a namespace (inference, batch) may request. Default: what the pools of that workload can hold at their maximum size."""
    cluster_autoscaler: NotRequired[ClusterAutoscalerArgs]
    """aws only: cluster-autoscaler settings (GKE runs its own autoscaler)."""


class PlatformVectorStoreArgs(TypedDict):
    """One vector store per stack. Changing engine, dimensions or distance later means moving the
    data: see the README's vector store section."""

    engine: NotRequired[str]
    """pgvector: PostgreSQL with the pgvector extension, run by the CloudNativePG operator in the `data` namespace. weaviate: Weaviate from its Helm chart in `data`. none: no vector store. One of: pgvector, weaviate, none. Default: none."""
    mode: NotRequired[str]
    """in-cluster: the store runs on the cluster's system nodes. managed (pgvector only): Amazon RDS for PostgreSQL (aws) or Cloud SQL for PostgreSQL (gcp) in the cluster's network, with a private address only. One of: in-cluster, managed. Default: in-cluster."""
    instance_class: NotRequired[str]
    """managed only: the database machine, e.g. db.r7g.large (aws) or db-custom-2-7680 (gcp). Default: db.t4g.medium / db-custom-1-3840, in production db.r7g.large / db-custom-2-7680."""
    replicas: NotRequired[int]
    """pgvector: PostgreSQL instances (one primary, the rest streaming standbys that take over on a failure; at least 2 in production). weaviate: nodes, and the default collection's replication factor (at least 3 in production). Default: 1."""
    storage_gib: NotRequired[int]
    """Volume size per instance in GiB. Default: 20."""
    dimensions: NotRequired[int]
    """Size of the embeddings the default table or collection holds; equal to the embedding model's. pgvector: up to 2,000 as `vector`, up to 4,000 as `halfvec` (its HNSW limits). Default: 1024."""
    distance: NotRequired[str]
    """The distance the HNSW index serves: cosine, l2 or inner-product. One of: cosine, l2, inner-product. Default: cosine."""
    postgres_version: NotRequired[str]
    """pgvector only: PostgreSQL major version, 15, 16, 17 or 18. One of: 15, 16, 17, 18. Default: 17."""
    embedding_model: NotRequired[str]
    """weaviate only: the served embedding model (a `models` entry with task embed) Weaviate vectorizes text with, through its OpenAI-compatible module. Default: the only embedding model, if there is exactly one; with none, clients send vectors."""
    backups: NotRequired[VectorStoreBackupsArgs]
    """Backups to object storage."""
    accept_changes: NotRequired[list[str]]
    """production: changes to the deployed store made deliberately, after moving its data (see the README's 'Changing a production vector store'); remove after the update. One of: engine, mode, dimensions, distance."""
    client_namespaces: NotRequired[list[str]]
    """Namespaces whose pods may connect, besides `inference`; each gets the connection ConfigMap and credentials Secret. The namespaces must exist."""


class PlatformConfigArgs(TypedDict):
    """Everything one environment of the platform deploys (a stack's `gpu-platform:platform`)."""

    environment: str
    """Environment name used in resource names, labels and tags: lowercase letters, digits and '-', starting with a letter, at most 20 characters."""
    production: NotRequired[bool]
    """true turns on deletion protection, high availability and stricter checks. Default: false."""
    cloud: PlatformCloudArgs
    """Where to deploy: provider, region and zones."""
    cluster: PlatformClusterArgs
    """The Kubernetes cluster."""
    node_pools: dict[str, GpuPoolArgs]
    """GPU node pools keyed by pool name (lowercase letters, digits and '-', at most 31 characters); at least one."""
    models: NotRequired[dict[str, ModelArgs]]
    """Models served by vLLM, keyed by name (lowercase letters, digits and '-', at most 41 characters)."""
    vector_store: NotRequired[PlatformVectorStoreArgs]
    """The vector store retrieval applications keep embeddings in."""
    observability: NotRequired[ObservabilityArgs]
    """The stack's Prometheus (model autoscaling and GPU metrics read from it)."""
    addons: NotRequired[AddonsArgs]
    """Cluster add-ons: chart versions, GPU quotas, cluster-autoscaler."""
    pricing: NotRequired[PricingArgs]
    """Price overrides for the cost estimate."""
