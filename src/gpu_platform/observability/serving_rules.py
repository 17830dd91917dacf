"""Recording rules and alerts on model serving (pure data), over vLLM's own series (the names in
vLLM's metric list) and kube-state-metrics'.

Each model's objectives (its TTFT p95 SLO, its minimum and maximum replicas) are recorded as
constant series labelled with the model's name, so one alert compares every model against its
own numbers. Latency quantiles, token rates and replica counts are recorded once, so alerts and
dashboards read cheap series.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gpu_platform.observability.gpu_rules import alert

QUANTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
LATENCIES = {
    "ttft": "vllm:time_to_first_token_seconds",
    "itl": "vllm:inter_token_latency_seconds",
    "e2e": "vllm:e2e_request_latency_seconds",
}
SERVING_NAMESPACE = "inference"
KV_CACHE_FULL = 0.95
ERROR_RATIO = 0.05
# StatefulSets of model servers are named vllm-<model>.
_MODEL_FROM_STATEFULSET = 'label_replace({series}, "model_name", "$1", "statefulset", "vllm-(.*)")'


_SERVERS = f'namespace="{SERVING_NAMESPACE}", statefulset=~"vllm-.*"'
# Their pods are vllm-<model>-<ordinal>.
_POD_SERVERS = f'namespace="{SERVING_NAMESPACE}", pod=~"vllm-.*"'
_MODEL_FROM_POD = 'label_replace({series}, "model_name", "$1", "pod", "vllm-(.*)-[0-9]+")'


def _model_series(series: str) -> str:
    return _MODEL_FROM_STATEFULSET.format(series=f"{series}{{{_SERVERS}}}")


def recording_group(
    models: Mapping[str, tuple[float, int, int]],
    startup_estimates: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """`models`: name -> (TTFT p95 SLO in seconds, minReplicas, maxReplicas);
    `startup_estimates`: name -> the estimated seconds from a replica's pod starting on its node
    to Ready (image, weights, warm-up; gpu_platform/serving/coldstart.py), recorded beside the
    measured `model:replica_startup_seconds`."""
    rules: list[dict[str, Any]] = []
    for short, series in LATENCIES.items():
        for label, q in QUANTILES:
            rules.append(
                {
                    "record": f"model:vllm_{short}_seconds:{label}_5m",
                    "expr": f"histogram_quantile({q}, sum by (le, model_name) "
                    f"(rate({series}_bucket[5m])))",
                }
            )
    rules += [
        {
            "record": "model:vllm_generation_tokens:rate5m",
            "expr": "sum by (model_name) (rate(vllm:generation_tokens_total[5m]))",
        },
        {
            "record": "model:vllm_requests:rate5m",
            "expr": "sum by (model_name) (rate(vllm:request_success_total[5m]))",
        },
        {
            "record": "model:vllm_requests_waiting:sum",
            "expr": "sum by (model_name) (vllm:num_requests_waiting)",
        },
        {
            "record": "model:replicas:desired",
            "expr": _model_series("kube_statefulset_replicas"),
        },
        {
            "record": "model:replicas:ready",
            "expr": _model_series("kube_statefulset_status_replicas_ready"),
        },
        {
            # How long each model server took from starting on its node to Ready: the image
            # pull, the weights and the warm-up (kube-state-metrics' pod timestamps). The
            # ready time is the pod's latest turn to Ready, so pods whose containers restarted
            # are left out: theirs would be the pod's age.
            "record": "model:replica_startup_seconds",
            "expr": _MODEL_FROM_POD.format(
                series=f"(kube_pod_status_ready_time{{{_POD_SERVERS}}}"
                f" - kube_pod_start_time{{{_POD_SERVERS}}})"
                " unless on (namespace, pod, uid) (sum by (namespace, pod, uid)"
                f" (kube_pod_container_status_restarts_total{{{_POD_SERVERS}}}) > 0)"
            ),
        },
        {
            "record": "node:dcgm_gpu_utilization:avg5m",
            "expr": "avg by (node) (avg_over_time(DCGM_FI_DEV_GPU_UTIL[5m]))",
        },
        {
            # Each GPU node's pool (kube-state-metrics publishes the node label).
            "record": "node:pool:info",
            "expr": "max by (node, pool) (label_replace("
            'kube_node_labels{label_gpuplatform_io_pool!=""}, '
            '"pool", "$1", "label_gpuplatform_io_pool", "(.+)"))',
        },
        {
            "record": "pool:dcgm_gpu_utilization:avg5m",
            "expr": "avg by (pool) (avg_over_time(DCGM_FI_DEV_GPU_UTIL[5m])"
            " * on (node) group_left (pool) node:pool:info)",
        },
    ]
    for name, (slo, least, most) in sorted(models.items()):
        for record, value in (
            ("model:slo_ttft_p95_seconds", slo),
            ("model:replicas:min", least),
            ("model:replicas:max", most),
        ):
            rules.append(
                {"record": record, "expr": f"vector({value})", "labels": {"model_name": name}}
            )
    for name, seconds in sorted((startup_estimates or {}).items()):
        rules.append(
            {
                "record": "model:startup_estimate_seconds",
                "expr": f"vector({seconds})",
                "labels": {"model_name": name},
            }
        )
    return {"name": "gpu-platform.serving-records", "rules": rules}


def alert_group() -> dict[str, Any]:
    model = "{{ $labels.model_name }}"
    return {
        "name": "gpu-platform.serving",
        "rules": [
            alert(
                "ModelQueueingAtMaxReplicas",
                "model:vllm_requests_waiting:sum > 0"
                " and on (model_name) model:replicas:desired >= on (model_name)"
                " model:replicas:max",
                "10m",
                "critical",
                f"{model} is queueing requests at its maximum replicas",
                "Requests wait and the autoscaler cannot add replicas. Check the model's "
                "dashboard for a traffic jump or slower requests. Raise maxReplicas (and its "
                "pool's maxNodes), or shed load upstream.",
            ),
            alert(
                "ModelKVCacheNearlyFull",
                f"avg by (model_name) (vllm:kv_cache_usage_perc) > {KV_CACHE_FULL}",
                "10m",
                "warning",
                f"{model}'s KV cache is {{{{ $value | humanizePercentage }}}} full",
                "vLLM is preempting or queueing requests for cache space: latency rises. Check "
                "the prompt lengths and the concurrency. Lower kvCacheTarget so the autoscaler "
                "adds replicas earlier, or give each replica more GPU memory.",
            ),
            alert(
                "ModelTTFTAboveSLO",
                "model:vllm_ttft_seconds:p95_5m > on (model_name) model:slo_ttft_p95_seconds",
                "15m",
                "warning",
                f"{model}'s p95 time to first token is {{{{ $value | humanizeDuration }}}}",
                "Users wait longer than the model's SLO for the first token. Check the queue, "
                "the KV-cache usage and the prompt lengths on the model's dashboard. Add "
                "replicas (minReplicas, queuePerReplica) or shorten maxModelLen.",
            ),
            alert(
                "ModelErrorRateHigh",
                'sum by (model_name) (rate(vllm:request_success_total{finished_reason="error"}'
                "[5m])) / on (model_name) model:vllm_requests:rate5m"
                f" > {ERROR_RATIO}",
                "10m",
                "critical",
                f"{model} fails {{{{ $value | humanizePercentage }}}} of its requests",
                "vLLM ends requests with an error. Check the server's logs in the inference "
                "namespace for CUDA or out-of-memory errors, and the GPU alerts of its nodes. "
                "Roll back a recent change to the model, or replace a faulty node.",
            ),
            alert(
                "ModelServerDown",
                # A server still loading weights serves no metrics and is not Ready: it is not down.
                f'up{{namespace="{SERVING_NAMESPACE}"}} == 0 and on (namespace, pod)'
                f' kube_pod_status_ready{{namespace="{SERVING_NAMESPACE}", condition="true"}} == 1',
                "5m",
                "warning",
                "Model server {{ $labels.pod }} is not answering",
                "Prometheus cannot scrape the server: it is starting, hung or crashed, and its "
                "traffic goes to the others. Check the pod's events and logs; a pod stuck loading "
                "weights points at the model cache or the object store.",
            ),
            alert(
                "ModelRolloutStuck",
                # An update that has replaced fewer replicas than the model runs and made no
                # progress for an hour (a large model reloads in well under that).
                _MODEL_FROM_STATEFULSET.format(
                    series=f"kube_statefulset_status_replicas_updated{{{_SERVERS}}}"
                    " < on (namespace, statefulset)"
                    f" kube_statefulset_status_replicas{{{_SERVERS}}}"
                    " and on (namespace, statefulset)"
                    f" changes(kube_statefulset_status_replicas_updated{{{_SERVERS}}}[1h]) == 0"
                ),
                "15m",
                "critical",
                f"{model}'s update is stuck with {{{{ $value }}}} replicas on the new version",
                "The server is updated one replica at a time, and each must be Ready before the "
                "next is replaced. One never became Ready (a bad image or flag, out of memory, "
                "no GPU capacity), and `pulumi up` does not wait for the whole rollout. Check "
                "the newest pod's events and logs in the inference namespace, then fix or roll "
                "back the change.",
            ),
            alert(
                "ModelBelowMinReplicas",
                "model:replicas:ready < on (model_name) model:replicas:min",
                "15m",
                "critical",
                f"{model} has {{{{ $value }}}} ready replicas, below its minimum",
                "Capacity the model needs is missing: replicas cannot be scheduled or do not "
                "become ready. Check Pending pods in the inference namespace (no GPU node, pool "
                "at maxNodes, spot capacity gone) and the servers' logs.",
            ),
            alert(
                "ModelIdleAtMinimum",
                "model:replicas:desired <= on (model_name) model:replicas:min"
                " and on (model_name) sum by (model_name)"
                " (increase(vllm:request_success_total[1d])) == 0",
                "1h",
                "info",
                f"{model} has served nothing for a day",
                "Its minimum replicas keep GPUs busy for no traffic. Check who still needs the "
                "model (its clients' namespaces, the request history on its dashboard). Lower "
                "minReplicas (and its pool's minNodes), or remove the model.",
            ),
        ],
    }
