"""The platform's alerting and recording rules, checked by Prometheus's own `promtool` (Debian's
`prometheus` package; the Makefile installs it): every group passes `promtool check rules`, and
`promtool test rules` feeds each alert synthetic series that must make it fire, with its labels
and rendered annotations, and series that must leave it silent. Every PromQL expression parses
with a real parser and reads only series that exist: the DCGM counters the exporter is
configured to collect (each one a field dcgm-exporter's own lists name), vLLM's exposed series,
kube-state-metrics' and the platform's recording rules."""

from __future__ import annotations

import csv
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from harness import platform_config, prod_variant, prod_variant_config, recorded
from upstream_checks import UPSTREAM, crd_errors, prometheus_tool, promql_series, vllm_series

from gpu_platform import labels
from gpu_platform.observability import alert_rules, dcgm_counters
from gpu_platform.observability.spec import ObservabilitySpec
from stacks.config import parse
from stacks.estimate import estimate

PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
# kube-state-metrics series the rules read (its statefulset collector, on by default).


def _kube_state_metrics() -> frozenset[str]:
    """The metric names kube-state-metrics documents for its node, pod and statefulset
    collectors (the first column of its docs' tables, at the chart's release)."""
    names = set()
    for doc in (UPSTREAM / "metrics" / "kube-state-metrics").glob("*.md"):
        names |= set(re.findall(r"^\|\s*(kube_[a-z_]+)\s*\|", doc.read_text(), re.MULTILINE))
    return frozenset(names)


KUBE_STATE_METRICS = _kube_state_metrics()
PROMETHEUS_BUILTIN = frozenset({"up"})
# The test's models: name -> (TTFT p95 SLO seconds, minReplicas, maxReplicas).
MODELS = {"m1": (2.0, 1, 2)}
IDLE_MINUTES = 60


def _promtool() -> str:
    return prometheus_tool("promtool")


# The test's pool price per GPU unit (USD per hour).
UNIT_PRICES = {("l4-spot", "nvidia_com_gpu"): 0.25, ("h100-reserved", "nvidia_com_gpu"): 2.0}


def _pools() -> dict[str, Any]:
    """prod's pools: h100-reserved (reserved, at most 2 nodes), h100-spot (spot, 2), ..."""
    return dict(parse(platform_config("prod")).node_pools)


def _groups() -> list[dict[str, Any]]:
    spec = ObservabilitySpec(alerts={"gpuIdleMinutes": IDLE_MINUTES})
    return [
        alert_rules.serving_rules.recording_group(MODELS, {"m1": 420}),
        alert_rules.cost_rules.cost_group(UNIT_PRICES),
        alert_rules.capacity_rules.capacity_group(_pools()),
        alert_rules.gpu_rules.health_group(),
        alert_rules.gpu_rules.waste_group(spec.alerts.gpu_idle_minutes),
        alert_rules.serving_rules.alert_group(),
    ]


def _alerts() -> dict[str, dict[str, Any]]:
    return {r["alert"]: r for g in _groups() for r in g["rules"] if "alert" in r}


# --- collection ----------------------------------------------------------------------------


def _upstream_fields() -> dict[str, str]:
    """Every field dcgm-exporter's own lists name (commented-out ones included), with its type."""
    fields = {}
    for name in ("dcgm-default-counters.csv", "dcgm-dcp-metrics-included.csv"):
        for line in (UPSTREAM / "metrics" / name).read_text().splitlines():
            parts = [p.strip() for p in line.lstrip("# ").split(",")]
            if len(parts) >= 3 and re.fullmatch(r"DCGM_[A-Z0-9_]+", parts[0]):
                fields[parts[0]] = parts[1]
    return fields


def test_the_counters_are_fields_the_exporter_knows_with_their_types() -> None:
    known = _upstream_fields()
    rows = [
        [cell.strip() for cell in row]
        for row in csv.reader(dcgm_counters.render_csv().splitlines())
        if row and not row[0].startswith("#")
    ]
    assert len(rows) == len(dcgm_counters.COUNTERS)
    for name, kind, _help in rows:
        assert known.get(name) == kind, name
    # What the default list leaves out and the health alerts need is collected.
    assert {
        "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL",
        "DCGM_FI_DEV_RETIRED_PENDING",
        "DCGM_FI_DEV_THERMAL_VIOLATION",
        "DCGM_EXP_XID_ERRORS_COUNT",
    } <= dcgm_counters.collected()


