"""GPU catalog: the GPUs the platform schedules, the cloud machine types that carry them, and
list prices.

Pure data plus lookups; nothing here imports pulumi. Facts come from the clouds' public
documentation and NVIDIA's MIG user guide. Prices are list-price estimates that drift: they live
in one table with an `as_of` date and a source note, and a stack can override any of them
(`pricing.hourlyUsd`, `pricing.spotDiscount`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

Cloud = Literal["aws", "gcp"]
GpuKey = Literal["h100", "a100-40gb", "a100-80gb", "l4"]
CapacityKind = Literal["on-demand", "spot", "reserved", "capacity-block"]

CLOUDS: tuple[Cloud, ...] = get_args(Cloud)
GPU_KEYS: tuple[GpuKey, ...] = get_args(GpuKey)

# Capacity kinds each cloud can provision. GCP has no equivalent of EC2 Capacity Blocks for
# GKE node pools configured this way (its calendar-mode reservations are consumed as reservations).
CAPACITY_BY_CLOUD: dict[Cloud, tuple[CapacityKind, ...]] = {
    "aws": ("on-demand", "spot", "reserved", "capacity-block"),
    "gcp": ("on-demand", "spot", "reserved"),
}

_MIG_NAME = re.compile(r"^(?P<slices>[1-7])g\.(?P<memory>\d+)gb$", re.ASCII)


@dataclass(frozen=True)
class MigProfile:
    """One MIG partition profile, e.g. `1g.10gb`: compute slices, memory, how many fit per GPU."""

    name: str
    max_instances: int

    @property
    def compute_slices(self) -> int:
        """Number of the GPU's seven compute slices this profile takes."""
        return int(_parse_mig(self.name)["slices"])

    @property
    def memory_gb(self) -> int:
        """GPU memory of one instance of this profile, in GB."""
        return int(_parse_mig(self.name)["memory"])


def _parse_mig(name: str) -> dict[str, str]:
    match = _MIG_NAME.fullmatch(name)
    if match is None:
        raise ValueError(f"{name!r} is not a MIG profile name like '1g.10gb'")
    return match.groupdict()


@dataclass(frozen=True)
class Gpu:
    """A GPU model as the platform knows it."""

    key: GpuKey
    name: str
    memory_gb: int
    product_label: str
    """Value of the `nvidia.com/gpu.product` node label that GPU Feature Discovery sets."""
    memory_mib: int
    """Memory the driver reports (nvidia-smi), what vLLM's memory share is taken of."""
    mig_profiles: tuple[MigProfile, ...] = ()

    @property
    def supports_mig(self) -> bool:
        return bool(self.mig_profiles)

    def mig_profile(self, name: str) -> MigProfile | None:
        """The MIG profile of that name on this GPU, or None."""
        return next((p for p in self.mig_profiles if p.name == name), None)


@dataclass(frozen=True)
class MachineType:
    """An AWS instance type or GCP machine type that carries GPUs."""

    cloud: Cloud
    name: str
    gpu: GpuKey
    gpu_count: int
    vcpus: int
    memory_gib: int
    on_demand_usd_per_hour: float
    accelerator_type: str | None = None
    """GCP only: the `guest_accelerator.type` for this machine type."""
    capacity_block_usd_per_hour: float | None = None
    """AWS only: the published EC2 Capacity Block rate, where one is listed."""
    capacities: tuple[CapacityKind, ...] | None = None
    """The capacity kinds the cloud sells this type as; None means every kind of the cloud."""

    def sold_as(self, capacity: CapacityKind) -> bool:
        return capacity in (self.capacities or CAPACITY_BY_CLOUD[self.cloud])


@dataclass(frozen=True)
class PriceBook:
    """Where the prices in this catalog come from and how they are applied."""

    as_of: str
    source: str
    currency: str
    spot_discount: float
    """Default fraction below on-demand for spot capacity (0.6 means 60 % cheaper)."""
    hours_per_month: int
    control_plane_usd_per_hour: dict[Cloud, float]
    eks_extended_support_usd_per_hour: float
    nat_gateway_usd_per_hour: dict[Cloud, float]
    """AWS NAT gateways bill per hour; GKE's Cloud NAT bills per VM and is left out."""
    block_storage_usd_per_gib_month: dict[Cloud, float]
    """Database volumes: gp3 (aws), pd-balanced (gcp)."""
    object_storage_usd_per_gib_month: dict[Cloud, float]
    """Backups: S3 Standard (aws), GCS Standard regional (gcp)."""


