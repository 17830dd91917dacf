"""The `observability` section of the stack config."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from components.spec import Spec, check

_RETENTION = re.compile(r"^\d+(h|d|w)$", re.ASCII)


class AlertsSpec(Spec):
    """Thresholds of the platform's alerts."""

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

    alerts: AlertsSpec = Field(
        default_factory=AlertsSpec, description="Alert thresholds (rules are always installed)."
    )

    @field_validator("retention")
    @classmethod
    def _retention(cls, value: str) -> str:
        return check(_RETENTION, value, "not a retention such as 15d, 72h or 2w")
