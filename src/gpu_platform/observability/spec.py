"""The `observability` section of the stack config."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from gpu_platform.spec import Spec, check

_RETENTION = re.compile(r"^\d+(h|d|w)$", re.ASCII)


_CHANNEL = re.compile(r"^#[a-z0-9][a-z0-9_-]{0,79}$", re.ASCII)


class SlackSpec(Spec):
    """Post alerts to a Slack channel through an incoming webhook (the config secret
    `slackWebhookUrl`)."""

    channel: str = Field(description="The channel, e.g. #gpu-platform.")

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        return check(_CHANNEL, value, "a Slack channel such as #gpu-platform (lowercase)")


class AlertsSpec(Spec):
    """Thresholds of the platform's alerts, and who hears them."""

    pagerduty: bool = Field(
        False,
        description=(
            "Page critical alerts through PagerDuty's Events API v2, with the integration key "
            "in the config secret `pagerdutyRoutingKey`."
        ),
    )
    slack: SlackSpec | None = Field(
        None,
        description=(
            "Post critical, warning and (daily) info alerts to a Slack channel, with the "
            "webhook URL in the config secret `slackWebhookUrl`."
        ),
    )

    gpu_idle_minutes: int = Field(
        60, ge=10, le=1440, description="A GPU node idle this long raises GPUNodeIdle (waste)."
    )
    ttft_p95_seconds: float = Field(
        2.0,
        gt=0,
        le=600,
        description=(
            "Default SLO: p95 time to first token in seconds; models.<name>.ttftP95Seconds "
            "overrides it."
        ),
    )


class ObservabilitySpec(Spec):
    """The stack's Prometheus: what model autoscaling and GPU metrics are read from."""

    retention: str = Field("15d", description="How long Prometheus keeps samples, e.g. 15d or 72h.")
    storage_gib: int = Field(
        50, alias="storageGiB", ge=10, le=10000, description="Prometheus volume size in GiB."
    )

    grafana: bool = Field(
        True,
        description=(
            "Run Grafana with the platform's dashboards (GPU fleet, model serving); its admin "
            "password is the config secret `grafanaAdminPassword`, or generated."
        ),
    )
    cost_report: bool = Field(
        True,
        description=(
            "Run OpenCost for CPU, memory and storage cost per namespace and pod (GPU cost per "
            "namespace, model and pool comes from the platform's own rules either way)."
        ),
    )
    alerts: AlertsSpec = Field(
        default_factory=AlertsSpec,
        description=(
            "Alert thresholds and receivers (rules are always installed; Alertmanager runs "
            "when a receiver is configured)."
        ),
    )

    @field_validator("retention")
    @classmethod
    def _retention(cls, value: str) -> str:
        return check(_RETENTION, value, "not a retention such as 15d, 72h or 2w")


def receiver_secrets(alerts: AlertsSpec) -> dict[str, bool]:
    """The receivers' config secret keys, and whether the config uses each."""
    return {"pagerdutyRoutingKey": alerts.pagerduty, "slackWebhookUrl": alerts.slack is not None}
