"""Rules the offline plan checks on what a program registered.

Each rule is a pure function of the recorded registrations (and the stack file's config) that
returns findings; nothing here talks to Pulumi.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from components import versions
from tools.mockengine import Registration

_PROVIDER_PREFIX = "pulumi:providers:"


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    resource: str | None
    message: str

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "resource": self.resource,
            "message": self.message,
        }


@dataclass(frozen=True)
class Context:
    """What rules may look at besides the registrations."""

    config: dict[str, Any]
    today: datetime.date


def explicit_provider(resources: list[Registration], _: Context) -> Iterator[Finding]:
    """Every custom resource names its provider (default providers are disabled)."""
    for r in resources:
        if r.custom and r.provider is None and not r.type.startswith(_PROVIDER_PREFIX):
            yield Finding(
                "explicit-provider",
                "error",
                r.key,
                "custom resource has no explicit provider; pass the stack's provider in "
                "ResourceOptions(provider=...)",
            )


def default_providers_disabled(_: list[Registration], context: Context) -> Iterator[Finding]:
    """The stack file disables default providers, so no resource reaches an implicit account."""
    value = context.config.get("pulumi:disable-default-providers")
    if not (isinstance(value, list) and "*" in value):
        yield Finding(
            "default-providers-disabled",
            "error",
            None,
            'the stack file must set pulumi:disable-default-providers: ["*"]',
        )


def _images(value: Any, path: str = "") -> Iterable[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if key == "image" and isinstance(item, str):
                yield where, item
            else:
                yield from _images(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _images(item, f"{path}[{index}]")


def pinned_images(resources: list[Registration], _: Context) -> Iterator[Finding]:
    """Container images name a tag other than `latest`, or a digest."""
    for r in resources:
        for where, image in _images(r.inputs):
            name, _, tag = image.rpartition(":")
            untagged = "@sha256:" not in image and (not name or "/" in tag)
            if untagged or tag == "latest":
                yield Finding(
                    "pinned-images",
                    "error",
                    r.key,
                    f"{where} = {image!r} is not pinned; use a release tag or digest",
                )


def eks_standard_support(resources: list[Registration], context: Context) -> Iterator[Finding]:
    """EKS versions past standard support bill six times the control-plane fee."""
    for r in resources:
        if r.type != "aws:eks/cluster:Cluster":
            continue
        version = str(r.inputs.get("version", ""))
        end = versions.EKS_STANDARD_SUPPORT_END.get(version)
        if end is not None and context.today > datetime.date.fromisoformat(end):
            yield Finding(
                "eks-standard-support",
                "warning",
                r.key,
                f"Kubernetes {version} left EKS standard support on {end}: the control plane "
                "bills the extended-support rate until cluster.kubernetesVersion is upgraded",
            )


def hub_token(resources: list[Registration], _: Context) -> Iterator[Finding]:
    """Model servers that download from the Hugging Face hub have a token to do it with."""
    for r in resources:
        if r.type not in ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"):
            continue
        for container in (
            r.inputs.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
        ):
            env = {e.get("name") for e in container.get("env", [])}
            if "HF_HOME" in env and "HF_TOKEN" not in env:
                yield Finding(
                    "hf-token",
                    "warning",
                    r.key,
                    "no Hugging Face token: gated models (Llama, Gemma, ...) cannot be "
                    "downloaded; set one with `pulumi config set --secret hfToken <token>`",
                )


RULES: tuple[Callable[[list[Registration], Context], Iterator[Finding]], ...] = (
    explicit_provider,
    default_providers_disabled,
    pinned_images,
    eks_standard_support,
    hub_token,
)


def check(
    resources: list[Registration], config: dict[str, Any], today: datetime.date | None = None
) -> list[Finding]:
    """Every finding of every rule."""
    context = Context(config, today or datetime.date.today())
    return [finding for rule in RULES for finding in rule(resources, context)]
