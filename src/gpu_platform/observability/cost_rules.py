"""GPU cost per namespace, per model and per pool, as recording rules (pure data).

OpenCost's own GPU prices are unreliable for exactly the machines this platform runs: it
ignores custom prices on GPU nodes (opencost/opencost#3160, open) and reports zero for some GPU
machine types (#3444). So GPU cost is computed here from the same prices as the stack's cost
estimate (the catalog's list prices, spot discount and `pricing` overrides): each pool's price
per advertised GPU unit (a whole GPU, a MIG slice or a time-slice) is recorded as a constant,
and kube-state-metrics' GPU requests and capacity are priced with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gpu_platform import cost, labels
from gpu_platform.catalog import Cloud
from gpu_platform.labels import MigStrategy
from gpu_platform.pools import NodePoolSpec
from gpu_platform.pricing import PricingSpec

GPU_RESOURCES = 'resource=~"nvidia_com_.*"'
# Model servers' pods are vllm-<model>-<ordinal> in the inference namespace.
_MODEL_FROM_POD = 'label_replace({expr}, "model_name", "$1", "pod", "vllm-(.+)-[0-9]+")'


def resource_label(resource: str) -> str:
    """kube-state-metrics' name for an extended resource (`nvidia.com/gpu` ->
    `nvidia_com_gpu`)."""
    return resource.replace(".", "_").replace("/", "_").replace("-", "_")


def unit_prices(
    cloud: Cloud,
    pools: Mapping[str, NodePoolSpec],
    strategy: MigStrategy,
    node_prices: Mapping[str, float],
) -> dict[tuple[str, str], float]:
    """USD per hour of one advertised GPU unit, by (pool, kube-state-metrics resource)."""
    prices = {}
    for name, pool in pools.items():
        for resource, units in labels.advertised_resources(cloud, pool, strategy).items():
            prices[(name, resource_label(resource))] = round(node_prices[name] / units, 6)
    return prices


def pool_unit_prices(
    cloud: Cloud, pools: Mapping[str, NodePoolSpec], strategy: MigStrategy, pricing: PricingSpec
) -> dict[tuple[str, str], float]:
    """unit_prices from each pool's node price (the catalog's, or the stack's overrides)."""
    node_prices = {
        name: cost.pool_price(cloud, pool, pricing.spot_discount, pricing.hourly_usd).usd
        for name, pool in pools.items()
    }
    return unit_prices(cloud, pools, strategy, node_prices)


def _priced(series: str, selector: str = GPU_RESOURCES) -> str:
    """A GPU series priced by its node's pool."""
    return (
        f"{series}{{{selector}}} * on (node) group_left (pool) node:pool:info"
        " * on (pool, resource) group_left () pool:gpu_unit_hourly_cost_usd"
    )


# kube-state-metrics keeps a finished pod's requests until the pod is deleted: only running pods
# hold GPUs.
_RUNNING = (
    " * on (namespace, pod) group_left () max by (namespace, pod)"
    ' (kube_pod_status_phase{phase="Running"} == 1)'
)


def cost_group(prices: Mapping[tuple[str, str], float]) -> dict[str, Any]:
    requested = f"({_priced('kube_pod_container_resource_requests')}){_RUNNING}"
    rules: list[dict[str, Any]] = [
        {
            "record": "pool:gpu_unit_hourly_cost_usd",
            "expr": f"vector({price})",
            "labels": {"pool": pool, "resource": resource},
        }
        for (pool, resource), price in sorted(prices.items())
    ]
    rules += [
        {
            "record": "namespace:gpu_cost_usd_per_hour",
            "expr": f"sum by (namespace) ({requested})",
        },
        {
            "record": "model:gpu_cost_usd_per_hour",
            "expr": "sum by (model_name) ("
            + _MODEL_FROM_POD.format(
                expr="("
                + _priced(
                    "kube_pod_container_resource_requests",
                    f'namespace="inference", {GPU_RESOURCES}',
                )
                + ")"
                + _RUNNING
            )
            + ")",
        },
        {
            "record": "pool:gpu_cost_usd_per_hour",
            "expr": f"sum by (pool) ({_priced('kube_node_status_capacity')})",
        },
        {
            "record": "pool:gpu_requested_cost_usd_per_hour",
            "expr": f"sum by (pool) ({requested})",
        },
        {
            # What the pool's running GPUs cost while no pod asks for them.
            "record": "pool:gpu_idle_cost_usd_per_hour",
            "expr": "pool:gpu_cost_usd_per_hour - on (pool)"
            " (pool:gpu_requested_cost_usd_per_hour or pool:gpu_cost_usd_per_hour * 0)",
        },
    ]
    return {"name": "gpu-platform.cost", "rules": rules}
