"""Stack configuration: the typed model of `gpu-platform:platform` and the only reader of
`pulumi.Config`.

`Pulumi.<stack>.yaml` holds one structured key, `gpu-platform:platform`, validated here into a
frozen `StackConfig`. Secrets never go in that key: they are separate secret config keys set with
`pulumi config set --secret`. A bad config raises `ConfigError`, which lists every problem by its
key path, before any resource is registered.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import pulumi
from pydantic import Field, PositiveFloat, ValidationError, field_validator, model_validator

from components import catalog
from components.pools import NodePoolSpec, PoolName, cloud_problems
from components.spec import Problem, Spec, raise_problems
from stacks.errors import format_errors

PROJECT = "gpu-platform"
CONFIG_KEY = "platform"

_ENVIRONMENT = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$")
_K8S_VERSION = re.compile(r"^1\.\d{2}$")
_AWS_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_GCP_REGION = re.compile(r"^[a-z]+-[a-z]+\d+$")
_GCP_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")


class ConfigError(pulumi.RunError):
    """The stack config is invalid. Pulumi prints a RunError's message without a traceback."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid stack config {PROJECT}:{CONFIG_KEY} ({count}):\n{listing}")


def _check(pattern: re.Pattern[str], value: str, rule: str) -> str:
    if not pattern.match(value):
        raise ValueError(rule)
    return value


class AwsCloudSpec(Spec):
    """Deploy to AWS (EKS)."""

    provider: Literal["aws"] = Field(description="Cloud provider: aws or gcp.")
    region: str = Field(description="AWS region, e.g. us-east-1.")
    project: None = Field(
        None,
        description=(
            "Must be absent on aws: the account comes from the AWS credentials pulumi runs with."
        ),
    )
    zones: tuple[str, ...] | None = Field(
        None,
        min_length=1,
        description=(
            "Availability zones for subnets and GPU nodes, e.g. [us-east-1a, us-east-1b]; "
            "at least two when production is true. GPU types exist only in some zones."
        ),
    )

    @field_validator("project", mode="before")
    @classmethod
    def _no_project(cls, value: Any) -> None:
        if value is not None:
            raise ValueError(
                "AWS has no project: remove cloud.project (the account comes from your AWS "
                "credentials)"
            )

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return _check(_AWS_REGION, value, "not an AWS region name such as us-east-1")


class GcpCloudSpec(Spec):
    """Deploy to Google Cloud (GKE)."""

    provider: Literal["gcp"] = Field(description="Cloud provider: aws or gcp.")
    region: str = Field(description="GCP region, e.g. us-central1.")
    project: str = Field(description="GCP project id (required on gcp), e.g. my-project.")
    zones: tuple[str, ...] | None = Field(
        None,
        min_length=1,
        description=(
            "Zones for GPU nodes (GKE node_locations), e.g. [us-central1-a, us-central1-c]; "
            "at least two when production is true."
        ),
    )

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return _check(_GCP_REGION, value, "not a GCP region name such as us-central1")

    @field_validator("project")
    @classmethod
    def _project(cls, value: str) -> str:
        return _check(
            _GCP_PROJECT,
            value,
            "not a GCP project id: 6 to 30 lowercase letters, digits and '-', starting with a "
            "letter",
        )


CloudSpec = Annotated[AwsCloudSpec | GcpCloudSpec, Field(discriminator="provider")]


class ClusterSpec(Spec):
    """The Kubernetes cluster the platform runs on."""

    name: str = Field(
        description="Cluster name: a DNS-1123 label (lowercase letters, digits, '-'), at most 40."
    )
    create: bool = Field(
        True, description="true: create the cluster; false: adopt an existing cluster of that name."
    )
    kubernetes_version: str = Field(
        "1.33", description='Kubernetes minor version as a quoted string, e.g. "1.33".'
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _check(
            _DNS_LABEL,
            value,
            "not a DNS-1123 label of at most 40 characters: lowercase letters, digits and '-', "
            "starting with a letter and ending with a letter or digit",
        )

    @field_validator("kubernetes_version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(
                'write the version as a quoted string such as "1.33": YAML reads an unquoted '
                "1.30 as the number 1.3"
            )
        return _check(_K8S_VERSION, value, 'not a Kubernetes minor version such as "1.33"')


class PricingSpec(Spec):
    """Overrides for the catalog's list prices used by the cost estimate."""

    spot_discount: float | None = Field(
        None,
        ge=0,
        lt=1,
        description=(
            "Fraction below on-demand that spot nodes cost (0.6 = 60 % cheaper). Default: the "
            "catalog's conservative estimate."
        ),
    )
    hourly_usd: dict[str, PositiveFloat] = Field(
        default_factory=dict,
        description=(
            "On-demand USD per hour by instance/machine type, for prices negotiated or newer than "
            "the catalog's, e.g. {g6.xlarge: 0.75}."
        ),
    )


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
    pricing: PricingSpec = Field(
        default_factory=PricingSpec, description="Price overrides for the cost estimate."
    )

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: str) -> str:
        return _check(
            _ENVIRONMENT,
            value,
            "must be lowercase letters, digits and '-', starting with a letter, at most 20 "
            "characters",
        )

    @model_validator(mode="after")
    def _cross_section_rules(self) -> StackConfig:
        raise_problems(self._problems())
        return self

    def _problems(self) -> list[Problem]:
        cloud = self.cloud.provider
        problems = _zone_problems(self.cloud, self.production)
        for name, pool in self.node_pools.items():
            problems += [
                Problem(("nodePools", name, *p.path), p.message)
                for p in cloud_problems(cloud, pool)
            ]
        for type_name in self.pricing.hourly_usd:
            if catalog.machine_type(cloud, type_name) is None:
                problems.append(
                    Problem(
                        ("pricing", "hourlyUsd", type_name),
                        f"{type_name} is not a {cloud} GPU type in the catalog",
                    )
                )
        return problems


def _zone_problems(cloud: AwsCloudSpec | GcpCloudSpec, production: bool) -> list[Problem]:
    zones = cloud.zones or ()
    problems: list[Problem] = []
    # AWS zones are the region plus a letter (us-east-1a); GCP zones add "-<letter>".
    prefix = cloud.region if cloud.provider == "aws" else f"{cloud.region}-"
    for index, zone in enumerate(zones):
        suffix = zone.removeprefix(prefix)
        if not zone.startswith(prefix) or not re.fullmatch(r"[a-z]", suffix):
            problems.append(
                Problem(("cloud", "zones", index), f"{zone} is not a zone of {cloud.region}")
            )
    if len(set(zones)) != len(zones):
        problems.append(Problem(("cloud", "zones"), "lists a zone twice"))
    if production and len(set(zones)) < 2:
        problems.append(
            Problem(
                ("cloud", "zones"),
                "production needs at least two zones so nodes and data survive a zone outage",
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
    return parse(pulumi.Config(PROJECT).require_object(CONFIG_KEY))
