"""Monthly cost estimate of a stack's GPU capacity, from the catalog's list prices.

Each node pool is priced at its primary machine type (the first it lists, or the catalog's
cheapest match) for its capacity kind, at its minimum and at its maximum node count, over
730 hours a month. The cluster's control-plane fee is included when the stack creates the cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gpu_platform import catalog
from gpu_platform.catalog import Cloud
from gpu_platform.data import prices as db_prices
from gpu_platform.pools import NodePoolSpec, resolved_machine_types


@dataclass(frozen=True)
class CostItem:
    """One line of the estimate: a node pool or the control plane."""

    name: str
    kind: str
    machine_type: str | None
    capacity: str | None
    nodes_min: int
    nodes_max: int
    usd_per_node_hour: float
    basis: str
    hours_per_month: int
    nodes_burst: int | None = None
    """GPU pools: nodes when every model runs its maximum replicas placed in tier order.
    Everything else stays as at the baseline (its minimum)."""

    @property
    def monthly_min(self) -> float:
        return round(self.nodes_min * self.usd_per_node_hour * self.hours_per_month, 2)

    @property
    def burst_nodes(self) -> int:
        return self.nodes_min if self.nodes_burst is None else self.nodes_burst

    @property
    def monthly_burst(self) -> float:
        return round(self.burst_nodes * self.usd_per_node_hour * self.hours_per_month, 2)

    @property
    def monthly_max(self) -> float:
        return round(self.nodes_max * self.usd_per_node_hour * self.hours_per_month, 2)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "machineType": self.machine_type,
            "capacity": self.capacity,
            "nodesMin": self.nodes_min,
            "nodesMax": self.nodes_max,
            "nodesBurst": self.burst_nodes,
            "usdPerNodeHour": self.usd_per_node_hour,
            "basis": self.basis,
            "monthlyMin": self.monthly_min,
            "monthlyBurst": self.monthly_burst,
            "monthlyMax": self.monthly_max,
        }


@dataclass(frozen=True)
class CostEstimate:
    """The whole stack's estimate at minimum and at maximum scale."""

    items: tuple[CostItem, ...]
    currency: str = catalog.PRICES.currency
    as_of: str = catalog.PRICES.as_of
    source: str = catalog.PRICES.source

    @property
    def monthly_min(self) -> float:
        return round(sum(i.monthly_min for i in self.items), 2)

    @property
    def monthly_burst(self) -> float:
        return round(sum(i.monthly_burst for i in self.items), 2)

    @property
    def monthly_max(self) -> float:
        return round(sum(i.monthly_max for i in self.items), 2)

    def as_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "monthlyMin": self.monthly_min,
            "monthlyBurst": self.monthly_burst,
            "monthlyMax": self.monthly_max,
            "asOf": self.as_of,
            "source": self.source,
            "items": [i.as_json() for i in self.items],
        }


@dataclass(frozen=True)
class ClusterCosts:
    """The fixed costs of a cluster the stack creates."""

    extended_support: bool
    """EKS: the Kubernetes version is past standard support and bills the extended rate."""
    system_machine_type: str
    system_min: int
    system_max: int
    nat_gateways: int


def _price(
    cloud: Cloud, name: str, capacity: str, spot_discount: float | None, overrides: dict
) -> catalog.HourlyPrice:
    if catalog.machine_type(cloud, name) is not None:
        return catalog.hourly_price(
            cloud, name, capacity, spot_discount=spot_discount, overrides=overrides
        )
    if name in overrides:
        return catalog.HourlyPrice(overrides[name], "on-demand (stack override)")
    cpu = catalog.cpu_machine_type(cloud, name)
    if cpu is not None:
        return catalog.HourlyPrice(cpu.on_demand_usd_per_hour, "on-demand (catalog list price)")
    return catalog.HourlyPrice(0.0, f"no list price for {name}: set pricing.hourlyUsd")


def pool_price(
    cloud: Cloud,
    pool: NodePoolSpec,
    spot_discount: float | None = None,
    overrides: Mapping[str, float] | None = None,
) -> catalog.HourlyPrice:
    """What one node of a pool costs per hour: its first machine type at its capacity."""
    primary = resolved_machine_types(cloud, pool)[0]
    return _price(cloud, primary, pool.capacity, spot_discount, dict(overrides or {}))


@dataclass(frozen=True)
class DatabaseStorage:
    """The volumes (and backups) of a database the stack runs."""

    name: str
    instances: int
    gib_per_instance: int
    backups: bool


@dataclass(frozen=True)
class ManagedDatabase:
    """A database the cloud runs (RDS, Cloud SQL): instance and storage, each billed twice
    with a standby in another zone."""

    name: str
    instance_class: str
    standby: bool
    gib: int