def test_both_clouds_exporters_read_the_counters() -> None:
    eks = recorded("dev")
    operator = next(
        r
        for r in eks.of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == "gpu-operator"
    )
    assert operator.inputs["values"]["dcgmExporter"]["config"] == {"name": dcgm_counters.CONFIG_MAP}
    counters = eks.one("kubernetes:core/v1:ConfigMap", "dev-gpu-dcgm-metrics").inputs
    assert counters["metadata"]["namespace"] == "gpu-operator"
    assert counters["data"] == {"dcgm-metrics.csv": dcgm_counters.render_csv()}


def test_the_gke_exporter_reads_the_counters_where_its_default_list_was_gcp() -> None:
    gke = recorded("gcp-dev")
    exporter = next(
        r
        for r in gke.of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == "dcgm-exporter"
    )
    (volume,) = exporter.inputs["values"]["extraConfigMapVolumes"]
    assert volume["configMap"] == {
        "name": dcgm_counters.CONFIG_MAP,
        "items": [{"key": "dcgm-metrics.csv", "path": "default-counters.csv"}],
    }
    mounts = {m["name"]: m for m in exporter.inputs["values"]["extraVolumeMounts"]}
    assert mounts[volume["name"]]["mountPath"] == "/etc/dcgm-exporter/default-counters.csv"
    assert (
        gke.one("kubernetes:core/v1:ConfigMap", "gcp-dev-gpu-dcgm-metrics").inputs["metadata"][
            "namespace"
        ]
        == "dcgm-exporter"
    )


# --- the rules as data ---------------------------------------------------------------------


def test_every_expression_parses_and_reads_only_series_that_exist() -> None:
    groups = _groups()
    recorded_names = {r["record"] for g in groups for r in g["rules"] if "record" in r}
    known = (
        dcgm_counters.collected()
        | vllm_series()
        | KUBE_STATE_METRICS
        | PROMETHEUS_BUILTIN
        | recorded_names
    )
    used = set()
    for group in groups:
        for rule in group["rules"]:
            series = promql_series(promql_parser.parse(rule["expr"]))
            assert series or rule["expr"].startswith("vector("), rule
            assert set(series) <= known, (rule.get("alert") or rule["record"], set(series) - known)
            used |= set(series)
    assert {"DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "vllm:kv_cache_usage_perc"} <= used
    assert {"kube_statefulset_replicas", "kube_node_labels"} <= used & KUBE_STATE_METRICS
    assert "kube_pod_container_resource_requests" in used


def test_every_alert_says_how_bad_what_it_means_and_what_to_do() -> None:
    for name, rule in _alerts().items():
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, name
        assert re.fullmatch(r"\d+[mh]", rule["for"]), name
        description = rule["annotations"]["description"]
        assert len(description) > 120 and "check" in description.lower(), name
        assert rule["annotations"]["summary"] and "\n" not in rule["annotations"]["summary"]


def test_the_stacks_install_the_rules_where_prometheus_selects_them() -> None:
    for stack in ("dev", "prod"):
        rule = recorded(stack).one(PROMETHEUS_RULE)
        assert rule.inputs["metadata"]["labels"] == labels.PROMETHEUS_SELECTOR
        assert (
            crd_errors(
                rule.inputs,
                UPSTREAM / "charts/kube-prometheus-stack/charts/crds/crds/crd-prometheusrules.yaml",
            )
            == []
        )
        assert (
            f"kubernetes:helm.sh/v3:Release::{stack}-prometheus-release"
            in rule.options["dependsOn"]
        )
    # Each model's objectives, from its stack: prod's 72B model keeps two replicas at least.
    records = recorded("prod").one(PROMETHEUS_RULE).inputs["spec"]["groups"][0]["rules"]
    minimum = [
        r
        for r in records
        if r["record"] == "model:replicas:min" and r["labels"] == {"model_name": "qwen-72b"}
    ]
    assert [r["expr"] for r in minimum] == ["vector(2)"]
    config = parse(platform_config("prod"))
    slo = alert_rules.objectives(config.observability, config.models)
    assert slo["qwen-72b"] == (2.0, 2, 6)
    # GPU prices per pool unit from the stack's own estimate: a p5.48xlarge node's hour over its
    # eight GPUs; the MIG pool's node over its sixteen 3g.40gb slices.
    # (prod's variant has the MIG pool).
    rules = prod_variant().one(PROMETHEUS_RULE).inputs["spec"]["groups"]
    groups = {g["name"]: g for g in rules}
    prices = {
        r["labels"]["pool"]: float(r["expr"].removeprefix("vector(").removesuffix(")"))
        for r in groups["gpu-platform.cost"]["rules"]
        if r["record"] == "pool:gpu_unit_hourly_cost_usd"
    }
    items = {i.name: i for i in estimate(parse(prod_variant_config())).items}
    assert prices["h100-reserved"] == pytest.approx(items["h100-reserved"].usd_per_node_hour / 8)
    assert prices["a100-mig"] == pytest.approx(items["a100-mig"].usd_per_node_hour / 16)


# --- promtool ------------------------------------------------------------------------------


def test_promtool_accepts_every_rendered_group() -> None:
    promtool = _promtool()
    for stack in ("dev", "prod"):
        groups = recorded(stack).one(PROMETHEUS_RULE).inputs["spec"]["groups"]
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "rules.yaml"
            path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
            result = subprocess.run(
                [promtool, "check", "rules", str(path)],
                capture_output=True,
                text=True,
                check=False,
            )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "SUCCESS" in result.stdout


def _annotations(name: str, values: dict[str, str], value: str = "") -> dict[str, str]:
    """An alert's annotations as Prometheus renders them for these labels and value."""

    def render(text: str) -> str:
        text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: values[m.group(1)], text)
        return re.sub(r"\{\{ \$value[^}]*\}\}", value, text)

    return {k: render(v) for k, v in _alerts()[name]["annotations"].items()}


