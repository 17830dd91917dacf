"""Typed args of the observability stack and of price overrides: what the public Prometheus
component takes, in every language. Generated from
gpu_platform.observability.spec.ObservabilitySpec and gpu_platform.pricing.PricingSpec by `make
docs` (tools/argsgen.py); change the specs, not this file."""

# No `from __future__ import annotations`: Pulumi's component analyzer reads these
# annotations as types.
from typing import NotRequired, TypedDict


class SlackArgs(TypedDict):
    """Post alerts to a Slack channel through an incoming webhook (the config secret
    `slackWebhookUrl`)."""

    channel: str
    """The channel, e.g. #gpu-platform."""


class AlertsArgs(TypedDict):
    """Thresholds of the platform's alerts, and who hears them."""

    pagerduty: NotRequired[bool]
    """Page critical alerts through PagerDuty's Events API v2, with the integration key in the config secret `pagerdutyRoutingKey`. Default: false."""
    slack: NotRequired[SlackArgs]
    """Post critical, warning and (daily) info alerts to a Slack channel, with the webhook URL in the config secret `slackWebhookUrl`."""
    gpu_idle_minutes: NotRequired[int]
    """A GPU node idle this long raises GPUNodeIdle (waste). Default: 60."""
    ttft_p95_seconds: NotRequired[float]
    """Default SLO: p95 time to first token in seconds; models.<name>.ttftP95Seconds overrides it. Default: 2.0."""


class ObservabilityArgs(TypedDict):
    """The stack's Prometheus: what model autoscaling and GPU metrics are read from."""

    retention: NotRequired[str]
    """How long Prometheus keeps samples, e.g. 15d or 72h. Default: 15d."""
    storage_gib: NotRequired[int]
    """Prometheus volume size in GiB. Default: 50."""
    grafana: NotRequired[bool]
    """Run Grafana with the platform's dashboards (GPU fleet, model serving); its admin password is the config secret `grafanaAdminPassword`, or generated. Default: true."""
    cost_report: NotRequired[bool]
    """Run OpenCost for CPU, memory and storage cost per namespace and pod (GPU cost per namespace, model and pool comes from the platform's own rules either way). Default: true."""
    alerts: NotRequired[AlertsArgs]
    """Alert thresholds and receivers (rules are always installed; Alertmanager runs when a receiver is configured)."""


class PricingArgs(TypedDict):
    """Overrides for the catalog's list prices used by the cost estimate."""

    spot_discount: NotRequired[float]
    """Fraction below on-demand that spot nodes cost (0.6 = 60 % cheaper). Default: the catalog's conservative estimate."""
    hourly_usd: NotRequired[dict[str, float]]
    """On-demand USD per hour by instance/machine type (or the managed vector store's database class), for prices negotiated or newer than the catalog's, e.g. {g6.xlarge: 0.75}."""