_A100_40GB_MIG = (
    MigProfile("1g.5gb", 7),
    MigProfile("1g.10gb", 4),
    MigProfile("2g.10gb", 3),
    MigProfile("3g.20gb", 2),
    MigProfile("4g.20gb", 1),
    MigProfile("7g.40gb", 1),
)
_80GB_MIG = (
    MigProfile("1g.10gb", 7),
    MigProfile("1g.20gb", 4),
    MigProfile("2g.20gb", 3),
    MigProfile("3g.40gb", 2),
    MigProfile("4g.40gb", 1),
    MigProfile("7g.80gb", 1),
)

GPUS: dict[GpuKey, Gpu] = {
    "h100": Gpu("h100", "NVIDIA H100 SXM 80GB", 80, "NVIDIA-H100-80GB-HBM3", 81559, _80GB_MIG),
    "a100-80gb": Gpu(
        "a100-80gb", "NVIDIA A100 SXM4 80GB", 80, "NVIDIA-A100-SXM4-80GB", 81920, _80GB_MIG
    ),
    "a100-40gb": Gpu(
        "a100-40gb", "NVIDIA A100 SXM4 40GB", 40, "NVIDIA-A100-SXM4-40GB", 40960, _A100_40GB_MIG
    ),
    "l4": Gpu("l4", "NVIDIA L4", 24, "NVIDIA-L4", 23034),
}

PRICES = PriceBook(
    as_of="2025-07-01",
    source=(
        "list prices, Linux, us-east-1 (AWS EC2 On-Demand and Capacity Blocks pricing pages, "
        "after AWS's June 2025 GPU price cut) and us-central1 (GCP Compute Engine GPU VM "
        "pricing), EBS gp3 / pd-balanced and S3 / GCS Standard storage pages; rounded "
        "estimates, override per stack with pricing.hourlyUsd"
    ),
    currency="USD",
    spot_discount=0.6,
    hours_per_month=730,
    control_plane_usd_per_hour={"aws": 0.10, "gcp": 0.10},
    eks_extended_support_usd_per_hour=0.60,
    nat_gateway_usd_per_hour={"aws": 0.045, "gcp": 0.0},
    block_storage_usd_per_gib_month={"aws": 0.08, "gcp": 0.10},
    object_storage_usd_per_gib_month={"aws": 0.023, "gcp": 0.020},
)


def _aws(name: str, gpu: GpuKey, count: int, vcpus: int, mem: int, usd: float, cb=None):
    return MachineType("aws", name, gpu, count, vcpus, mem, usd, None, cb)


def _gcp(
    name: str,
    gpu: GpuKey,
    count: int,
    vcpus: int,
    mem: int,
    usd: float,
    accel: str,
    capacities: tuple[CapacityKind, ...] | None = None,
):
    return MachineType("gcp", name, gpu, count, vcpus, mem, usd, accel, None, capacities)


# GCP sells A3 High with fewer than 8 GPUs only as Spot (or flex-start) VMs.
_SPOT_ONLY: tuple[CapacityKind, ...] = ("spot",)