def _case(
    alert: str,
    series: list[tuple[str, str]],
    at: str,
    fired: list[dict[str, str]],
    value: str = "",
) -> dict[str, Any]:
    severity = _alerts()[alert]["labels"]["severity"]
    return {
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in series],
        "alert_rule_test": [
            {
                "eval_time": at,
                "alertname": alert,
                "exp_alerts": [
                    {
                        "exp_labels": {**labels_, "severity": severity},
                        "exp_annotations": _annotations(alert, labels_, value),
                    }
                    for labels_ in fired
                ],
            }
        ],
    }


GPU = {"gpu": "0", "node": "node-a"}
SERIES_GPU = 'gpu="0", node="node-a"'
SERIES_SET = 'namespace="inference", statefulset="vllm-m1"'
TTFT = "vllm:time_to_first_token_seconds_bucket"
READY = 'kube_pod_status_ready{{namespace="inference", pod="vllm-m1-0", condition="true"}}'


def _ttft(slow: bool) -> list[tuple[str, str]]:
    """Ten requests a minute, all between 2.5 and 5 s (slow) or between 0.5 and 1 s."""
    counts = {"0.5": 0, "1": 0 if slow else 10, "2.5": 0 if slow else 10, "5": 10, "+Inf": 10}
    return [(f'{TTFT}{{model_name="m1", le="{le}"}}', f"0+{n}x40") for le, n in counts.items()]