def _managed_items(
    cloud: Cloud, database: ManagedDatabase, hours: int, overrides: Mapping[str, float]
) -> list[CostItem]:
    copies = 2 if database.standby else 1
    known = db_prices.instance_usd_per_hour(cloud, database.instance_class)
    if database.instance_class in overrides:
        usd, basis = overrides[database.instance_class], "on-demand (stack override)"
    elif known is not None:
        usd, basis = known, "on-demand (list price)"
    else:
        usd, basis = 0.0, f"no list price for {database.instance_class}: set pricing.hourlyUsd"
    if database.standby:
        basis += "; primary and standby"
    storage = db_prices.storage_usd_per_gib_month(cloud)
    return [
        CostItem(
            f"{database.name}-instance",
            "database",
            database.instance_class,
            "on-demand",
            copies,
            copies,
            usd,
            basis,
            hours,
        ),
        CostItem(
            f"{database.name}-storage",
            "storage",
            None,
            None,
            copies,
            copies,
            round(database.gib * storage / hours, 6),
            f"{database.gib} GiB at {storage} USD per GiB-month"
            + (", on each copy" if database.standby else ""),
            hours,
        ),
    ]


def _storage_items(cloud: Cloud, database: DatabaseStorage, hours: int) -> list[CostItem]:
    """Volumes at their provisioned size; backups at one full copy of the data (WAL and the
    copies the retention window keeps come on top)."""
    block = catalog.PRICES.block_storage_usd_per_gib_month[cloud]
    items = [
        CostItem(
            f"{database.name}-volumes",
            "storage",
            None,
            None,
            database.instances,
            database.instances,
            round(database.gib_per_instance * block / hours, 6),
            f"{database.gib_per_instance} GiB per instance at {block} USD per GiB-month",
            hours,
        )
    ]
    if database.backups:
        objects = catalog.PRICES.object_storage_usd_per_gib_month[cloud]
        items.append(
            CostItem(
                f"{database.name}-backups",
                "storage",
                None,
                None,
                1,
                1,
                round(database.gib_per_instance * objects / hours, 6),
                f"one full copy ({database.gib_per_instance} GiB) at {objects} USD per "
                "GiB-month; WAL and older backups add to it",
                hours,
            )
        )
    return items


def estimate(
    cloud: Cloud,
    pools: Mapping[str, NodePoolSpec],
    *,
    cluster: ClusterCosts | None,
    spot_discount: float | None = None,
    overrides: Mapping[str, float] | None = None,
    databases: tuple[DatabaseStorage | ManagedDatabase, ...] = (),
    burst: Mapping[str, int] | None = None,
    weights_gib: float = 0.0,
) -> CostEstimate:
    """Estimate the monthly cost of `pools`, plus the cluster's fixed costs when the stack
    creates the cluster (`cluster` is None for an adopted one) and its `databases`: the storage
    of those in the cluster (their CPU and memory run on the system nodes, already counted),
    instance and storage of managed ones (RDS or Cloud SQL backups up to the database's size
    are included in their price). `burst` gives the nodes each pool runs with every model at
    its maximum replicas (the estimate's middle column). `weights_gib`: the mirrored models'
    checkpoints in the stack's weights bucket."""
    hours = catalog.PRICES.hours_per_month
    prices = dict(overrides or {})
    items: list[CostItem] = []
    if cluster is not None:
        fee, basis = catalog.PRICES.control_plane_usd_per_hour[cloud], "control-plane fee"
        if cloud == "aws" and cluster.extended_support:
            fee, basis = (
                catalog.PRICES.eks_extended_support_usd_per_hour,
                ("EKS extended support fee (version past standard support)"),
            )
        items.append(
            CostItem("control-plane", "control-plane", None, None, 1, 1, fee, basis, hours)
        )
        system = _price(cloud, cluster.system_machine_type, "on-demand", None, prices)
        items.append(
            CostItem(
                "system-nodes",
                "system-nodes",
                cluster.system_machine_type,
                "on-demand",
                cluster.system_min,
                cluster.system_max,
                system.usd,
                system.basis,
                hours,
            )
        )
        if cluster.nat_gateways:
            nat = catalog.PRICES.nat_gateway_usd_per_hour[cloud]
            items.append(
                CostItem(
                    "nat-gateways",
                    "network",
                    None,
                    None,
                    cluster.nat_gateways,
                    cluster.nat_gateways,
                    nat,
                    "hourly charge per gateway; data processed is extra",
                    hours,
                )
            )
    for name, pool in pools.items():
        price = pool_price(cloud, pool, spot_discount, prices)
        items.append(
            CostItem(
                name,
                "node-pool",
                resolved_machine_types(cloud, pool)[0],
                pool.capacity,
                pool.min_nodes,
                pool.max_nodes,
                price.usd,
                price.basis,
                hours,
                nodes_burst=max(pool.min_nodes, (burst or {}).get(name, 0)),
            )
        )
    for database in databases:
        if isinstance(database, ManagedDatabase):
            items += _managed_items(cloud, database, hours, prices)
        else:
            items += _storage_items(cloud, database, hours)
    if weights_gib:
        objects = catalog.PRICES.object_storage_usd_per_gib_month[cloud]
        items.append(
            CostItem(
                "model-weights",
                "storage",
                None,
                None,
                1,
                1,
                round(weights_gib * objects / hours, 6),
                f"{weights_gib:,.0f} GiB of mirrored checkpoints at {objects} USD per "
                "GiB-month; a replaced revision stays for the bucket's version window",
                hours,
            )
        )
    return CostEstimate(tuple(items))
