"""The Platform's spec: everything one environment deploys, which a stack's
`gpu-platform:platform` config holds, with the rules that span its sections. A bad spec raises
one error listing every problem by its key path."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from gpu_platform import catalog, labels
from gpu_platform.addons.spec import AddonsSpec
from gpu_platform.cloud import CloudSpec, ClusterSpec
from gpu_platform.data import managed
from gpu_platform.data.spec import VectorStoreSpec
from gpu_platform.gcp import compute_class
from gpu_platform.observability.spec import ObservabilitySpec
from gpu_platform.platform import rules
from gpu_platform.pool_rules import cloud_problems
from gpu_platform.pools import NodePoolSpec, PoolName
from gpu_platform.pricing import PricingSpec
from gpu_platform.serving.rules import model_problems, pool_capacity_problems
from gpu_platform.serving.spec import ModelName, ModelSpec
from gpu_platform.spec import Problem, Spec, check, raise_problems
from gpu_platform.tiers import order_problems


class PlatformSpec(Spec):
    """Everything one environment of the platform deploys (a stack's `gpu-platform:platform`)."""

    environment: str = Field(
        description=(
            "Environment name used in resource names, labels and tags: lowercase letters, digits "
            "and '-', starting with a letter, at most 20 characters."
        )
    )
    production: bool = Field(
        False,
        description="true turns on deletion protection, high availability and stricter checks.",
    )
    cloud: CloudSpec = Field(description="Where to deploy: provider, region and zones.")
    cluster: ClusterSpec = Field(description="The Kubernetes cluster.")
    node_pools: dict[PoolName, NodePoolSpec] = Field(
        min_length=1,
        description=(
            "GPU node pools keyed by pool name (lowercase letters, digits and '-', at most 31 "
            "characters); at least one."
        ),
    )
    models: dict[ModelName, ModelSpec] = Field(
        default_factory=dict,
        description=(
            "Models served by vLLM, keyed by name (lowercase letters, digits and '-', at most 41 "
            "characters)."
        ),
    )
    vector_store: VectorStoreSpec = Field(
        default_factory=VectorStoreSpec,
        description="The vector store retrieval applications keep embeddings in.",
    )
    observability: ObservabilitySpec = Field(
        default_factory=ObservabilitySpec,
        description="The stack's Prometheus (model autoscaling and GPU metrics read from it).",
    )
    addons: AddonsSpec = Field(
        default_factory=AddonsSpec,
        description="Cluster add-ons: chart versions, GPU quotas, cluster-autoscaler.",
    )
    pricing: PricingSpec = Field(
        default_factory=PricingSpec, description="Price overrides for the cost estimate."
    )

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: str) -> str:
        return check(labels.ENVIRONMENT, value, f"must be {labels.ENVIRONMENT_RULE}")

    @model_validator(mode="after")
    def _cross_section_rules(self) -> PlatformSpec:
        raise_problems(self._problems())
        return self

    def _problems(self) -> list[Problem]:
        cloud = self.cloud
        problems = rules.zone_problems(cloud, self.production, self.cluster.create)
        problems += rules.cluster_problems(cloud, self.cluster)
        problems += rules.endpoint_problems(self.production, self.cluster)
        problems += rules.addon_problems(cloud.provider, self.addons)
        for name, model in self.models.items():
            found = model_problems(cloud.provider, self.production, model, self.node_pools)
            problems += [Problem(("models", name, *p.path), p.message) for p in found]
        if not problems:
            problems += [
                Problem(("nodePools", *p.path), p.message)
                for p in pool_capacity_problems(cloud.provider, self.node_pools, self.models)
            ]
            found = order_problems(self.models)
            if cloud.provider == "gcp":
                found += compute_class.class_problems(self.models)
            problems += [Problem(("models", *p.path), p.message) for p in found]
        problems += rules.vector_store_problems(self)
        if labels.SYSTEM_POOL in self.node_pools:
            problems.append(
                Problem(
                    ("nodePools", labels.SYSTEM_POOL),
                    f"{labels.SYSTEM_POOL!r} is the name of the platform's own CPU node pool (its "
                    "label selects every add-on's nodes); choose another name",
                )
            )
        for name, pool in self.node_pools.items():
            found = cloud_problems(
                cloud.provider, cloud.zones or (), self.cluster.kubernetes_version, pool
            )
            problems += [Problem(("nodePools", name, *p.path), p.message) for p in found]
        system_type = self.cluster.system_nodes.instance_type
        store = self.vector_store
        database = (
            managed.instance_class(store, cloud.provider, self.production)
            if store.enabled and store.mode == "managed"
            else None
        )
        for type_name in self.pricing.hourly_usd:
            known = catalog.machine_type(cloud.provider, type_name) or catalog.cpu_machine_type(
                cloud.provider, type_name
            )
            if known is None and type_name not in (system_type, database):
                problems.append(
                    Problem(
                        ("pricing", "hourlyUsd", type_name),
                        f"{type_name} is not in the {cloud.provider} catalog and is neither "
                        "cluster.systemNodes.instanceType nor the vector store's database",
                    )
                )
        return problems