_MACHINE_TYPES: tuple[MachineType, ...] = (
    # AWS: H100 (p5.4xlarge is offered in fewer regions than p5.48xlarge).
    _aws("p5.4xlarge", "h100", 1, 16, 256, 6.88),
    _aws("p5.48xlarge", "h100", 8, 192, 2048, 55.04, cb=39.33),
    # AWS: A100.
    _aws("p4d.24xlarge", "a100-40gb", 8, 96, 1152, 21.96, cb=14.75),
    _aws("p4de.24xlarge", "a100-80gb", 8, 96, 1152, 27.45),
    # AWS: L4 (G6).
    _aws("g6.xlarge", "l4", 1, 4, 16, 0.8048),
    _aws("g6.2xlarge", "l4", 1, 8, 32, 0.9776),
    _aws("g6.4xlarge", "l4", 1, 16, 64, 1.3232),
    _aws("g6.8xlarge", "l4", 1, 32, 128, 2.0144),
    _aws("g6.16xlarge", "l4", 1, 64, 256, 3.3968),
    _aws("g6.12xlarge", "l4", 4, 48, 192, 4.6016),
    _aws("g6.24xlarge", "l4", 4, 96, 384, 6.6752),
    _aws("g6.48xlarge", "l4", 8, 192, 768, 13.3504),
    # GCP: H100 (A3 High).
    _gcp("a3-highgpu-1g", "h100", 1, 26, 234, 11.06, "nvidia-h100-80gb", _SPOT_ONLY),
    _gcp("a3-highgpu-2g", "h100", 2, 52, 468, 22.12, "nvidia-h100-80gb", _SPOT_ONLY),
    _gcp("a3-highgpu-4g", "h100", 4, 104, 936, 44.25, "nvidia-h100-80gb", _SPOT_ONLY),
    _gcp("a3-highgpu-8g", "h100", 8, 208, 1872, 88.25, "nvidia-h100-80gb"),
    # GCP: A100 40GB (A2 High/Mega).
    _gcp("a2-highgpu-1g", "a100-40gb", 1, 12, 85, 3.67, "nvidia-tesla-a100"),
    _gcp("a2-highgpu-2g", "a100-40gb", 2, 24, 170, 7.35, "nvidia-tesla-a100"),
    _gcp("a2-highgpu-4g", "a100-40gb", 4, 48, 340, 14.69, "nvidia-tesla-a100"),
    _gcp("a2-highgpu-8g", "a100-40gb", 8, 96, 680, 29.39, "nvidia-tesla-a100"),
    _gcp("a2-megagpu-16g", "a100-40gb", 16, 96, 1360, 55.74, "nvidia-tesla-a100"),
    # GCP: A100 80GB (A2 Ultra).
    _gcp("a2-ultragpu-1g", "a100-80gb", 1, 12, 170, 5.07, "nvidia-a100-80gb"),
    _gcp("a2-ultragpu-2g", "a100-80gb", 2, 24, 340, 10.14, "nvidia-a100-80gb"),
    _gcp("a2-ultragpu-4g", "a100-80gb", 4, 48, 680, 20.28, "nvidia-a100-80gb"),
    _gcp("a2-ultragpu-8g", "a100-80gb", 8, 96, 1360, 40.55, "nvidia-a100-80gb"),
    # GCP: L4 (G2).
    _gcp("g2-standard-4", "l4", 1, 4, 16, 0.7069, "nvidia-l4"),
    _gcp("g2-standard-8", "l4", 1, 8, 32, 0.8536, "nvidia-l4"),
    _gcp("g2-standard-12", "l4", 1, 12, 48, 1.0003, "nvidia-l4"),
    _gcp("g2-standard-16", "l4", 1, 16, 64, 1.1469, "nvidia-l4"),
    _gcp("g2-standard-32", "l4", 1, 32, 128, 1.7336, "nvidia-l4"),
    _gcp("g2-standard-24", "l4", 2, 24, 96, 1.9993, "nvidia-l4"),
    _gcp("g2-standard-48", "l4", 4, 48, 192, 3.9986, "nvidia-l4"),
    _gcp("g2-standard-96", "l4", 8, 96, 384, 7.9972, "nvidia-l4"),
)

