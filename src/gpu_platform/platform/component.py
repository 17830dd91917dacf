"""Platform: one environment of the platform, composed from its spec.

The root component of a stack. It owns the explicit cloud provider (made from `cloud`: region,
profile, assumed role), the cluster for that cloud and its GPU node pools, the add-ons, the
model servers and the vector store; every later component receives the cluster's Kubernetes
provider from here. No resource logic lives here beyond that wiring (platform/compute.py,
addons.py, serving.py, data.py).

A public component: typed args (PlatformArgs; its `config` is the stack config's
`gpu-platform:platform`, as gpu_platform.platform.config_args), checked at construction by the
stack config's own rules. No `from __future__ import annotations`: Pulumi's component analyzer
reads the annotations.
"""

from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

import pulumi

from gpu_platform import labels
from gpu_platform.args import check, component_type, from_args, required
from gpu_platform.observability.prometheus import receiver_args
from gpu_platform.platform import addons, compute, data, serving
from gpu_platform.platform.config_args import PlatformConfigArgs
from gpu_platform.platform.spec import PlatformSpec
from gpu_platform.serving.hub import gated_by

TOKEN = "gpuplatform:index:Platform"
_RECEIVERS = {
    "pagerdutyRoutingKey": "pagerduty_routing_key",
    "slackWebhookUrl": "slack_webhook_url",
}


class PlatformArgs(TypedDict):
    """One environment of the platform: its settings and the secrets they need."""

    config: PlatformConfigArgs
    """Everything the environment deploys: the settings a stack's `gpu-platform:platform`
    config holds (README: Configuration reference)."""
    hf_token: NotRequired[pulumi.Input[str]]
    """A Hugging Face token (a secret): required for gated models, which the servers and the
    mirror download with it."""
    grafana_admin_password: NotRequired[pulumi.Input[str]]
    """Grafana's admin password (a secret). Default: a generated one."""
    weaviate_api_key: NotRequired[pulumi.Input[str]]
    """Weaviate's read-write API key (a secret). Default: a generated one."""
    pagerduty_routing_key: NotRequired[pulumi.Input[str]]
    """PagerDuty Events API v2 integration key (a secret; required with
    config.observability.alerts.pagerduty)."""
    slack_webhook_url: NotRequired[pulumi.Input[str]]
    """Slack incoming webhook URL (a secret; required with config.observability.alerts.slack)."""
    store_checked: NotRequired[pulumi.Input[bool]]
    """Resolves once the vector store is known to keep what was deployed; the store waits for
    it (a stack's check of its deployed store against its last outputs)."""


@dataclass(frozen=True)
class Secrets:
    """The secrets PlatformArgs carries beside the spec, and the store check."""

    hf_token: pulumi.Input[str] | None = None
    grafana_admin_password: pulumi.Input[str] | None = None
    weaviate_api_key: pulumi.Input[str] | None = None
    receivers: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Alert receivers' credentials, by config secret key (`pagerdutyRoutingKey`, ...)."""
    store_checked: pulumi.Input[bool] | None = None


def settings(args: PlatformArgs) -> tuple[PlatformSpec, Secrets]:
    """The args checked by the stack config's own rules (`PlatformArgs.config.<key>`), and
    the secrets each setting needs present (and none that no setting uses)."""
    component = "PlatformArgs"
    required(component, args, ("config",))
    spec = from_args(component, "config", PlatformSpec, args["config"])
    problems: list[tuple[str, str]] = []
    if args.get("hf_token") is None:
        problems += [
            (
                f"config.models.{name}.source",
                f"{model.source} is gated on the Hugging Face hub ({terms}): accept the terms "
                "with your hub account and give hfToken, or serve an ungated model",
            )
            for name, model in spec.models.items()
            if model.from_hub and (terms := gated_by(model.source)) is not None
        ]
    receivers, found = receiver_args(spec.observability.alerts, args)
    problems += found
    if args.get("grafana_admin_password") is not None and not spec.observability.grafana:
        problems.append(("grafanaAdminPassword", "config.observability.grafana is false"))
    if args.get("weaviate_api_key") is not None and spec.vector_store.engine != "weaviate":
        problems.append(
            ("weaviateApiKey", f"config.vectorStore.engine is {spec.vector_store.engine}")
        )
    check(component, problems)
    return spec, Secrets(
        hf_token=args.get("hf_token"),
        grafana_admin_password=args.get("grafana_admin_password"),
        weaviate_api_key=args.get("weaviate_api_key"),
        receivers=receivers,
        store_checked=args.get("store_checked"),
    )


class Platform(pulumi.ComponentResource):
    """The whole platform of one environment: cluster, GPU pools, add-ons, model servers,
    vector store and observability. It makes its own cloud provider from `config.cloud`."""

    cluster_name: pulumi.Output[str]
    """The cluster's name."""
    cluster_endpoint: pulumi.Output[str]
    """The Kubernetes API's address."""
    kubeconfig: pulumi.Output[str]
    """A kubeconfig for the cluster, authenticating as the deploying identity (a secret)."""
    model_urls: pulumi.Output[dict[str, str]]
    """Each model's in-cluster OpenAI-compatible URL, by model name."""
    vector_store_connection: pulumi.Output[dict[str, Any]] | None
    """How applications reach the vector store (no password: it is in the Secret named); none
    without a store."""

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        config, secrets = settings(args)
        super().__init__(component_type(TOKEN, "Platform"), name, None, opts)
        self.config, self.secrets = config, secrets
        tags = labels.cloud_tags(
            config.cloud.provider,
            environment=config.environment,
            stack=pulumi.get_stack(),
            project=pulumi.get_project(),
        )
        self.cloud_provider: pulumi.ProviderResource = compute.cloud_provider(
            config,
            f"{name}-{config.cloud.provider}",
            tags,
            pulumi.ResourceOptions(parent=self),
        )
        self.cluster = compute.cluster_and_pools(self, name, config, tags)
        addons.install(self, name, config)
        self.models = serving.models(self, name, config, secrets.hf_token)
        self.vector_store = data.vector_store(self, name, config, secrets)
        self.cluster_name = self.cluster.cluster_name
        self.cluster_endpoint = self.cluster.endpoint
        self.kubeconfig = pulumi.Output.secret(self.cluster.kubeconfig)
        self.model_urls = pulumi.Output.from_input(
            {model: service.url for model, service in self.models.items()}
        )
        self.vector_store_connection = (
            self.vector_store.connection if self.vector_store is not None else None
        )
        self.register_outputs(
            {"clusterName": self.cluster.cluster_name, "endpoint": self.cluster.endpoint}
        )
