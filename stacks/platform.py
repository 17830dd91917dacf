"""The stack's Platform: its config and config secrets as the component's args.

`build()` creates the root `gpuplatform:index:Platform` component (gpu_platform.platform) from
the validated StackConfig, the secrets set with `pulumi config set --secret`, and, in
production, the check of the vector store against the stack's last deployment.
"""

from __future__ import annotations

from gpu_platform.platform.component import Platform, PlatformArgs
from gpu_platform.platform.config_args import PlatformConfigArgs
from stacks import config as stack_config
from stacks import deployed
from stacks.config import StackConfig
from stacks.keys import PAGERDUTY_ROUTING_KEY, SLACK_WEBHOOK_URL


def config_args(config: StackConfig) -> PlatformConfigArgs:
    """The config as it was set, by field name: the component applies the same defaults and
    rules to it."""
    return config.model_dump(exclude_unset=True)  # type: ignore[return-value]


def platform_args(config: StackConfig) -> PlatformArgs:
    """The component's args: the config and the secrets it uses."""
    args = PlatformArgs(config=config_args(config))
    secrets = {
        "hf_token": stack_config.hf_token(),
        "grafana_admin_password": stack_config.grafana_admin_password(),
        "weaviate_api_key": stack_config.weaviate_api_key(),
        "pagerduty_routing_key": stack_config.receiver_secret(PAGERDUTY_ROUTING_KEY),
        "slack_webhook_url": stack_config.receiver_secret(SLACK_WEBHOOK_URL),
    }
    for key, value in secrets.items():
        if value is not None:
            args[key] = value  # type: ignore[literal-required]
    if config.production:
        args["store_checked"] = deployed.checked_store(config.vector_store)
    return args


def build(config: StackConfig) -> Platform:
    """Create every resource of one stack."""
    return Platform(config.environment, platform_args(config))
