"""The Platform's vector store: PgVector, ManagedPgVector or Weaviate as the spec's
`vectorStore` chooses, in the cluster it serves (or, managed, its network)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi

from gpu_platform.data.cnpg import NAMESPACE as DATA_NAMESPACE
from gpu_platform.data.managed_pgvector import ManagedPgVector, ManagedPgVectorArgs
from gpu_platform.data.pgvector import PgVector, PgVectorArgs
from gpu_platform.data.spec import VectorStoreSpec, vectorizer
from gpu_platform.data.store import COMPONENT_KEYS, StoreClusterArgs
from gpu_platform.data.store_args import VectorStoreArgs
from gpu_platform.data.weaviate import Weaviate, WeaviateArgs
from gpu_platform.platform import derived
from gpu_platform.platform.spec import PlatformSpec
from gpu_platform.serving.vllm_service import NAMESPACE as SERVING_NAMESPACE

if TYPE_CHECKING:
    from gpu_platform.platform.component import Platform, Secrets


def vector_store(
    platform: Platform, name: str, config: PlatformSpec, secrets: Secrets
) -> PgVector | ManagedPgVector | Weaviate | None:
    """The vector store, when the spec has one. It waits for `secrets.store_checked` (a
    stack's check of its deployed store), when given."""
    store, cloud = config.vector_store, config.cloud
    if not store.enabled:
        return None
    namespaces = platform.base.namespaces
    cluster = StoreClusterArgs(
        cloud=cloud.provider,
        region=cloud.region,
        cluster_name=platform.cluster.cluster_name,
        production=config.production,
        prometheus_release=platform.prometheus.ready,
        namespaces=[namespaces[SERVING_NAMESPACE]],
    )
    if cloud.provider == "aws":
        cluster["partition"] = cloud.partition
    else:
        cluster["project"] = cloud.project
    if secrets.store_checked is not None:
        cluster["checked"] = secrets.store_checked
    opts = pulumi.ResourceOptions(
        parent=platform,
        providers=[platform.cluster.k8s_provider, platform.cloud_provider],
        depends_on=[*platform.cluster.system_ready, namespaces[DATA_NAMESPACE]],
    )
    args = store_args(store)
    if store.engine == "pgvector" and store.mode == "managed":
        return ManagedPgVector(
            f"{name}-vectors",
            ManagedPgVectorArgs(
                store=args,
                cluster=cluster,
                environment=config.environment,
                **derived.network(config, platform.cluster),
            ),
            opts=opts,
        )
    if store.engine == "pgvector":
        return PgVector(
            f"{name}-vectors",
            PgVectorArgs(
                store=args,
                cluster=cluster,
                kubernetes_version=config.cluster.kubernetes_version,
            ),
            opts=opts,
        )
    model = vectorizer(store, derived.embedding_models(config))
    if model is not None:
        args["embedding_model"] = model
    weaviate = WeaviateArgs(store=args, cluster=cluster)
    if secrets.weaviate_api_key is not None:
        weaviate["api_key"] = secrets.weaviate_api_key
    return Weaviate(f"{name}-weaviate", weaviate, opts=opts)


def store_args(store: VectorStoreSpec) -> VectorStoreArgs:
    """The stack's store as a store component's args (the component sets engine and mode; the
    deployed-store check is the stack's)."""
    return store.model_dump(  # type: ignore[return-value]
        exclude=set(COMPONENT_KEYS), exclude_unset=True
    )
