"""KEDA autoscaling of a model's vLLM StatefulSet on vLLM's own metrics (pure data).

Two triggers, whichever asks for more replicas wins: requests waiting in vLLM's queue per
replica, and the average KV-cache usage. Both query the stack's Prometheus for the series vLLM
exposes (`tests/upstream/metrics/vllm.txt`); while they cannot be read KEDA holds the
fallback replica count. Scale-up is immediate, scale-down slow: a replica takes minutes to load
its weights, so removing one on a short lull costs more than it saves. A model that scales to
zero also has the HTTP add-on's wake-up trigger (gpu_platform/serving/wakeup.py) and goes to zero
after fifteen idle minutes.
"""

from __future__ import annotations

from gpu_platform.serving.spec import ModelSpec
from gpu_platform.serving.wakeup import render_wake_trigger

PROMETHEUS_URL = "http://prometheus-operated.observability.svc.cluster.local:9090"
QUEUE_SERIES = "vllm:num_requests_waiting"
KV_CACHE_SERIES = "vllm:kv_cache_usage_perc"
# A model that scales to zero goes there after this long without requests: a cold start costs
# minutes, so a short lull should not cause one.
IDLE_SECONDS = 900


def render_queries(namespace: str, served_name: str) -> dict[str, str]:
    selector = f'{{namespace="{namespace}", model_name="{served_name}"}}'
    return {
        "queue": f"sum({QUEUE_SERIES}{selector})",
        "kv_cache": f"avg({KV_CACHE_SERIES}{selector})",
    }


def render_scaled_object(
    name: str, namespace: str, target: str, served_name: str, model: ModelSpec
) -> dict:
    queries = render_queries(namespace, served_name)
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": target},
            "minReplicaCount": model.min_replicas,
            "maxReplicaCount": model.max_replicas,
            "pollingInterval": 15,
            # How long every trigger stays inactive before 1 -> 0; scale-in above one replica
            # follows the HPA behaviour below.
            "cooldownPeriod": IDLE_SECONDS if model.scales_to_zero else 300,
            "fallback": {"failureThreshold": 3, "replicas": model.effective_fallback},
            "advanced": {
                "horizontalPodAutoscalerConfig": {
                    "behavior": {
                        "scaleUp": {
                            "stabilizationWindowSeconds": 0,
                            "selectPolicy": "Max",
                            "policies": [
                                {"type": "Percent", "value": 100, "periodSeconds": 30},
                                {"type": "Pods", "value": 2, "periodSeconds": 30},
                            ],
                        },
                        "scaleDown": {
                            "stabilizationWindowSeconds": 600,
                            "selectPolicy": "Min",
                            "policies": [{"type": "Pods", "value": 1, "periodSeconds": 300}],
                        },
                    }
                }
            },
            "triggers": [
                {
                    "type": "prometheus",
                    "name": "queue",
                    # AverageValue: replicas = ceil(waiting requests / threshold).
                    "metricType": "AverageValue",
                    "metadata": {
                        "serverAddress": PROMETHEUS_URL,
                        "query": queries["queue"],
                        "threshold": str(model.queue_per_replica),
                    },
                },
                {
                    "type": "prometheus",
                    "name": "kv-cache",
                    # Value: replicas grow with average usage / target.
                    "metricType": "Value",
                    "metadata": {
                        "serverAddress": PROMETHEUS_URL,
                        "query": queries["kv_cache"],
                        "threshold": str(model.kv_cache_target),
                    },
                },
                *([render_wake_trigger(name)] if model.scales_to_zero else []),
            ],
        },
    }