# (alert, case that fires, case that stays silent)
CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "GPUHardwareXid",
        _case(
            "GPUHardwareXid",
            [(f'DCGM_EXP_XID_ERRORS_COUNT{{xid="79", {SERIES_GPU}}}', "0 1 1")],
            "2m",
            [{**GPU, "xid": "79"}],
        ),
        _case(
            "GPUHardwareXid",
            [(f'DCGM_EXP_XID_ERRORS_COUNT{{xid="13", {SERIES_GPU}}}', "0 1 1")],
            "2m",
            [],
        ),
    ),
    (
        "GPUApplicationXid",
        _case(
            "GPUApplicationXid",
            [(f'DCGM_EXP_XID_ERRORS_COUNT{{xid="43", {SERIES_GPU}}}', "1x10")],
            "6m",
            [{**GPU, "xid": "43"}],
        ),
        _case(
            "GPUApplicationXid",
            [(f'DCGM_EXP_XID_ERRORS_COUNT{{xid="43", {SERIES_GPU}}}', "0x10")],
            "6m",
            [],
        ),
    ),
    (
        "GPUDoubleBitECCErrors",
        _case(
            "GPUDoubleBitECCErrors",
            [(f"DCGM_FI_DEV_ECC_DBE_VOL_TOTAL{{{SERIES_GPU}}}", "0 0 1 1 1")],
            "4m",
            [GPU],
        ),
        _case(
            "GPUDoubleBitECCErrors",
            [(f"DCGM_FI_DEV_ECC_DBE_VOL_TOTAL{{{SERIES_GPU}}}", "5x5")],
            "4m",
            [],
        ),
    ),
    (
        "GPURowRemapFailed",
        _case(
            "GPURowRemapFailed",
            [(f"DCGM_FI_DEV_ROW_REMAP_FAILURE{{{SERIES_GPU}}}", "1 1")],
            "1m",
            [GPU],
        ),
        _case(
            "GPURowRemapFailed",
            [(f"DCGM_FI_DEV_ROW_REMAP_FAILURE{{{SERIES_GPU}}}", "0 0")],
            "1m",
            [],
        ),
    ),
    (
        "GPUPagesPendingRetirement",
        _case(
            "GPUPagesPendingRetirement",
            [(f"DCGM_FI_DEV_RETIRED_PENDING{{{SERIES_GPU}}}", "1x20")],
            "16m",
            [GPU],
        ),
        _case(
            "GPUPagesPendingRetirement",
            [(f"DCGM_FI_DEV_RETIRED_PENDING{{{SERIES_GPU}}}", "0x20")],
            "16m",
            [],
        ),
    ),
    (
        # Throttled 30 % of each minute (18 s of 60, counted in ns), then 10 %.
        "GPUThermalThrottling",
        _case(
            "GPUThermalThrottling",
            [(f"DCGM_FI_DEV_THERMAL_VIOLATION{{{SERIES_GPU}}}", "0+18000000000x30")],
            "25m",
            [GPU],
        ),
        _case(
            "GPUThermalThrottling",
            [(f"DCGM_FI_DEV_THERMAL_VIOLATION{{{SERIES_GPU}}}", "0+6000000000x30")],
            "25m",
            [],
        ),
    ),
    (
        "GPUPowerThrottling",
        _case(
            "GPUPowerThrottling",
            [(f"DCGM_FI_DEV_POWER_VIOLATION{{{SERIES_GPU}}}", "0+36000000000x45")],
            "40m",
            [GPU],
        ),
        _case(
            "GPUPowerThrottling",
            [(f"DCGM_FI_DEV_POWER_VIOLATION{{{SERIES_GPU}}}", "0+18000000000x45")],
            "40m",
            [],
        ),
    ),
    (
        "GPUTemperatureHigh",
        _case(
            "GPUTemperatureHigh",
            [(f"DCGM_FI_DEV_GPU_TEMP{{{SERIES_GPU}}}", "90x15")],
            "11m",
            [GPU],
            value="90",
        ),
        _case(
            "GPUTemperatureHigh",
            [(f"DCGM_FI_DEV_GPU_TEMP{{{SERIES_GPU}}}", "80x15")],
            "11m",
            [],
        ),
    ),
    (
        # Two GPUs for an hour, then one of them stops reporting.
        "GPUMissing",
        _case(
            "GPUMissing",
            [
                ('DCGM_FI_DEV_GPU_TEMP{gpu="0", node="node-a"}', "50x90"),
                ('DCGM_FI_DEV_GPU_TEMP{gpu="1", node="node-a"}', "50x60"),
            ],
            "85m",
            [{"node": "node-a"}],
        ),
        _case(
            "GPUMissing",
            [
                ('DCGM_FI_DEV_GPU_TEMP{gpu="0", node="node-a"}', "50x90"),
                ('DCGM_FI_DEV_GPU_TEMP{gpu="1", node="node-a"}', "50x90"),
            ],
            "85m",
            [],
        ),
    ),
    (
        "DCGMExporterDown",
        _case(
            "DCGMExporterDown",
            [('up{job="nvidia-dcgm-exporter", instance="10.0.0.1:9400"}', "0x15")],
            "11m",
            [{"job": "nvidia-dcgm-exporter", "instance": "10.0.0.1:9400"}],
        ),
        _case(
            "DCGMExporterDown",
            [('up{job="nvidia-dcgm-exporter", instance="10.0.0.1:9400"}', "1x15")],
            "11m",
            [],
        ),
    ),
    (
        "GPUNodeIdle",
        _case(
            "GPUNodeIdle",
            [(f"DCGM_FI_DEV_GPU_UTIL{{{SERIES_GPU}}}", "0x70")],
            "61m",
            [{"node": "node-a"}],
        ),
        _case(
            "GPUNodeIdle",
            [(f"DCGM_FI_DEV_GPU_UTIL{{{SERIES_GPU}}}", "0x30 40x40")],
            "61m",
            [],
        ),
    ),
    (
        # Requests wait while the model runs its maximum of two replicas; then with one.
        "ModelQueueingAtMaxReplicas",
        _case(
            "ModelQueueingAtMaxReplicas",
            [
                ('vllm:num_requests_waiting{model_name="m1", pod="vllm-m1-0"}', "5x20"),
                (f"kube_statefulset_replicas{{{SERIES_SET}}}", "2x20"),
            ],
            "12m",
            [{"model_name": "m1"}],
        ),
        _case(
            "ModelQueueingAtMaxReplicas",
            [
                ('vllm:num_requests_waiting{model_name="m1", pod="vllm-m1-0"}', "5x20"),
                (f"kube_statefulset_replicas{{{SERIES_SET}}}", "1x20"),
            ],
            "12m",
            [],
        ),
    ),
    (
        "ModelKVCacheNearlyFull",
        _case(
            "ModelKVCacheNearlyFull",
            [('vllm:kv_cache_usage_perc{model_name="m1", pod="vllm-m1-0"}', "0.97x15")],
            "11m",
            [{"model_name": "m1"}],
            value="97%",
        ),
        _case(
            "ModelKVCacheNearlyFull",
            [('vllm:kv_cache_usage_perc{model_name="m1", pod="vllm-m1-0"}', "0.5x15")],
            "11m",
            [],
        ),
    ),
    (
        # p95 of requests between 2.5 and 5 s: 4.875 s, above m1's 2 s SLO.
        "ModelTTFTAboveSLO",
        _case("ModelTTFTAboveSLO", _ttft(slow=True), "25m", [{"model_name": "m1"}], "4.875s"),
        _case("ModelTTFTAboveSLO", _ttft(slow=False), "25m", []),
    ),
    (
        # One request in ten ends in an error.
        "ModelErrorRateHigh",
        _case(
            "ModelErrorRateHigh",
            [
                ('vllm:request_success_total{model_name="m1", finished_reason="error"}', "0+1x20"),
                ('vllm:request_success_total{model_name="m1", finished_reason="stop"}', "0+9x20"),
            ],
            "16m",
            [{"model_name": "m1"}],
            value="10%",
        ),
        _case(
            "ModelErrorRateHigh",
            [
                ('vllm:request_success_total{model_name="m1", finished_reason="error"}', "0x20"),
                ('vllm:request_success_total{model_name="m1", finished_reason="stop"}', "0+9x20"),
            ],
            "16m",
            [],
        ),
    ),
    (
        "ModelServerDown",
        _case(
            "ModelServerDown",
            [
                ('up{namespace="inference", pod="vllm-m1-0", job="inference/vllm-m1"}', "0x10"),
                (READY.format(ready=1), "1x10"),
            ],
            "6m",
            [{"namespace": "inference", "pod": "vllm-m1-0", "job": "inference/vllm-m1"}],
        ),
        _case(
            "ModelServerDown",
            # Still loading its weights: no metrics yet, and not Ready.
            [
                ('up{namespace="inference", pod="vllm-m1-0", job="inference/vllm-m1"}', "0x10"),
                (READY.format(ready=1), "0x10"),
            ],
            "6m",
            [],
        ),
    ),
    (
        "ModelRolloutStuck",
        # One of two replicas updated, and nothing more for an hour.
        _case(
            "ModelRolloutStuck",
            [
                (f"kube_statefulset_status_replicas_updated{{{SERIES_SET}}}", "1x90"),
                (f"kube_statefulset_status_replicas{{{SERIES_SET}}}", "2x90"),
            ],
            "80m",
            [{"namespace": "inference", "statefulset": "vllm-m1", "model_name": "m1"}],
            value="1",
        ),
        # A slow rollout that still progresses: the second of three replicas updated at 31m.
        _case(
            "ModelRolloutStuck",
            [
                (f"kube_statefulset_status_replicas_updated{{{SERIES_SET}}}", "1x30 2x60"),
                (f"kube_statefulset_status_replicas{{{SERIES_SET}}}", "3x90"),
            ],
            "80m",
            [],
        ),
    ),
    (
        "ModelBelowMinReplicas",
        _case(
            "ModelBelowMinReplicas",
            [(f"kube_statefulset_status_replicas_ready{{{SERIES_SET}}}", "0x20")],
            "16m",
            [{"model_name": "m1"}],
            value="0",
        ),
        _case(
            "ModelBelowMinReplicas",
            [(f"kube_statefulset_status_replicas_ready{{{SERIES_SET}}}", "1x20")],
            "16m",
            [],
        ),
    ),
    (
        "ModelIdleAtMinimum",
        _case(
            "ModelIdleAtMinimum",
            [
                (f"kube_statefulset_replicas{{{SERIES_SET}}}", "1x70"),
                ('vllm:request_success_total{model_name="m1", finished_reason="stop"}', "5x70"),
            ],
            "62m",
            [{"model_name": "m1"}],
        ),
        _case(
            "ModelIdleAtMinimum",
            [
                (f"kube_statefulset_replicas{{{SERIES_SET}}}", "1x70"),
                ('vllm:request_success_total{model_name="m1", finished_reason="stop"}', "0+1x70"),
            ],
            "62m",
            [],
        ),
    ),
]


