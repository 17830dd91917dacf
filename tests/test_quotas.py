"""The cloud quotas the offline plan lists: which quota each pool draws on, at min and max."""

from __future__ import annotations

from harness import platform_config

from gpu_platform.quotas import QuotaNeed, quota_needs
from stacks.config import parse
from stacks.estimate import effective_pools


def _needs(name: str, **pool_changes: dict) -> dict[str, QuotaNeed]:
    raw = platform_config(name)
    for pool, changes in pool_changes.items():
        raw["nodePools"][pool.replace("_", "-")] |= changes
    config = parse(raw)
    return {q.quota: q for q in quota_needs(config.cloud.provider, effective_pools(config))}


def test_prod_on_aws_counts_vcpus_per_family_and_purchase_option() -> None:
    needs = _needs("prod")
    on_demand = needs["Running On-Demand P instances"]
    # h100-reserved: 2 p5.48xlarge (192 vCPUs each).
    assert (on_demand.at_min, on_demand.at_max) == (2 * 192, 2 * 192)
    assert on_demand.pools == ("h100-reserved",)
    assert needs["All P5 Spot Instance Requests"].at_max == 2 * 192
    # l4-spot's minimum is held by qwen-7b's and bge-m3's two replicas each, on 1-GPU nodes.
    assert needs["All G and VT Spot Instance Requests"].at_min == 4 * 4
    assert all(q.unit == "vCPUs" for q in needs.values())


def test_spot_maximum_assumes_the_largest_type_a_pool_may_launch() -> None:
    needs = _needs("dev", l4_spot={"instanceTypes": ["g6.xlarge", "g6.4xlarge"]})
    spot = needs["All G and VT Spot Instance Requests"]
    # l4-spot: 4 x g6.4xlarge (16); l4-batch-spot: 2 x g6.16xlarge (64), its largest default.
    assert spot.at_max == 4 * 16 + 2 * 64


def test_capacity_blocks_draw_on_no_quota() -> None:
    block = {"capacity": "capacity-block", "reservation": "cr-0123456789abcdef0"}
    needs = _needs("prod", h100_reserved=block)
    assert "Running On-Demand P instances" not in needs
    assert needs["All P5 Spot Instance Requests"].pools == ("h100-spot",)


def test_gcp_counts_gpus_per_model_with_a_preemptible_quota_for_spot() -> None:
    needs = _needs("gcp-dev")
    assert (
        needs["PREEMPTIBLE_NVIDIA_L4_GPUS"].at_min,
        needs["PREEMPTIBLE_NVIDIA_L4_GPUS"].at_max,
    ) == (2, 4)  # qwen-7b's and bge-small's one replica each
    assert needs["NVIDIA_A100_GPUS"].at_max == 2
    assert needs["GPUS_ALL_REGIONS"].at_max == 6
    assert {q.unit for q in needs.values()} == {"GPUs"}
