"""Composes one environment of the platform from its StackConfig.

`build()` creates the root `gpuplatform:index:Platform` component. It owns the explicit cloud
provider (both stack files disable default providers), the cluster for the configured cloud and
the GPU node pools; every later component receives the cluster's Kubernetes provider from here.
No resource logic lives here beyond that wiring.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp

from gpu_platform import labels
from gpu_platform.addons.cluster_autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from gpu_platform.addons.gpu_operator import GpuOperator, GpuOperatorArgs
from gpu_platform.addons.keda import Keda, KedaArgs
from gpu_platform.addons.platform_base import PlatformBase, PlatformBaseArgs
from gpu_platform.args import pool_args
from gpu_platform.aws.cluster import EksCluster, EksClusterArgs
from gpu_platform.aws.node_pool import EksGpuNodePool, EksGpuNodePoolArgs
from gpu_platform.data.cnpg import NAMESPACE as DATA_NAMESPACE
from gpu_platform.data.managed_pgvector import ManagedPgVector, ManagedPgVectorArgs
from gpu_platform.data.pgvector import PgVector, PgVectorArgs
from gpu_platform.data.spec import VectorStoreSpec, vectorizer
from gpu_platform.data.store import StoreClusterArgs
from gpu_platform.data.store_args import VectorStoreArgs
from gpu_platform.data.weaviate import Weaviate, WeaviateArgs
from gpu_platform.gcp import compute_class
from gpu_platform.gcp.cluster import GkeCluster, GkeClusterArgs
from gpu_platform.gcp.image_cache import GkeImageCache, GkeImageCacheArgs
from gpu_platform.gcp.node_pool import GkeGpuNodePool, GkeGpuNodePoolArgs
from gpu_platform.observability.prometheus import NAMESPACE as PROMETHEUS_NAMESPACE
from gpu_platform.observability.prometheus import RECEIVER_ARGS, Prometheus, PrometheusArgs
from gpu_platform.pools import NodePoolSpec
from gpu_platform.serving.vllm_service import NAMESPACE as SERVING_NAMESPACE
from gpu_platform.serving.vllm_service import VllmService
from stacks import config as stack_config
from stacks import deployed, derived, serving
from stacks.config import PROJECT, StackConfig

TOKEN = "gpuplatform:index:Platform"


def cloud_provider(
    config: StackConfig, name: str, tags: dict[str, str], opts: pulumi.ResourceOptions
) -> pulumi.ProviderResource:
    """The AWS provider (region, profile, assumed role) or Google provider (project + region;
    application-default credentials) for this stack. The cluster's kubeconfig uses the same
    identity (gpu_platform/kubeconfig.py)."""
    cloud = config.cloud
    if cloud.provider == "aws":
        return aws.Provider(
            name,
            region=cloud.region,
            profile=cloud.profile,
            assume_roles=(
                [aws.ProviderAssumeRoleArgs(role_arn=cloud.assume_role_arn, session_name=PROJECT)]
                if cloud.assume_role_arn
                else None
            ),
            default_tags=aws.ProviderDefaultTagsArgs(tags=tags),
            opts=opts,
        )
    return gcp.Provider(
        name,
        project=config.cloud.project,
        region=config.cloud.region,
        default_labels=tags,
        opts=opts,
    )


class Platform(pulumi.ComponentResource):
    """The root component of a stack: everything the platform creates is a descendant."""

    cloud_provider: pulumi.ProviderResource
    """Explicit provider for the configured cloud, passed to every cloud resource."""
    cluster: EksCluster | GkeCluster
    node_pools: dict[str, EksGpuNodePool | GkeGpuNodePool]
    image_cache: GkeImageCache | None
    """GKE: the Docker Hub cache the nodes stream images from."""

    def __init__(self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TOKEN, name, None, opts)
        cloud = config.cloud
        tags = labels.cloud_tags(
            cloud.provider,
            environment=config.environment,
            stack=pulumi.get_stack(),
            project=PROJECT,
        )
        self.cloud_provider = cloud_provider(
            config, f"{name}-{cloud.provider}", tags, pulumi.ResourceOptions(parent=self)
        )
        self.image_cache = None
        if cloud.provider == "aws":
            cluster = EksCluster(
                f"{name}-cluster",
                EksClusterArgs(
                    config.production,
                    cloud,
                    config.cluster,
                    self.cloud_provider,
                    tags,
                ),
                opts=self._child(),
            )
            strategy = labels.mig_strategy(config.node_pools)
            self.node_pools = {
                pool_name: EksGpuNodePool(
                    f"{name}-{pool_name}",
                    EksGpuNodePoolArgs(
                        pool_name=pool_name,
                        pool=pool_args(pool),  # type: ignore[typeddict-item]
                        cluster_name=cluster.cluster_name,
                        kubernetes_version=config.cluster.kubernetes_version,
                        node_role_arn=cluster.node_role_arn,
                        subnet_ids=cluster.subnet_ids(pool.zones or ()),
                        mig_strategy=strategy,
                        tags=tags,
                    ),
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        providers=[self.cloud_provider],
                        depends_on=cluster.node_dependencies,
                    ),
                )
                for pool_name, pool in config.node_pools.items()
            }
        else:
            cluster = GkeCluster(
                f"{name}-cluster",
                GkeClusterArgs(
                    config.production,
                    cloud,
                    config.cluster,
                    self.cloud_provider,
                    tags,
                ),
                opts=self._child(),
            )
            self.image_cache = GkeImageCache(
                f"{name}-image-cache",
                GkeImageCacheArgs(
                    cluster_name=config.cluster.name,
                    region=cloud.region,
                    project=cloud.project,
                    provider=self.cloud_provider,
                ),
                opts=self._child(),
            )
            self.node_pools = {
                pool_name: GkeGpuNodePool(
                    f"{name}-{pool_name}",
                    self._gke_pool_args(config, pool_name, pool, cluster, tags),
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        providers=[self.cloud_provider],
                        depends_on=[*cluster.node_account_ready, *self.image_cache.ready],
                    ),
                )
                for pool_name, pool in config.node_pools.items()
            }
        self.cluster = cluster
        self._addons(name, config)
        self.models: dict[str, VllmService] = serving.models(self, name, config)
        self._data(name, config)
        self.register_outputs({"clusterName": cluster.cluster_name, "endpoint": cluster.endpoint})

    @staticmethod
    def _gke_pool_args(
        config: StackConfig,
        pool_name: str,
        pool: NodePoolSpec,
        cluster: GkeCluster,
        tags: dict[str, str],
    ) -> GkeGpuNodePoolArgs:
        cloud = config.cloud
        args = GkeGpuNodePoolArgs(
            pool_name=pool_name,
            pool=pool_args(pool),  # type: ignore[typeddict-item]
            cluster_id=cluster.cluster_id,
            kubernetes_version=config.cluster.kubernetes_version,
            project=cloud.project,  # type: ignore[union-attr]
            region=cloud.region,
            zones=list(pool.zones or cloud.zones or ()),
            service_account=cluster.node_service_account,
            resource_labels=tags,
        )
        compute = compute_class.pool_classes(config.models).get(pool_name)
        if compute is not None:
            args["compute_class"] = compute
        return args

    def _child(self) -> pulumi.ResourceOptions:
        """Fresh options for one child component (never shared between resources)."""
        return pulumi.ResourceOptions(parent=self)

    def _addons(self, name: str, config: StackConfig) -> None:
        """Namespaces, GPU Operator (or DCGM exporter), KEDA and, on EKS, cluster-autoscaler."""
        cloud, addons, cluster = config.cloud, config.addons, self.cluster
        version = config.cluster.kubernetes_version
        strategy = labels.mig_strategy(config.node_pools)
        provider = cluster.k8s_provider
        ready = list(cluster.system_ready)
        pools = list(self.node_pools.values())
        self.base = PlatformBase(
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
            opts=self._child(),
        )
        self.prometheus = Prometheus(
            f"{name}-prometheus",
            prometheus_args(config, cluster.cluster_name),
            opts=pulumi.ResourceOptions(
                parent=self,
                providers=[provider],
                depends_on=[*ready, self.base.namespaces[PROMETHEUS_NAMESPACE]],
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
        self.gpu_operator = GpuOperator(
            f"{name}-gpu",
            gpu_args,
            opts=pulumi.ResourceOptions(
                parent=self,
                providers=[provider],
                depends_on=[*ready, *pools, self.prometheus.ready],
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
        self.keda = Keda(
            f"{name}-keda",
            keda_args,
            opts=pulumi.ResourceOptions(parent=self, providers=[provider], depends_on=ready),
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
                opts=self._child(),
            )

    def _data(self, name: str, config: StackConfig) -> None:
        """The vector store, when the stack has one. A production stack first checks the store
        against what its last deployment made (`store_checked`, which the store waits for and
        the stack output carries)."""
        self.vector_store: PgVector | ManagedPgVector | Weaviate | None = None
        store, cloud = config.vector_store, config.cloud
        self.store_checked = deployed.checked_store(store) if config.production else None
        if not store.enabled:
            return
        namespaces = self.base.namespaces
        cluster = StoreClusterArgs(
            cloud=cloud.provider,
            region=cloud.region,
            cluster_name=self.cluster.cluster_name,
            production=config.production,
            prometheus_release=self.prometheus.ready,
            namespaces=[namespaces[SERVING_NAMESPACE]],
        )
        if cloud.provider == "aws":
            cluster["partition"] = cloud.partition
        else:
            cluster["project"] = cloud.project
        if self.store_checked is not None:
            cluster["checked"] = self.store_checked
        opts = pulumi.ResourceOptions(
            parent=self,
            providers=[self.cluster.k8s_provider, self.cloud_provider],
            depends_on=[*self.cluster.system_ready, namespaces[DATA_NAMESPACE]],
        )
        args = store_args(store)
        if store.engine == "pgvector" and store.mode == "managed":
            self.vector_store = ManagedPgVector(
                f"{name}-vectors",
                ManagedPgVectorArgs(
                    store=args,
                    cluster=cluster,
                    environment=config.environment,
                    **derived.network(config, self.cluster),
                ),
                opts=opts,
            )
        elif store.engine == "pgvector":
            self.vector_store = PgVector(
                f"{name}-vectors",
                PgVectorArgs(
                    store=args,
                    cluster=cluster,
                    kubernetes_version=config.cluster.kubernetes_version,
                ),
                opts=opts,
            )
        else:
            model = vectorizer(store, derived.embedding_models(config))
            if model is not None:
                args["embedding_model"] = model
            weaviate = WeaviateArgs(store=args, cluster=cluster)
            key = stack_config.weaviate_api_key()
            if key is not None:
                weaviate["api_key"] = key
            self.vector_store = Weaviate(f"{name}-weaviate", weaviate, opts=opts)


def prometheus_args(config: StackConfig, cluster_name: pulumi.Input[str]) -> PrometheusArgs:
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
    for key, value in derived.receiver_credentials(config).items():
        args[RECEIVER_ARGS[key]] = value  # type: ignore[literal-required]
    password = stack_config.grafana_admin_password()
    if password is not None:
        args["grafana_admin_password"] = password
    return args


def store_args(store: VectorStoreSpec) -> VectorStoreArgs:
    """The stack's store as a store component's args (the component sets engine and mode; the
    deployed-store check is the stack's)."""
    return store.model_dump(  # type: ignore[return-value]
        exclude={"engine", "mode", "accept_changes"}, exclude_unset=True
    )


def build(config: StackConfig) -> Platform:
    """Create every resource of one stack."""
    return Platform(config.environment, config)