# Recording rules with a worked example: two GPUs on a node of pool l4-spot at 20 % and 60 %,
# one GPU on a node of no platform pool.
# A model server that started on its node at t=1000 s and was Ready at t=1600 s: a 600 s start,
# recorded per replica with its model's name next to the model's estimate. A second replica
# whose container restarted is left out (its ready time is its last restart's).
_POD = 'namespace="inference", pod="vllm-m1-0", uid="u1"'
_RESTARTED = 'namespace="inference", pod="vllm-m1-1", uid="u2"'
REPLICA_STARTUP = {
    "interval": "1m",
    "input_series": [
        {"series": f"kube_pod_start_time{{{_POD}}}", "values": "1000x10"},
        {"series": f"kube_pod_status_ready_time{{{_POD}}}", "values": "1600x10"},
        {
            "series": f'kube_pod_container_status_restarts_total{{{_POD}, container="vllm"}}',
            "values": "0x10",
        },
        {"series": f"kube_pod_start_time{{{_RESTARTED}}}", "values": "1000x10"},
        {"series": f"kube_pod_status_ready_time{{{_RESTARTED}}}", "values": "9000x10"},
        {
            "series": f'kube_pod_container_status_restarts_total{{{_RESTARTED}, container="vllm"}}',
            "values": "1x10",
        },
    ],
    "promql_expr_test": [
        {
            "expr": "model:replica_startup_seconds",
            "eval_time": "5m",
            "exp_samples": [
                {
                    "labels": f'model:replica_startup_seconds{{{_POD}, model_name="m1"}}',
                    "value": 600,
                }
            ],
        },
        {
            "expr": "model:startup_estimate_seconds",
            "eval_time": "5m",
            "exp_samples": [
                {"labels": 'model:startup_estimate_seconds{model_name="m1"}', "value": 420}
            ],
        },
    ],
}

