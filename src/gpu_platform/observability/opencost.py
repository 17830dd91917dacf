"""OpenCost's Helm values (pure data): CPU, memory and storage cost per namespace and pod, read
from the stack's Prometheus, at prices derived from the same catalog as the cost estimate.

OpenCost prices every node with one custom price list (`provider: custom`): per vCPU-hour, per
GiB-hour of memory and per GiB-hour of storage. Its GPU price is set to zero on purpose: it
ignores custom prices on GPU nodes (opencost/opencost#3160) and reports zero for some GPU
machine types (#3444), so the platform prices GPUs itself (cost_rules.py) and OpenCost covers
the rest. Its UI is off; the Grafana dashboards read its metrics.
"""

from __future__ import annotations

from typing import Any

from gpu_platform import catalog, labels
from gpu_platform.catalog import Cloud
from gpu_platform.pricing import PricingSpec

NAMESPACE = "observability"
# How a CPU machine's hourly price splits between vCPUs and memory: the ratio of OpenCost's own
# default price list (GCP us-central1: 0.031611 USD per vCPU-hour, 0.004237 per GiB-hour), about
# two thirds for the vCPUs of a 1:4 machine.
CPU_SHARE = 0.65
HOURS_PER_MONTH = catalog.PRICES.hours_per_month


# How each cloud marks a spot node: OpenCost applies the spot prices to nodes with this label.
SPOT_LABELS: dict[Cloud, tuple[str, str]] = {
    "aws": ("eks.amazonaws.com/capacityType", "SPOT"),
    "gcp": ("cloud.google.com/gke-spot", "true"),
}


def system_price_list(cloud: Cloud, machine_type: str | None, pricing: PricingSpec) -> dict:
    """price_list of the system nodes' machine (default the catalog's), at the stack's price
    override or the catalog's list price, with its spot discount or the catalog's."""
    machine = machine_type or catalog.SYSTEM_MACHINE_TYPE[cloud]
    listed = catalog.cpu_machine_type(cloud, machine)
    hourly = pricing.hourly_usd.get(machine, listed.on_demand_usd_per_hour if listed else 0.0)
    discount = pricing.spot_discount
    return price_list(
        cloud, machine, hourly, catalog.PRICES.spot_discount if discount is None else discount
    )


def price_list(cloud: Cloud, machine_type: str, usd_per_hour: float, spot_discount: float) -> dict:
    """OpenCost's custom price list from one CPU machine type's hourly price (the system nodes'):
    USD per vCPU-hour and per GiB-hour, spot at the stack's discount, storage per GiB-hour."""
    machine = catalog.cpu_machine_type(cloud, machine_type)
    vcpus, memory = (machine.vcpus, machine.memory_gib) if machine else (4, 16)
    cpu = usd_per_hour * CPU_SHARE / vcpus
    ram = usd_per_hour * (1 - CPU_SHARE) / memory
    storage = catalog.PRICES.block_storage_usd_per_gib_month[cloud] / HOURS_PER_MONTH
    return {
        "description": f"gpu-platform: {machine_type} at {usd_per_hour} USD an hour",
        "CPU": round(cpu, 6),
        "spotCPU": round(cpu * (1 - spot_discount), 6),
        "RAM": round(ram, 6),
        "spotRAM": round(ram * (1 - spot_discount), 6),
        "GPU": 0,
        "storage": round(storage, 8),
        "spotLabel": SPOT_LABELS[cloud][0],
        "spotLabelValue": SPOT_LABELS[cloud][1],
    }


def render_values(cluster_name: str, prices: dict) -> dict[str, Any]:
    return {
        "opencost": {
            "exporter": {
                "defaultClusterId": cluster_name,
                # Without it OpenCost picks the cloud's provider from the nodes' providerID and
                # ignores the price list (on GCP that provider even needs a pricing API key).
                "env": [{"name": "USE_CUSTOM_PROVIDER", "value": "true"}],
                "resources": {
                    "requests": {"cpu": "50m", "memory": "256Mi"},
                    "limits": {"memory": "1Gi"},
                },
            },
            "prometheus": {
                "internal": {
                    "enabled": True,
                    "serviceName": "prometheus-operated",
                    "namespaceName": NAMESPACE,
                    "port": 9090,
                }
            },
            "customPricing": {"enabled": True, "provider": "custom", "costModel": prices},
            "metrics": {
                "serviceMonitor": {
                    "enabled": True,
                    "additionalLabels": dict(labels.PROMETHEUS_SELECTOR),
                }
            },
            "ui": {"enabled": False},
            "nodeSelector": labels.node_selector(labels.SYSTEM_POOL),
        }
    }
