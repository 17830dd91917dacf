"""Stack configuration: the typed model of `gpu-platform:platform` and the only reader of
`pulumi.Config`.

`Pulumi.<stack>.yaml` holds one structured key, `gpu-platform:platform`, validated here into a
frozen `StackConfig` (the Platform's spec, gpu_platform.platform.spec.PlatformSpec). Secrets
never go in that key: they are separate secret config keys set with `pulumi config set
--secret`. A bad config raises `ConfigError`, which lists every problem by its key path, before
any resource is registered.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pydantic import ValidationError

from gpu_platform.errors import format_errors
from gpu_platform.platform.spec import PlatformSpec
from stacks import checks
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


# The stack config is the Platform's spec: `gpu-platform:platform` holds exactly its settings.
StackConfig = PlatformSpec


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
