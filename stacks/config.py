"""Stack configuration: the typed model of `gpu-platform:platform` and the only reader of
`pulumi.Config`.

`Pulumi.<stack>.yaml` holds one structured key, `gpu-platform:platform`, validated here into a
frozen `StackConfig`. Secrets never go in that key: they are separate secret config keys set with
`pulumi config set --secret`. A bad config raises `ConfigError`, which lists every problem by its
key path, before any resource is registered.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pydantic import Field, ValidationError, field_validator, model_validator

from gpu_platform import catalog, labels
from gpu_platform.addons.spec import AddonsSpec
from gpu_platform.cloud import CloudSpec, ClusterSpec
from gpu_platform.data import managed
from gpu_platform.data.spec import VectorStoreSpec
from gpu_platform.errors import format_errors
from gpu_platform.gcp import compute_class
from gpu_platform.observability.spec import ObservabilitySpec
from gpu_platform.pool_rules import cloud_problems
from gpu_platform.pools import NodePoolSpec, PoolName
from gpu_platform.pricing import PricingSpec
from gpu_platform.serving.rules import model_problems, pool_capacity_problems
from gpu_platform.serving.spec import ModelName, ModelSpec
from gpu_platform.spec import Problem, Spec, check, raise_problems
from gpu_platform.tiers import order_problems
from stacks import checks, rules
from stacks.keys import (
    CONFIG_KEY,
    GRAFANA_ADMIN_PASSWORD,
    HF_TOKEN_KEY,
    PROJECT,
    WEAVIATE_API_KEY,
)

MAX_PROBLEM = 400


def _bounded(problem: str) -> str:
    """A problem line as printed: one that quotes a huge value is cut, its key path kept."""
    return problem if len(problem) <= MAX_PROBLEM else problem[: MAX_PROBLEM - 1] + "…"


class ConfigError(pulumi.RunError):
    """The stack config is invalid. Pulumi prints a RunError's message without a traceback."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        listing = "\n".join(f"  - {_bounded(p)}" for p in problems)
        super().__init__(f"invalid stack config {PROJECT}:{CONFIG_KEY} ({count}):\n{listing}")


class StackConfig(Spec):
    """Everything one stack deploys, from `gpu-platform:platform`."""

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
    def _cross_section_rules(self) -> StackConfig:
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


def parse(raw: Any) -> StackConfig:
    """Validate a raw `gpu-platform:platform` value; raise ConfigError listing every problem."""
    try:
        return StackConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(format_errors(error, StackConfig)) from None


def load() -> StackConfig:
    """Read and validate this stack's `gpu-platform:platform` config."""
    present = [
        key
        for key in checks.PROVIDER_KEYS
        if pulumi.Config(key.split(":")[0]).get(key.split(":")[1]) is not None
    ]
    problems = checks.provider_key_problems(present)
    # `pulumi up` hands the program every stack config key in PULUMI_CONFIG.
    problems += checks.unknown_project_key_problems(pulumi.runtime.get_config_env())
    secrets = [key for key in checks.SECRET_KEYS if pulumi.runtime.get_config(key) is not None]
    problems += checks.plaintext_secret_problems(
        secrets, [key for key in secrets if pulumi.runtime.is_config_secret(key)]
    )
    if problems:
        raise ConfigError(problems)
    config = parse(pulumi.Config(PROJECT).require_object(CONFIG_KEY))
    problems = checks.gated_model_problems(config, has_token=hf_token() is not None)
    present = [key for key in checks.SECRET_KEYS if pulumi.runtime.get_config(key) is not None]
    unused, missing = checks.receiver_secret_problems(config, present)
    problems += unused + [checks.missing_secret_problem(key) for key in missing]
    if (
        pulumi.Config(PROJECT).get_secret(GRAFANA_ADMIN_PASSWORD) is not None
        and not config.observability.grafana
    ):
        problems.append(
            f"{PROJECT}:{GRAFANA_ADMIN_PASSWORD}: set, but observability.grafana is false; "
            f"remove it (`pulumi config rm {GRAFANA_ADMIN_PASSWORD}`)"
        )
    if weaviate_api_key() is not None and config.vector_store.engine != "weaviate":
        problems.append(
            f"{PROJECT}:{WEAVIATE_API_KEY}: set, but vectorStore.engine is "
            f"{config.vector_store.engine}; remove it (`pulumi config rm {WEAVIATE_API_KEY}`)"
        )
    if problems:
        raise ConfigError(problems)
    return config


def weaviate_api_key() -> pulumi.Output[str] | None:
    """Weaviate's read-write API key (`pulumi config set --secret weaviateApiKey ...`), or None
    to have one generated."""
    return pulumi.Config(PROJECT).get_secret(WEAVIATE_API_KEY)


def hf_token() -> pulumi.Output[str] | None:
    """The Hugging Face token (`pulumi config set --secret hfToken ...`), kept secret, or None."""
    return pulumi.Config(PROJECT).get_secret(HF_TOKEN_KEY)


def receiver_secret(key: str) -> pulumi.Output[str] | None:
    """An alert receiver's credential (`pagerdutyRoutingKey`, `slackWebhookUrl`), or None."""
    return pulumi.Config(PROJECT).get_secret(key)


def grafana_admin_password() -> pulumi.Output[str] | None:
    """Grafana's admin password (`pulumi config set --secret grafanaAdminPassword ...`), or
    None to have one generated."""
    return pulumi.Config(PROJECT).get_secret(GRAFANA_ADMIN_PASSWORD)
