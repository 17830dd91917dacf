"""The cloud quotas a stack's GPU node pools draw on, at minimum and at maximum scale (pure data).

A first `pulumi up` most often fails on a quota nobody raised: AWS counts running vCPUs per
instance family and purchase option, GCP counts GPUs per model and region. Requests take days,
so the offline plan lists what each stack needs before anyone deploys it.

- AWS: on-demand and reserved pools use the "Running On-Demand <family> instances" vCPU quota
  (On-Demand Capacity Reservations count toward it); spot pools the family's spot request quota;
  capacity blocks are bought outright and draw on no quota.
- GCP: on-demand and reserved pools use the region's `NVIDIA_<GPU>_GPUS` quota (a reservation
  draws on it when it is created), spot pools `PREEMPTIBLE_NVIDIA_<GPU>_GPUS`; every GPU also
  counts toward the project-wide `GPUS_ALL_REGIONS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gpu_platform import catalog
from gpu_platform.catalog import Cloud
from gpu_platform.pools import NodePoolSpec, resolved_machine_types

# AWS quota names by instance family (the type name's letters before the generation digit).
_AWS_ON_DEMAND = {"g": "Running On-Demand G and VT instances", "p": "Running On-Demand P instances"}
_AWS_SPOT = {
    "g": "All G and VT Spot Instance Requests",
    "p4": "All P4, P3 and P2 Spot Instance Requests",
    "p5": "All P5 Spot Instance Requests",
}
_GCP_GPU = {"h100": "H100", "a100-40gb": "A100", "a100-80gb": "A100_80GB", "l4": "L4"}


@dataclass(frozen=True)
class QuotaNeed:
    """What the pools drawing on one quota need together."""

    quota: str
    unit: str
    at_min: int
    at_max: int
    pools: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "quota": self.quota,
            "unit": self.unit,
            "atMin": self.at_min,
            "atMax": self.at_max,
            "pools": list(self.pools),
        }


def _aws_quota(machine_type: str, capacity: str) -> str | None:
    if capacity == "capacity-block":
        return None
    family = machine_type[0]
    if capacity == "spot":
        return _AWS_SPOT["g" if family == "g" else machine_type[:2]]
    return _AWS_ON_DEMAND[family]


def _gcp_quota(gpu: str, capacity: str) -> str:
    prefix = "PREEMPTIBLE_" if capacity == "spot" else ""
    return f"{prefix}NVIDIA_{_GCP_GPU[gpu]}_GPUS"


def quota_needs(cloud: Cloud, pools: Mapping[str, NodePoolSpec]) -> list[QuotaNeed]:
    """Each quota the pools draw on, with what they need at their minimum and maximum size.
    The maximum assumes the largest of a pool's instance types (spot may launch any of them)."""
    totals: dict[tuple[str, str], list[Any]] = {}

    def add(quota: str, unit: str, at_min: int, at_max: int, pool: str) -> None:
        entry = totals.setdefault((quota, unit), [0, 0, []])
        entry[0] += at_min
        entry[1] += at_max
        entry[2].append(pool)

    for name, pool in sorted(pools.items()):
        types = [catalog.machine_type(cloud, t) for t in resolved_machine_types(cloud, pool)]
        entries = [t for t in types if t is not None]
        if cloud == "aws":
            quota = _aws_quota(entries[0].name, pool.capacity)
            if quota is not None:
                largest = max(t.vcpus for t in entries)
                add(
                    quota,
                    "vCPUs",
                    pool.min_nodes * entries[0].vcpus,
                    pool.max_nodes * largest,
                    name,
                )
        else:
            gpus = pool.gpus_per_node
            add(
                _gcp_quota(pool.gpu, pool.capacity),
                "GPUs",
                pool.min_nodes * gpus,
                pool.max_nodes * gpus,
                name,
            )
            add("GPUS_ALL_REGIONS", "GPUs", pool.min_nodes * gpus, pool.max_nodes * gpus, name)
    return [
        QuotaNeed(quota, unit, at_min, at_max, tuple(names))
        for (quota, unit), (at_min, at_max, names) in sorted(totals.items())
    ]
