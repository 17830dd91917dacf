"""Cost estimate: numbers follow from the catalog, the pool sizes and the stack's overrides."""

from __future__ import annotations

import pytest
from conftest import platform_config

from components import catalog, cost
from stacks.config import parse

HOURS = catalog.PRICES.hours_per_month


def _estimate(name: str, **changes) -> cost.CostEstimate:
    config = parse({**platform_config(name), **changes})
    return cost.estimate(
        config.cloud.provider,
        config.node_pools,
        creates_cluster=config.cluster.create,
        spot_discount=config.pricing.spot_discount,
        overrides=config.pricing.hourly_usd,
    )


def test_dev_scales_to_zero_so_min_is_the_control_plane_fee() -> None:
    estimate = _estimate("dev")
    fee = catalog.PRICES.control_plane_usd_per_hour["aws"] * HOURS
    assert estimate.monthly_min == pytest.approx(fee)
    spot_g6 = 0.8048 * (1 - catalog.PRICES.spot_discount)
    # l4-spot: 4 nodes max, l4-batch-spot: 2 nodes max, both priced at g6.xlarge spot.
    assert estimate.monthly_max == pytest.approx(fee + 6 * spot_g6 * HOURS, abs=0.05)


def test_prod_prices_each_capacity_kind() -> None:
    items = {i.name: i for i in _estimate("prod").items}
    reserved = items["h100-reserved"]
    assert (reserved.machine_type, reserved.capacity) == ("p5.48xlarge", "reserved")
    assert reserved.usd_per_node_hour == 55.04
    assert reserved.monthly_min == pytest.approx(55.04 * HOURS)
    assert reserved.monthly_max == pytest.approx(2 * 55.04 * HOURS)
    assert items["h100-spot"].usd_per_node_hour == pytest.approx(55.04 * 0.4)
    assert items["a100-mig"].machine_type == "p4de.24xlarge"
    assert items["l4-batch-spot"].machine_type == "g6.12xlarge"


def test_totals_are_the_sum_of_items() -> None:
    estimate = _estimate("prod")
    assert estimate.monthly_min == pytest.approx(sum(i.monthly_min for i in estimate.items))
    assert estimate.monthly_max == pytest.approx(sum(i.monthly_max for i in estimate.items))
    assert estimate.monthly_max > estimate.monthly_min > 0


def test_overrides_and_adopted_cluster() -> None:
    raw = platform_config("dev")
    raw["cluster"]["create"] = False
    raw["pricing"] = {"spotDiscount": 0.5, "hourlyUsd": {"g6.xlarge": 1.0}}
    config = parse(raw)
    estimate = cost.estimate(
        "aws",
        config.node_pools,
        creates_cluster=False,
        spot_discount=config.pricing.spot_discount,
        overrides=config.pricing.hourly_usd,
    )
    assert [i.kind for i in estimate.items] == ["node-pool", "node-pool"]
    assert estimate.monthly_max == pytest.approx(6 * 0.5 * HOURS)


def test_capacity_block_uses_the_block_rate() -> None:
    raw = platform_config("prod")
    raw["nodePools"]["h100-reserved"]["capacity"] = "capacity-block"
    items = {i.name: i for i in _estimate("prod", nodePools=raw["nodePools"]).items}
    assert items["h100-reserved"].usd_per_node_hour == 39.33