# MIG partition sizes GKE accepts in guest_accelerator.gpu_partition_size (GKE's "Running
# multi-instance GPUs" guide); GKE offers fewer profiles than the GPUs support.
GKE_PARTITION_SIZES: dict[GpuKey, tuple[str, ...]] = {
    "a100-40gb": ("1g.5gb", "2g.10gb", "3g.20gb", "7g.40gb"),
    "a100-80gb": ("1g.10gb", "2g.20gb", "3g.40gb", "7g.80gb"),
    "h100": ("1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "7g.80gb"),
}


@dataclass(frozen=True)
class CpuMachineType:
    """A CPU-only type for the system node pool."""

    cloud: Cloud
    name: str
    vcpus: int
    memory_gib: int
    on_demand_usd_per_hour: float


_CPU_MACHINE_TYPES: tuple[CpuMachineType, ...] = (
    CpuMachineType("aws", "m6i.large", 2, 8, 0.096),
    CpuMachineType("aws", "m6i.xlarge", 4, 16, 0.192),
    CpuMachineType("aws", "m6i.2xlarge", 8, 32, 0.384),
    CpuMachineType("aws", "m7i.xlarge", 4, 16, 0.2016),
    CpuMachineType("gcp", "e2-standard-4", 4, 16, 0.134),
    CpuMachineType("gcp", "e2-standard-8", 8, 32, 0.268),
    CpuMachineType("gcp", "n2-standard-4", 4, 16, 0.1942),
)
CPU_MACHINE_TYPES = {(m.cloud, m.name): m for m in _CPU_MACHINE_TYPES}
SYSTEM_MACHINE_TYPE: dict[Cloud, str] = {"aws": "m6i.xlarge", "gcp": "e2-standard-4"}


def cpu_machine_type(cloud: Cloud, name: str) -> CpuMachineType | None:
    """The catalog entry for a CPU-only type, or None if unknown."""
    return CPU_MACHINE_TYPES.get((cloud, name))


MACHINE_TYPES: dict[tuple[Cloud, str], MachineType] = {(m.cloud, m.name): m for m in _MACHINE_TYPES}


def gpu(key: GpuKey) -> Gpu:
    """The GPU with that catalog key."""
    return GPUS[key]


def machine_type(cloud: Cloud, name: str) -> MachineType | None:
    """The catalog entry for an instance/machine type on a cloud, or None if unknown."""
    return MACHINE_TYPES.get((cloud, name))


def machine_types(cloud: Cloud, gpu_key: GpuKey, gpu_count: int) -> tuple[MachineType, ...]:
    """Every type on `cloud` carrying exactly `gpu_count` GPUs of kind `gpu_key`, cheapest first."""
    found = [
        m
        for m in _MACHINE_TYPES
        if m.cloud == cloud and m.gpu == gpu_key and m.gpu_count == gpu_count
    ]
    return tuple(sorted(found, key=lambda m: (m.on_demand_usd_per_hour, m.name)))


def gpu_counts(cloud: Cloud, gpu_key: GpuKey) -> tuple[int, ...]:
    """The GPUs-per-node counts the catalog offers for a GPU on a cloud, ascending."""
    return tuple(
        sorted({m.gpu_count for m in _MACHINE_TYPES if m.cloud == cloud and m.gpu == gpu_key})
    )


def default_machine_types(
    cloud: Cloud, gpu_key: GpuKey, gpu_count: int, capacity: CapacityKind
) -> tuple[str, ...]:
    """The types a pool uses when its config names none.

    AWS spot pools list every matching type so the Spot allocation strategy can diversify across
    capacity pools; every other pool (and every GKE pool, which takes one machine type) uses the
    cheapest matching type. Types the cloud does not sell as `capacity` are left out.
    """
    names = tuple(m.name for m in machine_types(cloud, gpu_key, gpu_count) if m.sold_as(capacity))
    if not names:
        raise KeyError(f"no {cloud} type carries {gpu_count} x {gpu_key} as {capacity}")
    if cloud == "aws" and capacity == "spot":
        return names
    return names[:1]


@dataclass(frozen=True)
class HourlyPrice:
    """The estimated price of one node per hour, and how it was derived."""

    usd: float
    basis: str


def hourly_price(
    cloud: Cloud,
    name: str,
    capacity: CapacityKind,
    *,
    spot_discount: float | None = None,
    overrides: dict[str, float] | None = None,
) -> HourlyPrice:
    """Estimated hourly price of one node of `name` bought as `capacity`.

    `overrides` maps a type name to the on-demand price a stack negotiated or looked up; it wins
    over the catalog. Reserved capacity (ODCRs, GCP reservations) bills at the on-demand rate
    whether or not nodes run on it. Capacity Blocks use the published block rate where the
    catalog has one and the on-demand rate otherwise.
    """
    entry = machine_type(cloud, name)
    if entry is None:
        raise KeyError(f"{name} is not a {cloud} GPU type in the catalog")
    overridden = overrides is not None and name in overrides
    on_demand = overrides[name] if overridden else entry.on_demand_usd_per_hour
    source = "stack override" if overridden else "catalog list price"
    if capacity == "spot":
        discount = PRICES.spot_discount if spot_discount is None else spot_discount
        return HourlyPrice(
            on_demand * (1 - discount), f"spot: on-demand ({source}) less {discount:.0%}"
        )
    if capacity == "capacity-block":
        if entry.capacity_block_usd_per_hour is not None and not overridden:
            return HourlyPrice(entry.capacity_block_usd_per_hour, "capacity block list price")
        return HourlyPrice(on_demand, f"capacity block at on-demand rate ({source})")
    if capacity == "reserved":
        return HourlyPrice(on_demand, f"reservation billed at on-demand rate ({source})")
    return HourlyPrice(on_demand, f"on-demand ({source})")