POOL_UTILISATION = {
    "interval": "1m",
    "input_series": [
        {"series": 'DCGM_FI_DEV_GPU_UTIL{gpu="0", node="node-a"}', "values": "20x10"},
        {"series": 'DCGM_FI_DEV_GPU_UTIL{gpu="1", node="node-a"}', "values": "60x10"},
        {"series": 'DCGM_FI_DEV_GPU_UTIL{gpu="0", node="node-b"}', "values": "90x10"},
        {
            "series": 'kube_node_labels{node="node-a", label_gpuplatform_io_pool="l4-spot"}',
            "values": "1x10",
        },
        {"series": 'kube_node_labels{node="node-b"}', "values": "1x10"},
    ],
    "promql_expr_test": [
        {
            "expr": "pool:dcgm_gpu_utilization:avg5m",
            "eval_time": "6m",
            "exp_samples": [
                {"labels": 'pool:dcgm_gpu_utilization:avg5m{pool="l4-spot"}', "value": 40}
            ],
        },
        {
            "expr": "node:dcgm_gpu_utilization:avg5m",
            "eval_time": "6m",
            "exp_samples": [
                {"labels": 'node:dcgm_gpu_utilization:avg5m{node="node-a"}', "value": 40},
                {"labels": 'node:dcgm_gpu_utilization:avg5m{node="node-b"}', "value": 90},
            ],
        },
    ],
}


