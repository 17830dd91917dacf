"""The platform's PrometheusRule (pure data): GPU health and waste, serving alerts and the
recording rules they and the dashboards read, in one object the stack's Prometheus selects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gpu_platform import labels
from gpu_platform.observability import capacity_rules, cost_rules, gpu_rules, serving_rules
from gpu_platform.observability.spec import ObservabilitySpec
from gpu_platform.pools import NodePoolSpec
from gpu_platform.serving.spec import ModelSpec

NAME = "gpu-platform"


def objectives(
    spec: ObservabilitySpec, models: Mapping[str, ModelSpec]
) -> dict[str, tuple[float, int, int]]:
    """Each model's TTFT p95 SLO (its own, else the stack's), minimum and maximum replicas."""
    return {
        name: (
            model.ttft_p95_seconds or spec.alerts.ttft_p95_seconds,
            model.min_replicas,
            model.max_replicas,
        )
        for name, model in models.items()
    }


def render_groups(
    spec: ObservabilitySpec,
    models: Mapping[str, ModelSpec],
    gpu_unit_prices: Mapping[tuple[str, str], float] | None = None,
    pools: Mapping[str, NodePoolSpec] | None = None,
    startup_estimates: Mapping[str, int] | None = None,
) -> list[dict[str, Any]]:
    """Every group; `gpu_unit_prices` (cost_rules.unit_prices) adds GPU cost per namespace,
    model and pool, `pools` the capacity alerts, and `startup_estimates` each model's estimated
    start for the dashboards."""
    return [
        serving_rules.recording_group(objectives(spec, models), startup_estimates),
        *([cost_rules.cost_group(gpu_unit_prices)] if gpu_unit_prices else []),
        *([capacity_rules.capacity_group(pools)] if pools else []),
        gpu_rules.health_group(),
        gpu_rules.waste_group(spec.alerts.gpu_idle_minutes),
        serving_rules.alert_group(),
    ]


def render_prometheus_rule(namespace: str, groups: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": NAME,
            "namespace": namespace,
            "labels": dict(labels.PROMETHEUS_SELECTOR),
        },
        "spec": {"groups": groups},
    }
