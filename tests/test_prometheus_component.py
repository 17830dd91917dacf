"""The observability stack as a public component: Prometheus takes the observability settings as
the stack config spells them, the cluster's pools and models, price overrides and the receivers'
secrets, derives the platform's rules from them, and refuses bad args before creating
anything."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from harness import run_mocked

from gpu_platform.args import ArgsError
from gpu_platform.observability.prometheus import Prometheus, PrometheusArgs
from tools.mockengine import Recording

L4 = {"gpu": "l4", "gpus_per_node": 1, "capacity": "on-demand", "max_nodes": 4}
QWEN = {
    "source": "Qwen/Qwen2.5-7B-Instruct",
    "revision": "a09a35458c702b33eeacc393d103063234e8bc28",
    "node_pool": "l4",
    "min_replicas": 1,
    "max_replicas": 3,
    "max_model_len": 8192,
    "parameters_b": 7.6,
    "ttft_p95_seconds": 1.5,
}
BASE = {"cloud": "aws", "kubernetes_version": "1.36", "cluster_name": "team-gpu"}


def _run(args: dict[str, Any]) -> Recording:
    def program() -> None:
        import pulumi_kubernetes as k8s

        provider = k8s.Provider("cluster", kubeconfig="{}")
        Prometheus(
            "prometheus",
            PrometheusArgs(**args),  # type: ignore[typeddict-item]
            opts=pulumi.ResourceOptions(providers=[provider]),
        )

    return run_mocked(program)


def _rules(recording: Recording) -> dict[str, list[dict[str, Any]]]:
    rule = recording.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    return {group["name"]: group["rules"] for group in rule.inputs["spec"]["groups"]}


def _recorded(rules: list[dict[str, Any]], record: str) -> dict[str, str]:
    """`record`'s constant per label set (its labels' values joined)."""
    return {
        ",".join(rule["labels"].values()): rule["expr"]
        for rule in rules
        if rule.get("record") == record
    }


def test_the_rules_derive_from_the_pools_models_and_prices_given() -> None:
    recording = _run(
        {
            **BASE,
            "pools": {"l4": L4},
            "models": {"qwen-7b": QWEN},
            "pricing": {"hourly_usd": {"g6.xlarge": 0.5}},
        }
    )
    release = recording.one("kubernetes:helm.sh/v3:Release", "prometheus-release")
    assert release.provider == "pulumi:providers:kubernetes::cluster"
    groups = _rules(recording)
    # One L4 per g6.xlarge at the override's price.
    cost = _recorded(groups["gpu-platform.cost"], "pool:gpu_unit_hourly_cost_usd")
    assert cost == {"l4,nvidia_com_gpu": "vector(0.5)"}
    serving = groups["gpu-platform.serving-records"]
    assert _recorded(serving, "model:slo_ttft_p95_seconds") == {"qwen-7b": "vector(1.5)"}
    assert _recorded(serving, "model:replicas:max") == {"qwen-7b": "vector(3)"}
    (estimate,) = _recorded(serving, "model:startup_estimate_seconds").values()
    assert int(estimate.removeprefix("vector(").removesuffix(")")) > 60
    assert "gpu-platform.capacity" in groups


def test_without_pools_or_models_only_the_fleet_rules_are_installed() -> None:
    recording = _run({**BASE, "observability": {"cost_report": False, "grafana": False}})
    groups = _rules(recording)
    assert "gpu-platform.cost" not in groups
    assert "gpu-platform.capacity" not in groups
    assert _recorded(groups["gpu-platform.serving-records"], "model:replicas:max") == {}
    names = {r.name for r in recording.resources}
    assert "prometheus-opencost" not in names
    assert "prometheus-grafana-admin" not in names


def test_receivers_get_their_secrets_and_alertmanager_runs() -> None:
    recording = _run(
        {
            **BASE,
            "observability": {"alerts": {"slack": {"channel": "#gpu"}, "pagerduty": True}},
            "slack_webhook_url": "https://hooks.slack.com/services/T0/B0/x",
            "pagerduty_routing_key": "R0UT1NGKEY",
        }
    )
    secret = recording.one("kubernetes:core/v1:Secret", "prometheus-alert-receivers")
    # The credentials are Pulumi secrets, hidden from state and the plan.
    assert "stringData" in secret.secrets
    release = recording.one("kubernetes:helm.sh/v3:Release", "prometheus-release")
    alertmanager = release.inputs["values"]["alertmanager"]
    assert alertmanager["enabled"] is True
    receivers = {r["name"] for r in alertmanager["config"]["receivers"]}
    assert receivers == {"null", "pagerduty", "slack"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"observability": {"alerts": {"slack": {"channel": "#gpu"}}}},
            "PrometheusArgs.slackWebhookUrl: required",
        ),
        ({"pagerduty_routing_key": "key"}, "PrometheusArgs.pagerdutyRoutingKey: no alert goes"),
        ({"cluster_name": None}, "PrometheusArgs.clusterName: required with"),
        ({"observability": {"retention": "a week"}}, "PrometheusArgs.observability.retention: "),
        ({"observability": {"storage_gib": 5}}, "PrometheusArgs.observability.storageGib: "),
        ({"models": {"qwen-7b": QWEN}}, "PrometheusArgs.models.qwen-7b.nodePool: "),
        (
            {"pools": {"l4": {**L4, "gpus_per_node": 3}}},
            "PrometheusArgs.pools.l4.gpusPerNode: ",
        ),
        ({"pricing": {"spot_discount": 1.5}}, "PrometheusArgs.pricing.spotDiscount: "),
        ({"cloud": "azure"}, "PrometheusArgs.cloud: 'azure' is not aws or gcp"),
        (
            {"observability": {"grafana": False}, "grafana_admin_password": "pw"},
            "PrometheusArgs.grafanaAdminPassword: observability.grafana is false",
        ),
    ],
    ids=[
        "missing-receiver-secret",
        "unused-receiver-secret",
        "opencost-cluster",
        "retention",
        "schema-key-names",
        "model-on-unknown-pool",
        "pool-rules",
        "pricing",
        "cloud",
        "unused-grafana-password",
    ],
)
def test_bad_args_are_refused_before_anything_is_created(
    change: dict[str, Any], expected: str
) -> None:
    args = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    problems: list[str] = []

    def program() -> None:
        try:
            Prometheus("p", PrometheusArgs(**args))  # type: ignore[typeddict-item]
        except ArgsError as error:
            problems.extend(error.problems)

    assert run_mocked(program).resources == []
    assert any(p.startswith(expected) for p in problems), problems