RUNNING = 'kube_pod_status_phase{{namespace="{namespace}", pod="{pod}", phase="Running"}}'
# GPU cost, worked: two one-GPU nodes of pool l4-spot at 0.25 USD an hour each; a model server
# asks for one GPU on node-a, node-b's sits idle. CPU requests are not priced here.
GPU_COST = {
    "interval": "1m",
    "input_series": [
        *(
            {
                "series": f'kube_node_labels{{node="{n}", label_gpuplatform_io_pool="l4-spot"}}',
                "values": "1x5",
            }
            for n in ("node-a", "node-b")
        ),
        *(
            {
                "series": f'kube_node_status_capacity{{node="{n}", resource="nvidia_com_gpu", '
                'unit="integer"}',
                "values": "1x5",
            }
            for n in ("node-a", "node-b")
        ),
        {
            "series": 'kube_pod_container_resource_requests{namespace="inference", '
            'pod="vllm-m1-0", container="vllm", node="node-a", resource="nvidia_com_gpu", '
            'unit="integer"}',
            "values": "1x5",
        },
        {
            "series": 'kube_pod_container_resource_requests{namespace="inference", '
            'pod="vllm-m1-0", container="vllm", node="node-a", resource="cpu", unit="core"}',
            "values": "4x5",
        },
        {"series": RUNNING.format(namespace="inference", pod="vllm-m1-0"), "values": "1x5"},
        # A finished job's pod still lists its GPU request until it is deleted: not billed.
        {
            "series": 'kube_pod_container_resource_requests{namespace="batch", pod="job-done", '
            'container="job", node="node-b", resource="nvidia_com_gpu", unit="integer"}',
            "values": "1x5",
        },
        {
            "series": 'kube_pod_status_phase{namespace="batch", pod="job-done", phase="Succeeded"}',
            "values": "1x5",
        },
        {
            "series": 'kube_pod_status_phase{namespace="batch", pod="job-done", phase="Running"}',
            "values": "0x5",
        },
    ],
    "promql_expr_test": [
        {
            "expr": expr,
            "eval_time": "2m",
            "exp_samples": [{"labels": f"{expr}{{{labels_}}}", "value": value}],
        }
        for expr, labels_, value in (
            ("namespace:gpu_cost_usd_per_hour", 'namespace="inference"', 0.25),
            ("model:gpu_cost_usd_per_hour", 'model_name="m1"', 0.25),
            ("pool:gpu_cost_usd_per_hour", 'pool="l4-spot"', 0.5),
            ("pool:gpu_idle_cost_usd_per_hour", 'pool="l4-spot"', 0.25),
        )
    ],
}


def _pool_nodes(pool: str, count: int, created: str = "100") -> list[tuple[str, str]]:
    series = []
    for index in range(count):
        node = f"{pool}-{index}"
        series += [
            (f'kube_node_labels{{node="{node}", label_gpuplatform_io_pool="{pool}"}}', "1x400"),
            (f'kube_node_created{{node="{node}"}}', f"{created}x400"),
        ]
    return series


