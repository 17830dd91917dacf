"""GPU catalog: facts checked against tests/upstream/gpu-facts.md, prices present, lookups right."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from upstream_checks import UPSTREAM

from gpu_platform import catalog

FACTS = UPSTREAM / "gpu-facts.md"


def _table(heading: str) -> list[list[str]]:
    """Rows of the first Markdown table under `## heading` in the facts sheet (header dropped)."""
    text = FACTS.read_text()
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("|")
    ]
    return [r for r in rows[2:] if r[0] in catalog.GPU_KEYS]


def _types_with_counts(cell: str) -> dict[str, int]:
    """`g2-standard-4, -8 (1); g2-standard-24 (2)` -> {g2-standard-4: 1, g2-standard-8: 1, ...}."""
    found: dict[str, int] = {}
    pending: list[str] = []
    base = ""
    for raw in re.split(r"[,;]", cell):
        token = raw.strip()
        if not token or " uses " in token:
            continue
        match = re.match(r"^(-?[\w.-]+)(?: \((\d+)\))?", token)
        assert match, token
        name = match.group(1)
        if name.startswith("-"):
            name = base + name
        else:
            base = name.rsplit("-", 1)[0]
        pending.append(name)
        if match.group(2):
            found.update(dict.fromkeys(pending, int(match.group(2))))
            pending = []
    return found


def test_gpus_match_the_facts_sheet() -> None:
    rows = _table("GPUs")
    assert {r[0] for r in rows} == set(catalog.GPU_KEYS)
    for key, _, memory, label, mig in rows:
        gpu = catalog.gpu(key)
        assert gpu.memory_gb == int(memory.split()[0])
        assert gpu.product_label == label
        expected = dict(re.findall(r"(\dg\.\d+gb)\((\d)\)", mig))
        assert {p.name: str(p.max_instances) for p in gpu.mig_profiles} == expected


def test_l4_has_no_mig_and_the_others_do() -> None:
    assert not catalog.gpu("l4").supports_mig
    assert all(catalog.gpu(k).supports_mig for k in ("h100", "a100-40gb", "a100-80gb"))


@pytest.mark.parametrize(
    ("cloud", "heading"), [("aws", "AWS instance types"), ("gcp", "GCP machine types")]
)
def test_machine_types_match_the_facts_sheet(cloud: str, heading: str) -> None:
    facts: dict[str, tuple[str, int, str | None]] = {}
    for row in _table(heading):
        accelerator = row[1] if cloud == "gcp" else None
        for name, count in _types_with_counts(row[-1]).items():
            facts[name] = (row[0], count, accelerator)
    ours = {
        m.name: (m.gpu, m.gpu_count, m.accelerator_type)
        for m in catalog.MACHINE_TYPES.values()
        if m.cloud == cloud
    }
    assert ours == facts


def test_every_gpu_is_offered_on_both_clouds() -> None:
    for cloud in catalog.CLOUDS:
        for key in catalog.GPU_KEYS:
            assert catalog.gpu_counts(cloud, key), f"{key} missing on {cloud}"


def test_every_type_has_a_price_and_sizes() -> None:
    for entry in catalog.MACHINE_TYPES.values():
        assert entry.on_demand_usd_per_hour > 0
        assert entry.vcpus > 0 and entry.memory_gib > 0
        if entry.capacity_block_usd_per_hour is not None:
            assert 0 < entry.capacity_block_usd_per_hour < entry.on_demand_usd_per_hour
    assert catalog.PRICES.as_of and catalog.PRICES.source
    assert 0 < catalog.PRICES.spot_discount < 1


def test_prices_agree_with_the_facts_sheet() -> None:
    text = FACTS.read_text()
    checked = 0
    for name, block, price in re.findall(
        r"^\| ([a-z0-9.-]+)( Capacity Block)? \| ~([\d.]+) \|", text, re.M
    ):
        entry = next(m for m in catalog.MACHINE_TYPES.values() if m.name == name)
        ours = entry.capacity_block_usd_per_hour if block else entry.on_demand_usd_per_hour
        assert ours == pytest.approx(float(price), rel=0.05), name
        checked += 1
    assert checked >= 8


def test_lookups() -> None:
    l4 = catalog.machine_types("aws", "l4", 1)
    assert l4[0].name == "g6.xlarge"
    prices = [m.on_demand_usd_per_hour for m in l4]
    assert prices == sorted(prices)
    assert catalog.gpu_counts("aws", "l4") == (1, 4, 8)
    assert catalog.gpu_counts("gcp", "a100-40gb") == (1, 2, 4, 8, 16)
    assert catalog.machine_type("gcp", "a3-highgpu-8g").accelerator_type == "nvidia-h100-80gb"
    assert catalog.machine_type("aws", "a3-highgpu-8g") is None
    assert catalog.gpu("a100-40gb").mig_profile("1g.5gb").memory_gb == 5
    assert catalog.gpu("h100").mig_profile("3g.40gb").compute_slices == 3


def test_default_types_diversify_only_aws_spot() -> None:
    assert len(catalog.default_machine_types("aws", "l4", 1, "spot")) == 5
    assert catalog.default_machine_types("aws", "l4", 1, "on-demand") == ("g6.xlarge",)
    assert catalog.default_machine_types("gcp", "l4", 1, "spot") == ("g2-standard-4",)
    with pytest.raises(KeyError):
        catalog.default_machine_types("aws", "h100", 2, "spot")


def test_hourly_price_per_capacity_kind() -> None:
    od = catalog.hourly_price("aws", "p5.48xlarge", "on-demand")
    assert od.usd == 55.04
    spot = catalog.hourly_price("aws", "p5.48xlarge", "spot", spot_discount=0.7)
    assert spot.usd == pytest.approx(55.04 * 0.3)
    assert catalog.hourly_price("aws", "p5.48xlarge", "reserved").usd == od.usd
    assert catalog.hourly_price("aws", "p5.48xlarge", "capacity-block").usd == 39.33
    # No published block rate for p4de: priced at on-demand, and the basis says so.
    block = catalog.hourly_price("aws", "p4de.24xlarge", "capacity-block")
    assert block.usd == 27.45 and "on-demand" in block.basis
    override = catalog.hourly_price("aws", "g6.xlarge", "spot", overrides={"g6.xlarge": 1.0})
    assert override.usd == pytest.approx(1.0 * (1 - catalog.PRICES.spot_discount))
    assert "override" in override.basis
    with pytest.raises(KeyError):
        catalog.hourly_price("gcp", "g6.xlarge", "on-demand")


@given(st.sampled_from(sorted(catalog.MACHINE_TYPES)), st.floats(0, 0.95))
def test_spot_never_costs_more_than_on_demand(key: tuple, discount: float) -> None:
    cloud, name = key
    spot = catalog.hourly_price(cloud, name, "spot", spot_discount=discount).usd
    assert spot <= catalog.hourly_price(cloud, name, "on-demand").usd


def test_mig_profile_name_is_checked() -> None:
    with pytest.raises(ValueError, match="not a MIG profile name"):
        _ = catalog.MigProfile("big", 1).memory_gb
