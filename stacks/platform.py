"""Composes one environment of the platform from its StackConfig.

`build()` creates the root `gpuplatform:index:Platform` component; the component owns the
explicit cloud provider every cloud resource is created with (both stack files disable default
providers). No resource logic lives here beyond that wiring.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp

from components import labels
from stacks.config import PROJECT, StackConfig

TOKEN = "gpuplatform:index:Platform"


def cloud_provider(
    config: StackConfig, name: str, opts: pulumi.ResourceOptions
) -> pulumi.ProviderResource:
    """The AWS provider (region) or Google provider (project + region) for this stack."""
    tags = labels.cloud_tags(
        config.cloud.provider,
        environment=config.environment,
        stack=pulumi.get_stack(),
        project=PROJECT,
    )
    if config.cloud.provider == "aws":
        return aws.Provider(
            name,
            region=config.cloud.region,
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

    def __init__(self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TOKEN, name, None, opts)
        self.cloud_provider = cloud_provider(
            config, f"{name}-{config.cloud.provider}", pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs({"cloudProvider": self.cloud_provider.urn})


def build(config: StackConfig) -> Platform:
    """Create every resource of one stack."""
    return Platform(config.environment, config)
