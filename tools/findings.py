"""Rules the offline plan checks on what a program registered.

Each rule is a pure function of the recorded registrations (and the stack file's config) that
returns findings; nothing here talks to Pulumi.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from gpu_platform import k8s_versions
from gpu_platform.serving import hub
from gpu_platform.serving.coldstart import ModelStart
from policy import rules as policy
from policy.model import Resource, Stack
from stacks.keys import CONFIG_KEY, PROJECT
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


def _production(context: Context) -> bool:
    platform = context.config.get(f"{PROJECT}:{CONFIG_KEY}")
    return isinstance(platform, dict) and platform.get("production") is True


def policy_rules(resources: list[Registration], context: Context) -> Iterator[Finding]:
    """The policy pack's rules (policy/rules.py), run on the registrations: a mandatory rule's
    violation is an error, an advisory one's a warning."""
    stack = Stack(production=_production(context))
    converted = [
        Resource(r.type, r.name, r.inputs, bool(r.options.get("protect"))) for r in resources
    ]
    for rule in policy.RULES:
        severity = "error" if rule.enforcement == "mandatory" else "warning"
        for violation in rule.violations(converted, stack):
            key = violation.resource.key if violation.resource else None
            yield Finding(rule.name, severity, key, violation.message)


# The cluster resource of each cloud and the input that holds its Kubernetes minor version.
_CLUSTER_VERSION_INPUT = {
    "aws:eks/cluster:Cluster": ("aws", "EKS", "version"),
    "gcp:container/cluster:Cluster": ("gcp", "GKE", "minMasterVersion"),
}


def _after_support(cloud: str, status: k8s_versions.SupportStatus) -> str:
    if cloud == "aws":
        return (
            "the control plane bills the extended-support rate (see the cost estimate) until "
            f"{status.extended_end}, when EKS upgrades it by itself"
        )
    return (
        "GKE upgrades the cluster on its own schedule unless it is on the Extended channel, "
        "which bills extra"
    )


def kubernetes_support(resources: list[Registration], context: Context) -> Iterator[Finding]:
    """A cluster version within WARN_BEFORE of the end of its cloud's standard support, or past
    it, names the date and the version to upgrade to."""
    for r in resources:
        if r.type not in _CLUSTER_VERSION_INPUT:
            continue
        cloud, service, key = _CLUSTER_VERSION_INPUT[r.type]
        version = str(r.inputs.get(key, ""))
        if version not in k8s_versions.SUPPORT_CALENDARS[cloud]:
            continue
        status = k8s_versions.support_status(cloud, version, context.today)
        upgrade = (
            f"upgrade cluster.kubernetesVersion to {status.next_version}"
            if status.next_version
            else "upgrade cluster.kubernetesVersion"
        )
        if status.state == "ended":
            message = (
                f"Kubernetes {version} left {service} standard support on "
                f"{status.standard_end}: {_after_support(cloud, status)}; {upgrade} "
                "(README: Upgrading Kubernetes)"
            )
        elif status.state == "ending":
            days = (status.standard_end - context.today).days
            message = (
                f"Kubernetes {version} leaves {service} standard support on "
                f"{status.standard_end} (in {days} days): {upgrade} before then (README: "
                "Upgrading Kubernetes)"
            )
        else:
            continue
        yield Finding("kubernetes-support", "warning", r.key, message)


def hub_token(resources: list[Registration], _: Context) -> Iterator[Finding]:
    """Model servers, or model mirrors, that download from the Hugging Face hub without a token
    fetch a model not known to be gated (known gated families are config errors without one)
    nor known to be open: it may turn out to be gated when the download starts."""
    kinds = (
        "kubernetes:apps/v1:Deployment",
        "kubernetes:apps/v1:StatefulSet",
        "kubernetes:batch/v1:Job",
    )
    for r in resources:
        if r.type not in kinds:
            continue
        for container in (
            r.inputs.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
        ):
            values = {e.get("name"): e.get("value") for e in container.get("env", [])}
            env = set(values)
            # A mirror names the model in its environment, a server in its first argument.
            source = values.get("MODEL") or (container.get("args") or [""])[0]
            if "HF_HOME" in env and "HF_TOKEN" not in env and not hub.known_open(source):
                yield Finding(
                    "hf-token",
                    "warning",
                    r.key,
                    f"no Hugging Face token: if {source} is gated on the hub its weights cannot "
                    "be downloaded; set one with `pulumi config set --secret hfToken <token>`",
                )


def _production_models(context: Context) -> Iterator[tuple[str, dict[str, Any], dict]]:
    """(name, model settings, platform settings) of a production stack's models, as written."""
    platform = context.config.get(f"{PROJECT}:{CONFIG_KEY}")
    if not _production(context):
        return
    for name, model in sorted((platform.get("models") or {}).items()):
        if isinstance(model, dict):
            yield name, model, platform


def colocated_models(_: list[Registration], context: Context) -> Iterator[Finding]:
    """Production models allowed to put their replicas on one node (allowColocation)."""
    for name, model, _platform in _production_models(context):
        if model.get("allowColocation") is True:
            yield Finding(
                "colocation",
                "warning",
                None,
                f"models.{name}: allowColocation lets its replicas share a node (or a zone); "
                "losing that node takes the model down",
            )


def unmirrored_models(_: list[Registration], context: Context) -> Iterator[Finding]:
    """Production hub models that download from the hub (mirror: false)."""
    for name, model, _platform in _production_models(context):
        if model.get("mirror") is False:
            yield Finding(
                "unmirrored",
                "warning",
                None,
                f"models.{name}: mirror: false downloads the weights from the hub on every "
                "start, unverified, and the servers need internet egress; the mirror streams "
                "them from the stack's bucket",
            )


# What shortens each part of a cold start most.
_FASTER = {
    "node": "keep a node warm (the pool's minNodes) or the model's minReplicas above 0",
    "image": "instance types of at least 4 vCPUs and 7 GiB (EKS parallel image pull)",
    "weights": "stream the weights from object storage (the mirror, or an s3:// or gs:// source)",
    "warm-up": "enforceEager: true skips CUDA graph capture (slower decoding; for development)",
}


def slow_cold_starts(starts: Iterable[ModelStart]) -> Iterator[Finding]:
    """Models whose cold start (a new node) takes longer than their budget."""
    for start in starts:
        if start.cold.total_seconds <= start.budget_seconds:
            continue
        part, _ = start.cold.biggest()
        yield Finding(
            "cold-start",
            "warning",
            None,
            f"models.{start.model}: a cold start takes {start.cold.describe()}, over its "
            f"{start.budget_seconds // 60} min budget (coldStartBudgetMinutes); most of it is "
            f"the {part}: {_FASTER[part]}",
        )


RULES: tuple[Callable[[list[Registration], Context], Iterator[Finding]], ...] = (
    explicit_provider,
    default_providers_disabled,
    policy_rules,
    kubernetes_support,
    hub_token,
    colocated_models,
    unmirrored_models,
)


def check(
    resources: list[Registration], config: dict[str, Any], today: datetime.date | None = None
) -> list[Finding]:
    """Every finding of every rule."""
    context = Context(config, today or datetime.date.today())
    return [finding for rule in RULES for finding in rule(resources, context)]
