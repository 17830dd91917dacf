"""Cost estimate: numbers follow from the catalog, the pool sizes and the stack's overrides."""

from __future__ import annotations

import datetime

import pytest
from harness import platform_config

from gpu_platform import catalog, cost
from stacks.config import parse
from stacks.estimate import estimate

HOURS = catalog.PRICES.hours_per_month
IN_SUPPORT = datetime.date(2026, 12, 1)  # 1.36 in EKS standard support until 2027-08-02
PAST_SUPPORT = datetime.date(2027, 8, 3)


def _estimate(name: str, today: datetime.date = IN_SUPPORT, **changes) -> cost.CostEstimate:
    return estimate(parse({**platform_config(name), **changes}), today)


def _items(result: cost.CostEstimate) -> dict[str, cost.CostItem]:
    return {i.name: i for i in result.items}


def test_models_keep_their_minimum_nodes_running() -> None:
    items = _items(_estimate("prod"))
    # qwen-72b: 2 replicas x 4 GPUs, each on its own node (production keeps them apart) -> 2
    # nodes of its first tier; qwen-7b and bge-m3: 2 replicas x 1 GPU each on 1-GPU L4 nodes
    # -> 4 nodes although the pool may reach 0.
    assert items["h100-reserved"].nodes_min == 2
    assert items["l4-spot"].nodes_min == 4
    assert items["h100-spot"].nodes_min == 0


def test_dev_scales_to_zero_so_min_is_the_fixed_cost() -> None:
    raw = platform_config("dev")
    raw.pop("models")
    items = _items(estimate(parse(raw), IN_SUPPORT))
    fixed = (0.10 + 2 * 0.192 + 0.045) * HOURS  # control plane, 2 system nodes, 1 NAT gateway
    fixed += 10 * 0.08  # the vector store's one 10 GiB gp3 volume
    assert sum(i.monthly_min for i in items.values()) == pytest.approx(fixed, abs=0.05)
    assert items["vector-store-volumes"].basis == "10 GiB per instance at 0.08 USD per GiB-month"
    assert "vector-store-backups" not in items  # dev keeps none
    assert items["nat-gateways"].nodes_min == 1
    assert (items["system-nodes"].nodes_min, items["system-nodes"].nodes_max) == (2, 4)
    spot_g6 = 0.8048 * (1 - catalog.PRICES.spot_discount)
    # l4-spot: 4 nodes max, l4-batch-spot: 2 nodes max, both priced at g6.xlarge spot.
    gpu_max = items["l4-spot"].monthly_max + items["l4-batch-spot"].monthly_max
    assert gpu_max == pytest.approx(6 * spot_g6 * HOURS, abs=0.05)


def test_extended_support_fee_applies_after_standard_support_ends() -> None:
    last_day = datetime.date(2027, 8, 2)
    assert _items(_estimate("dev", last_day))["control-plane"].usd_per_node_hour == 0.10
    before = _items(_estimate("dev", IN_SUPPORT))["control-plane"]
    after = _items(_estimate("dev", PAST_SUPPORT))["control-plane"]
    assert before.usd_per_node_hour == 0.10
    assert after.usd_per_node_hour == 0.60 and "extended support" in after.basis
    # GKE has no such fee in the estimate.
    gke = _items(_estimate("gcp-dev", PAST_SUPPORT))["control-plane"]
    assert gke.usd_per_node_hour == 0.10


def test_prod_prices_each_capacity_kind() -> None:
    items = _items(_estimate("prod"))
    reserved = items["h100-reserved"]
    assert (reserved.machine_type, reserved.capacity) == ("p5.48xlarge", "reserved")
    assert reserved.usd_per_node_hour == 55.04
    assert reserved.monthly_min == pytest.approx(2 * 55.04 * HOURS)
    assert reserved.monthly_max == pytest.approx(2 * 55.04 * HOURS)
    assert items["h100-spot"].usd_per_node_hour == pytest.approx(55.04 * 0.4)
    assert items["l4-batch-spot"].machine_type == "g6.12xlarge"
    assert items["nat-gateways"].nodes_max == 3, "one NAT gateway per zone in production"


def test_totals_are_the_sum_of_items() -> None:
    result = _estimate("prod")
    assert result.monthly_min == pytest.approx(sum(i.monthly_min for i in result.items))
    assert result.monthly_max == pytest.approx(sum(i.monthly_max for i in result.items))
    assert result.monthly_max > result.monthly_min > 0


def test_overrides_and_adopted_cluster() -> None:
    raw = platform_config("dev")
    raw["cluster"]["create"] = False
    raw["pricing"] = {"spotDiscount": 0.5, "hourlyUsd": {"g6.xlarge": 1.0}}
    result = estimate(parse(raw), IN_SUPPORT)
    assert [i.name for i in result.items] == [
        "l4-spot",
        "l4-batch-spot",
        "vector-store-volumes",
        "model-weights",
    ]
    weights = _items(result)["model-weights"].monthly_max
    assert result.monthly_max == pytest.approx(6 * 0.5 * HOURS + 10 * 0.08 + weights)


def test_system_nodes_priced_from_override_or_flagged() -> None:
    raw = platform_config("dev")
    raw["cluster"]["systemNodes"] = {"instanceType": "c7i.2xlarge"}
    unknown = _items(estimate(parse(raw), IN_SUPPORT))["system-nodes"]
    assert unknown.usd_per_node_hour == 0 and "pricing.hourlyUsd" in unknown.basis
    raw["pricing"] = {"hourlyUsd": {"c7i.2xlarge": 0.357}}
    known = _items(estimate(parse(raw), IN_SUPPORT))["system-nodes"]
    assert known.usd_per_node_hour == 0.357


def test_capacity_block_uses_the_block_rate() -> None:
    raw = platform_config("prod")
    raw["nodePools"]["h100-reserved"]["capacity"] = "capacity-block"
    items = _items(_estimate("prod", nodePools=raw["nodePools"]))
    assert items["h100-reserved"].usd_per_node_hour == 39.33


def test_the_weights_bucket_holds_each_mirrored_checkpoint() -> None:
    """prod mirrors qwen-72b (72.7 B parameters, 16-bit) and qwen-7b (7.6 B); bge-m3 is served
    from the hub. A model taken off the mirror leaves the estimate."""
    prices = catalog.PRICES.object_storage_usd_per_gib_month["aws"]
    item = _items(_estimate("prod"))["model-weights"]
    config = parse(platform_config("prod"))
    gib = (config.models["qwen-72b"].parameters_b + config.models["qwen-7b"].parameters_b) * 2e9
    assert item.monthly_min == pytest.approx(gib / 2**30 * prices, abs=0.01)
    raw = platform_config("prod")
    for model in raw["models"].values():
        model["mirror"] = False
    assert "model-weights" not in _items(estimate(parse(raw), IN_SUPPORT))
