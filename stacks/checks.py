"""Stack checks beyond the platform config's own model: provider config keys and keys of this
project that the program would ignore, and gated models without a token to download them (pure
functions of plain data; the program and the offline plan both run them before anything is
registered)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from gpu_platform.observability.spec import receiver_secrets
from gpu_platform.serving.hub import gated_by
from stacks.keys import (
    CONFIG_KEY,
    GRAFANA_ADMIN_PASSWORD,
    HF_TOKEN_KEY,
    PAGERDUTY_ROUTING_KEY,
    PROJECT,
    SLACK_WEBHOOK_URL,
    WEAVIATE_API_KEY,
)

if TYPE_CHECKING:
    from stacks.config import StackConfig


# Provider config keys a stack file may carry by habit. Default providers are disabled and the
# platform builds its providers from gpu-platform:platform, so these would be silently ignored:
# each is an error naming where the setting belongs (None: credentials, which never go in config).
PROVIDER_KEYS: dict[str, str | None] = {
    "aws:region": "cloud.region",
    "aws:profile": "cloud.profile",
    "aws:assumeRole": "cloud.assumeRoleArn",
    "aws:assumeRoles": "cloud.assumeRoleArn",
    "aws:accessKey": None,
    "aws:secretKey": None,
    "aws:token": None,
    "aws:sharedCredentialsFiles": None,
    "aws:sharedConfigFiles": None,
    "gcp:project": "cloud.project",
    "gcp:region": "cloud.region",
    "gcp:zone": "cloud.zones",
    "gcp:credentials": None,
    "gcp:accessToken": None,
    "gcp:impersonateServiceAccount": None,
}
_CREDENTIALS = {
    "aws": "AWS credentials come from the environment (a profile named by cloud.profile, "
    "AWS_* variables, or CI's OIDC role)",
    "gcp": "Google credentials are application-default credentials (gcloud auth "
    "application-default login, or workload identity federation in CI)",
}


def provider_key_problems(keys: Iterable[str]) -> list[str]:
    """An error for each provider config key among `keys` (full `namespace:key` names)."""
    problems = []
    for key in sorted(set(keys) & set(PROVIDER_KEYS)):
        target = PROVIDER_KEYS[key]
        fix = (
            f"set {target} in {PROJECT}:{CONFIG_KEY} instead"
            if target
            else f"{_CREDENTIALS[key.split(':')[0]]}; remove it"
        )
        problems.append(
            f"{key}: not read (the platform builds its cloud provider from "
            f"{PROJECT}:{CONFIG_KEY}); {fix}"
        )
    return problems


def gated_model_problems(config: StackConfig, has_token: bool) -> list[str]:
    """Models from gated hub families, when the stack has no Hugging Face token to fetch them."""
    if has_token:
        return []
    problems = []
    for name, model in config.models.items():
        terms = gated_by(model.source) if model.from_hub else None
        if terms is not None:
            problems.append(
                f"models.{name}.source: {model.source} is gated on the Hugging Face hub "
                f"({terms}) and the stack has no token to download it: accept the terms with "
                f"your hub account and `pulumi config set --secret {HF_TOKEN_KEY} <token>`, or "
                "serve an ungated model"
            )
    return problems


# Config keys that hold credentials: only ever set with `pulumi config set --secret`.
SECRET_KEYS = tuple(
    f"{PROJECT}:{key}"
    for key in (
        HF_TOKEN_KEY,
        WEAVIATE_API_KEY,
        PAGERDUTY_ROUTING_KEY,
        SLACK_WEBHOOK_URL,
        GRAFANA_ADMIN_PASSWORD,
    )
)


def plaintext_secret_problems(present: Iterable[str], secret: Iterable[str]) -> list[str]:
    """An error for each credential key among `present` that is not stored as a secret."""
    stored_secret = set(secret)
    return [
        f"{key}: stored in plain text in the stack file; remove it and set it with `pulumi "
        f"config set --secret {key.split(':', 1)[1]} <value>` (the stack file then holds only "
        "ciphertext)"
        for key in SECRET_KEYS
        if key in set(present) and key not in stored_secret
    ]


# Every key of this project's namespace the program reads.
PROJECT_KEYS = (
    CONFIG_KEY,
    HF_TOKEN_KEY,
    WEAVIATE_API_KEY,
    PAGERDUTY_ROUTING_KEY,
    SLACK_WEBHOOK_URL,
    GRAFANA_ADMIN_PASSWORD,
)


def unknown_project_key_problems(keys: Iterable[str]) -> list[str]:
    """An error for each `gpu-platform:` key the program does not read (a typo such as
    `hftoken`, or a platform setting given beside `platform` instead of inside it): Pulumi
    passes any key, and nothing would read it."""
    problems = []
    by_lower = {name.lower(): name for name in PROJECT_KEYS}
    for key in sorted(set(keys)):
        namespace, _, name = key.partition(":")
        if namespace != PROJECT or name in PROJECT_KEYS:
            continue
        close = difflib.get_close_matches(name.lower(), list(by_lower), n=1)
        fix = (
            f"did you mean {PROJECT}:{by_lower[close[0]]}?"
            if close
            else f"platform settings go inside {PROJECT}:{CONFIG_KEY}"
        )
        problems.append(
            f"{key}: not read by this program (it reads "
            f"{', '.join(f'{PROJECT}:{k}' for k in PROJECT_KEYS)}); {fix}"
        )
    return problems


def receiver_secret_problems(
    config: StackConfig, present: Iterable[str]
) -> tuple[list[str], list[str]]:
    """(errors for receiver secrets set that no receiver uses, the keys of configured receivers
    whose secret is not set). `pulumi up` refuses both; the offline plan stands in for the
    missing ones."""
    keys = set(present)
    unused, missing = [], []
    for name, used in receiver_secrets(config.observability.alerts).items():
        key = f"{PROJECT}:{name}"
        if key in keys and not used:
            unused.append(
                f"{key}: set, but its receiver is not configured in "
                f"observability.alerts; remove it (`pulumi config rm {name}`) or configure it"
            )
        elif used and key not in keys:
            missing.append(key)
    return unused, missing


def missing_secret_problem(key: str) -> str:
    name = key.split(":", 1)[1]
    return (
        f"{key}: observability.alerts uses it and it is not set; `pulumi config set --secret "
        f"{name} <value>`"
    )
