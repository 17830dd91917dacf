"""Alerts on GPU capacity (pure data): model servers waiting for GPUs a full pool cannot give,
spot pools whose nodes keep being taken back, and reserved capacity paid for and unused.

Each pool's bounds and kind are recorded as constant series labelled with the pool, as the
models' objectives are (serving_rules.py), so one alert serves every pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gpu_platform.observability.gpu_rules import alert
from gpu_platform.pools import NodePoolSpec

# New nodes in six hours beyond the pool's maximum size: more than scaling up explains.
SPOT_CHURN = 3
_RESERVED = ("reserved", "capacity-block")


def constants(pools: Mapping[str, NodePoolSpec]) -> list[dict[str, Any]]:
    rules = []
    for name, pool in sorted(pools.items()):
        rules.append(
            {
                "record": "pool:nodes:max",
                "expr": f"vector({pool.max_nodes})",
                "labels": {"pool": name},
            }
        )
        kind = "reserved" if pool.capacity in _RESERVED else pool.capacity
        rules.append(
            {
                "record": "pool:capacity:info",
                "expr": "vector(1)",
                "labels": {"pool": name, "kind": kind},
            }
        )
    return rules


def capacity_group(pools: Mapping[str, NodePoolSpec]) -> dict[str, Any]:
    pending = (
        'kube_pod_status_phase{namespace="inference", phase="Pending"} == 1'
        ' and on (namespace, pod) kube_pod_container_resource_requests{resource=~"nvidia_com_.*"}'
    )
    waiting = (
        "count by (pool) (label_replace(("
        + pending
        + ") * on (namespace, pod) group_left (label_gpuplatform_io_pool) kube_pod_labels, "
        '"pool", "$1", "label_gpuplatform_io_pool", "(.+)"))'
    )
    return {
        "name": "gpu-platform.capacity",
        "rules": [
            *constants(pools),
            alert(
                "GPUPodsPendingAtMaxNodes",
                f"{waiting} > 0 and on (pool) count by (pool) (node:pool:info)"
                " >= on (pool) pool:nodes:max",
                "10m",
                "critical",
                "{{ $value }} model servers wait for GPUs in pool {{ $labels.pool }}, which is "
                "at its maximum size",
                "The pool cannot grow, so replicas stay Pending and their model runs short. "
                "Check the pool's nodes and the models on it (kubectl get pods -n inference "
                "--field-selector=status.phase=Pending). Raise the pool's maxNodes (and the "
                "cloud quota it draws on) or lower the models' maxReplicas.",
            ),
            alert(
                "SpotPoolChurning",
                # Nodes seen in the last six hours and created in them, gone ones included.
                "count by (pool) ((last_over_time(kube_node_created[6h]) > time() - 21600)"
                " * on (node) group_left (pool)"
                " max by (node, pool) (last_over_time(node:pool:info[6h])))"
                f" > on (pool) (pool:nodes:max + {SPOT_CHURN})"
                ' and on (pool) pool:capacity:info{kind="spot"}',
                "30m",
                "warning",
                "Pool {{ $labels.pool }} started {{ $value }} spot nodes in six hours",
                "More new nodes than scaling up explains: the cloud keeps taking the pool's spot "
                "nodes back, and its models restart and reload weights. Check the spot "
                "interruption history of the pool's instance types and zones. Add instance "
                "types or zones to the pool, or move the baseline to on-demand or reserved "
                "capacity.",
            ),
            alert(
                "ReservedGPUsUnused",
                "pool:gpu_idle_cost_usd_per_hour > 0"
                ' and on (pool) pool:capacity:info{kind="reserved"}',
                "6h",
                "info",
                "Pool {{ $labels.pool }} pays {{ $value | humanize }} USD an hour for reserved "
                "GPUs nothing uses",
                "Reserved capacity bills whether or not it is used. Check which models could run "
                "on it (their nodePool or nodePools). Move a model's baseline onto the pool, or "
                "shrink the reservation when it renews.",
            ),
        ],
    }