def _churn(count: int) -> list[tuple[str, str]]:
    """Nodes of h100-spot, each alive for an hour, a new one every 30 minutes."""
    series = []
    for index in range(count):
        node, start = f"h100-spot-{index}", 30 * index
        alive = f"_x{start} " if start else ""
        series += [
            (
                f'kube_node_labels{{node="{node}", label_gpuplatform_io_pool="h100-spot"}}',
                f"{alive}1x60",
            ),
            (f'kube_node_created{{node="{node}"}}', f"{alive}{start * 60}x60"),
        ]
    return series


PENDING_POD = [
    ('kube_pod_status_phase{namespace="inference", pod="vllm-m1-1", phase="Pending"}', "1x20"),
    (
        'kube_pod_container_resource_requests{namespace="inference", pod="vllm-m1-1", '
        'container="vllm", node="", resource="nvidia_com_gpu", unit="integer"}',
        "4x20",
    ),
    (
        'kube_pod_labels{namespace="inference", pod="vllm-m1-1", '
        'label_gpuplatform_io_pool="h100-spot"}',
        "1x20",
    ),
]
RESERVED_NODE = [
    *_pool_nodes("h100-reserved", 1),
    (
        'kube_node_status_capacity{node="h100-reserved-0", resource="nvidia_com_gpu", '
        'unit="integer"}',
        "8x400",
    ),
]
CASES += [
    (
        # A replica waits for GPUs in h100-spot, which runs its maximum of two nodes; then one.
        "GPUPodsPendingAtMaxNodes",
        _case(
            "GPUPodsPendingAtMaxNodes",
            [*PENDING_POD, *_pool_nodes("h100-spot", 2)],
            "12m",
            [{"pool": "h100-spot"}],
            value="1",
        ),
        _case("GPUPodsPendingAtMaxNodes", [*PENDING_POD, *_pool_nodes("h100-spot", 1)], "12m", []),
    ),
    (
        # h100-spot (at most 2 nodes) replaced node after node: eight nodes seen in six hours,
        # never more than two at once; then five.
        "SpotPoolChurning",
        _case("SpotPoolChurning", _churn(8), "300m", [{"pool": "h100-spot"}], "8"),
        _case("SpotPoolChurning", _churn(5), "300m", []),
    ),
    (
        # Eight reserved GPUs nobody asks for, at 2 USD an hour each; then all in use.
        "ReservedGPUsUnused",
        _case("ReservedGPUsUnused", RESERVED_NODE, "370m", [{"pool": "h100-reserved"}], value="16"),
        _case(
            "ReservedGPUsUnused",
            [
                *RESERVED_NODE,
                (
                    'kube_pod_container_resource_requests{namespace="inference", '
                    'pod="vllm-m2-0", container="vllm", node="h100-reserved-0", '
                    'resource="nvidia_com_gpu", unit="integer"}',
                    "8x400",
                ),
                (RUNNING.format(namespace="inference", pod="vllm-m2-0"), "1x400"),
            ],
            "370m",
            [],
        ),
    ),
]


def test_every_alert_has_a_case_that_fires_and_one_that_stays_silent() -> None:
    assert sorted(name for name, _, _ in CASES) == sorted(_alerts())


def test_promtool_fires_each_alert_on_its_series_and_only_there() -> None:
    promtool = _promtool()
    with tempfile.TemporaryDirectory() as directory:
        rules = Path(directory) / "rules.yaml"
        rules.write_text(yaml.safe_dump({"groups": _groups()}, sort_keys=False))
        tests = Path(directory) / "tests.yaml"
        cases = [case for _, fires, silent in CASES for case in (fires, silent)]
        cases += [POOL_UTILISATION, GPU_COST, REPLICA_STARTUP]
        tests.write_text(
            yaml.safe_dump(
                {"rule_files": [rules.name], "evaluation_interval": "1m", "tests": cases},
                sort_keys=False,
            )
        )
        result = subprocess.run(
            [promtool, "test", "rules", str(tests)],
            capture_output=True,
            text=True,
            check=False,
            cwd=directory,
        )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "SUCCESS" in result.stdout
