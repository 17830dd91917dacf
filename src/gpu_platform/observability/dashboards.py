"""The platform's Grafana dashboards, built with Grafana's own builder library
(`grafana-foundation-sdk`, its build for the Grafana the chart runs) and provisioned through
the chart's dashboard sidecar as ConfigMaps.

- GPU fleet: utilisation per pool and node, memory, power, temperature, throttling, errors and
  the GPU alerts firing;
- Model serving: per model requests, queue, latency quantiles (time to first token,
  inter-token, end to end), tokens per second, KV cache, replicas against their bounds;
- GPU cost: spend per namespace, per model and per pool, and what idle GPUs cost.

Panels read the recording rules where one exists (gpu_platform/observability/serving_rules.py),
so a dashboard stays cheap to load. The generated JSON is kept in `dashboards/` for review;
`make docs` writes it and a test checks it is current.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from grafana_foundation_sdk.builders import dashboard, prometheus, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as model

# kube-prometheus-stack provisions its Prometheus as this data source.
DATASOURCE = model.DataSourceRef(type_val="prometheus", uid="prometheus")
SIDECAR_LABEL = {"grafana_dashboard": "1"}  # the chart's sidecar loads ConfigMaps with it
TAGS = ["gpu-platform"]
MODEL = 'model_name=~"$model"'


def _panel(
    title: str, unit: str, queries: list[tuple[str, str]], description: str = ""
) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(DATASOURCE)
        .height(8)
        .span(12)
    )
    for expr, legend in queries:
        panel = panel.with_target(
            prometheus.Dataquery().expr(expr).legend_format(legend).datasource(DATASOURCE)
        )
    return panel


def _dashboard(title: str, uid: str) -> dashboard.Dashboard:
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .tags(TAGS)
        .refresh("1m")
        .time("now-6h", "now")
        .timezone("utc")
        .editable()
    )


def gpu_fleet() -> dashboard.Dashboard:
    by_node = "{{node}}"
    return (
        _dashboard("GPU fleet", "gpu-platform-gpu-fleet")
        .with_row(dashboard.Row("Use"))
        .with_panel(
            _panel(
                "GPU utilisation per pool",
                "percent",
                [("pool:dcgm_gpu_utilization:avg5m", "{{pool}}")],
                "Average over the pool's GPUs; a pool near 0 pays for idle GPUs.",
            )
        )
        .with_panel(
            _panel(
                "GPU utilisation per node",
                "percent",
                [("node:dcgm_gpu_utilization:avg5m", by_node)],
            )
        )
        .with_panel(
            _panel(
                "GPU memory used",
                "percentunit",
                [
                    (
                        "sum by (node) (DCGM_FI_DEV_FB_USED) / sum by (node) "
                        "(DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)",
                        by_node,
                    )
                ],
            )
        )
        .with_panel(
            _panel("Power draw", "watt", [("sum by (node) (DCGM_FI_DEV_POWER_USAGE)", by_node)])
        )
        .with_row(dashboard.Row("Health"))
        .with_panel(
            _panel(
                "Hottest GPU per node",
                "celsius",
                [("max by (node) (DCGM_FI_DEV_GPU_TEMP)", by_node)],
            )
        )
        .with_panel(
            _panel(
                "Time throttled",
                "percentunit",
                [
                    (
                        "max by (node) (rate(DCGM_FI_DEV_THERMAL_VIOLATION[5m])) / 1e9",
                        f"{by_node} heat",
                    ),
                    (
                        "max by (node) (rate(DCGM_FI_DEV_POWER_VIOLATION[5m])) / 1e9",
                        f"{by_node} power",
                    ),
                ],
            )
        )
        .with_panel(
            _panel(
                "Memory errors (last hour)",
                "short",
                [
                    (
                        "sum by (node) (increase(DCGM_FI_DEV_ECC_DBE_VOL_TOTAL[1h]))",
                        f"{by_node} double-bit",
                    ),
                    (
                        "sum by (node) (increase(DCGM_FI_DEV_ECC_SBE_VOL_TOTAL[1h]))",
                        f"{by_node} single-bit",
                    ),
                    ("sum by (node) (DCGM_FI_DEV_RETIRED_PENDING)", f"{by_node} pages pending"),
                ],
            )
        )
        .with_panel(
            _panel(
                "XIDs (last hour)",
                "short",
                [
                    (
                        "sum by (node, xid) (max_over_time(DCGM_EXP_XID_ERRORS_COUNT[1h]))",
                        "{{node}} XID {{xid}}",
                    )
                ],
            )
        )
        .with_panel(
            _panel(
                "GPU alerts firing",
                "short",
                [
                    (
                        'sum by (alertname) (ALERTS{alertstate="firing", '
                        'alertname=~"GPU.*|DCGM.*"})',
                        "{{alertname}}",
                    )
                ],
            )
        )
    )


def model_serving() -> dashboard.Dashboard:
    by_model = "{{model_name}}"
    variable = (
        dashboard.QueryVariable("model")
        .label("Model")
        .datasource(DATASOURCE)
        .query("label_values(vllm:num_requests_running, model_name)")
        .multi(True)
        .include_all(True)
    )
    quantiles = [
        (f"model:vllm_{{kind}}_seconds:{q}_5m{{{{{MODEL}}}}}", f"{by_model} {q}")
        for q in ("p50", "p95", "p99")
    ]

    def latency(kind: str) -> list[tuple[str, str]]:
        return [(expr.format(kind=kind), legend) for expr, legend in quantiles]

    return (
        _dashboard("Model serving", "gpu-platform-model-serving")
        .with_variable(variable)
        .with_row(dashboard.Row("Traffic"))
        .with_panel(
            _panel("Requests", "reqps", [(f"model:vllm_requests:rate5m{{{MODEL}}}", by_model)])
        )
        .with_panel(
            _panel(
                "Running and waiting requests",
                "short",
                [
                    (
                        f"sum by (model_name) (vllm:num_requests_running{{{MODEL}}})",
                        f"{by_model} running",
                    ),
                    (f"model:vllm_requests_waiting:sum{{{MODEL}}}", f"{by_model} waiting"),
                ],
            )
        )
        .with_panel(
            _panel(
                "Generated tokens",
                "short",
                [(f"model:vllm_generation_tokens:rate5m{{{MODEL}}}", by_model)],
                "Tokens per second, all replicas together.",
            )
        )
        .with_panel(
            _panel(
                "KV cache used",
                "percentunit",
                [(f"avg by (model_name) (vllm:kv_cache_usage_perc{{{MODEL}}})", by_model)],
            )
        )
        .with_row(dashboard.Row("Latency"))
        .with_panel(_panel("Time to first token", "s", latency("ttft")))
        .with_panel(_panel("Inter-token latency", "s", latency("itl")))
        .with_panel(_panel("End-to-end latency", "s", latency("e2e")))
        .with_panel(
            _panel(
                "Time to first token p95 against the SLO",
                "s",
                [
                    (f"model:vllm_ttft_seconds:p95_5m{{{MODEL}}}", f"{by_model} p95"),
                    (f"model:slo_ttft_p95_seconds{{{MODEL}}}", f"{by_model} SLO"),
                ],
            )
        )
        .with_panel(
            _panel(
                "Replica start against the estimate",
                "s",
                [
                    (
                        f"max by (model_name) (model:replica_startup_seconds{{{MODEL}}})",
                        f"{by_model} slowest running replica",
                    ),
                    (f"model:startup_estimate_seconds{{{MODEL}}}", f"{by_model} estimate"),
                ],
                "From the pod starting on its node to Ready: image pull, weights, warm-up. The "
                "estimate is the platform's (make plan); a node to boot comes on top.",
            )
        )
        .with_row(dashboard.Row("Capacity"))
        .with_panel(
            _panel(
                "Replicas",
                "short",
                [
                    (f"model:replicas:ready{{{MODEL}}}", f"{by_model} ready"),
                    (f"model:replicas:desired{{{MODEL}}}", f"{by_model} desired"),
                    (f"model:replicas:min{{{MODEL}}}", f"{by_model} min"),
                    (f"model:replicas:max{{{MODEL}}}", f"{by_model} max"),
                ],
            )
        )
    )


def gpu_cost() -> dashboard.Dashboard:
    """What the GPUs cost, from the cost rules (gpu_platform/observability/cost_rules.py)."""
    month = 730  # hours, as the stack's cost estimate counts them
    return (
        _dashboard("GPU cost", "gpu-platform-gpu-cost")
        .with_row(dashboard.Row("Spend"))
        .with_panel(
            _panel(
                "GPU spend per namespace",
                "currencyUSD",
                [("namespace:gpu_cost_usd_per_hour", "{{namespace}}")],
                "USD per hour of the GPUs the namespace's pods ask for, at the stack's prices.",
            )
        )
        .with_panel(
            _panel(
                "GPU spend per model",
                "currencyUSD",
                [("model:gpu_cost_usd_per_hour", "{{model_name}}")],
                "USD per hour of each model's replicas' GPUs.",
            )
        )
        .with_panel(
            _panel(
                "GPU spend per pool",
                "currencyUSD",
                [
                    ("pool:gpu_cost_usd_per_hour", "{{pool}} running"),
                    ("pool:gpu_idle_cost_usd_per_hour", "{{pool}} idle"),
                ],
                "USD per hour of the pool's running GPUs, and of those no pod asks for.",
            )
        )
        .with_panel(
            _panel(
                "Month at this rate",
                "currencyUSD",
                [
                    (f"sum(pool:gpu_cost_usd_per_hour) * {month}", "all GPUs"),
                    (f"sum(pool:gpu_idle_cost_usd_per_hour) * {month}", "idle GPUs"),
                ],
            )
        )
    )


DASHBOARDS: dict[str, Callable[[], dashboard.Dashboard]] = {
    "gpu-fleet": gpu_fleet,
    "model-serving": model_serving,
    "gpu-cost": gpu_cost,
}


def render(name: str) -> str:
    """One dashboard as Grafana's JSON (stable: keys sorted, two-space indents)."""
    return JSONEncoder(sort_keys=True, indent=2).encode(DASHBOARDS[name]().build()) + "\n"


def render_config_map(name: str, namespace: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"gpu-platform-dashboard-{name}",
            "namespace": namespace,
            "labels": dict(SIDECAR_LABEL),
        },
        "data": {f"{name}.json": render(name)},
    }


def queries(name: str) -> list[str]:
    """Every PromQL expression of a dashboard's panels."""
    document = json.loads(render(name))
    return [t["expr"] for p in document["panels"] for t in p.get("targets", [])]
