"""GPU node pool spec: what one `nodePools.<name>` entry of the stack config means, the rules it
must follow on its own and on a given cloud, and which machine types it resolves to.

Shared by the EKS and GKE node pool components, the cost estimate and the add-ons that need to
know which pools exist.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from gpu_platform import catalog, k8s_versions
from gpu_platform.catalog import CapacityKind, Cloud, GpuKey
from gpu_platform.spec import Problem, Spec, raise_problems

POOL_NAME_PATTERN = r"^[a-z]([a-z0-9-]{0,29}[a-z0-9])?$"
PoolName = Annotated[str, StringConstraints(pattern=POOL_NAME_PATTERN)]

SharingMode = Literal["none", "mig", "time-slicing"]
Workload = Literal["inference", "batch"]

_RESERVED_KINDS: tuple[CapacityKind, ...] = ("reserved", "capacity-block")


class SharingSpec(Spec):
    """How the GPUs of a pool's nodes are shared between pods."""

    mode: SharingMode = Field(
        "none",
        description=(
            "none: one pod per GPU. mig: partition each GPU with the MIG profile `migProfile` "
            "(A100/H100 only). time-slicing: `replicas` pods take turns on each GPU "
            "(no memory isolation)."
        ),
    )
    mig_profile: str | None = Field(
        None,
        description=(
            "MIG profile applied to every GPU of the pool, e.g. `1g.10gb`; required with "
            "mode mig and must be a profile of the pool's GPU."
        ),
    )
    replicas: int | None = Field(
        None,
        ge=2,
        le=16,
        description="Time-slicing only: how many pods share each GPU (2 to 16).",
    )


class NodePoolSpec(Spec):
    """One GPU node pool: which GPU, how many per node, how it is bought and how far it scales."""

    gpu: GpuKey = Field(description="GPU model: h100, a100-40gb, a100-80gb or l4.")
    gpus_per_node: int = Field(
        ge=1,
        le=16,
        description=(
            "GPUs on each node; must be a count the catalog offers for this GPU on this cloud "
            "(e.g. l4 on aws: 1, 4 or 8)."
        ),
    )
    instance_types: tuple[str, ...] | None = Field(
        None,
        min_length=1,
        description=(
            "Instance types (aws, at least one) or the machine type (gcp, exactly one); each must "
            "carry `gpu` x `gpusPerNode`. Default: on aws spot every matching catalog type (to "
            "diversify), otherwise the cheapest matching type."
        ),
    )
    capacity: CapacityKind = Field(
        description=(
            "How nodes are bought: on-demand, spot, reserved (an On-Demand Capacity Reservation "
            "or GCP reservation) or capacity-block (AWS EC2 Capacity Blocks for ML only)."
        ),
    )
    reservation: str | None = Field(
        None,
        description=(
            "Required for reserved and capacity-block, forbidden otherwise. aws: a capacity "
            "reservation id (`cr-...`) or a reservation resource-group ARN; gcp: a reservation "
            "name or `projects/<project>/reservations/<name>`."
        ),
    )
    min_nodes: int = Field(
        0, ge=0, le=1000, description="Fewest nodes; 0 lets the pool scale to zero."
    )
    max_nodes: int = Field(
        ge=1, le=1000, description="Most nodes; at least 1 and at least minNodes."
    )
    zones: tuple[str, ...] | None = Field(
        None,
        min_length=1,
        description=(
            "Zones this pool's nodes may run in; a subset of cloud.zones (default: all of them). "
            "A pool that consumes a zonal reservation lists exactly its zone."
        ),
    )
    disk_gib: int = Field(
        200,
        alias="diskGiB",
        ge=100,
        le=16384,
        description="Root volume size in GiB; inference images are several GB each.",
    )
    ami_release_version: str | None = Field(
        None,
        description=(
            "aws only: the EKS AL2023 NVIDIA AMI release, e.g. 1.36.2-20260714. Default: the "
            "release pinned for the cluster's Kubernetes version."
        ),
    )
    workload: Workload = Field(
        "inference",
        description="What the pool is for: inference (model serving) or batch (jobs).",
    )
    sharing: SharingSpec = Field(
        default_factory=SharingSpec, description="GPU sharing (MIG or time-slicing); default none."
    )

    @model_validator(mode="after")
    def _rules(self) -> NodePoolSpec:
        raise_problems(self._problems())
        return self

    def _problems(self) -> list[Problem]:
        return self._zone_problems() + self._capacity_problems()

    def _zone_problems(self) -> list[Problem]:
        zones = self.zones or ()
        if len(set(zones)) != len(zones):
            return [Problem(("zones",), "lists a zone twice; list each zone once")]
        return []

    def _capacity_problems(self) -> list[Problem]:
        problems: list[Problem] = []
        if self.min_nodes > self.max_nodes:
            problems.append(
                Problem(
                    ("minNodes",),
                    f"minNodes ({self.min_nodes}) is greater than maxNodes ({self.max_nodes})",
                )
            )
        if self.capacity in _RESERVED_KINDS:
            if self.reservation is None:
                problems.append(
                    Problem(
                        ("reservation",),
                        f"capacity {self.capacity} needs the reservation to consume; "
                        "set reservation to its id or name",
                    )
                )
            if self.instance_types is not None and len(self.instance_types) != 1:
                problems.append(
                    Problem(
                        ("instanceTypes",),
                        f"a {self.capacity} pool runs on the one instance type its reservation "
                        "holds; list exactly one",
                    )
                )
        elif self.reservation is not None:
            problems.append(
                Problem(
                    ("reservation",),
                    f"a {self.capacity} pool does not consume a reservation; remove reservation "
                    "or set capacity to reserved or capacity-block",
                )
            )
        problems.extend(self._sharing_problems())
        return problems

    def _sharing_problems(self) -> list[Problem]:
        sharing, gpu = self.sharing, catalog.gpu(self.gpu)
        problems: list[Problem] = []
        if sharing.mode == "mig":
            if not gpu.supports_mig:
                at = "migProfile" if sharing.mig_profile is not None else "mode"
                label = gpu.name.removeprefix("NVIDIA ")
                problems.append(Problem(("sharing", at), f"{label} GPUs do not support MIG"))
            elif sharing.mig_profile is None:
                problems.append(
                    Problem(
                        ("sharing", "migProfile"),
                        "mode mig needs a MIG profile; one of: "
                        + ", ".join(p.name for p in gpu.mig_profiles),
                    )
                )
            elif gpu.mig_profile(sharing.mig_profile) is None:
                problems.append(
                    Problem(
                        ("sharing", "migProfile"),
                        f"{sharing.mig_profile} is not a MIG profile of {self.gpu}; one of: "
                        + ", ".join(p.name for p in gpu.mig_profiles),
                    )
                )
        elif sharing.mig_profile is not None:
            problems.append(
                Problem(
                    ("sharing", "migProfile"),
                    f"migProfile only applies with mode mig (mode is {sharing.mode}); remove it",
                )
            )
        if sharing.mode == "time-slicing" and sharing.replicas is None:
            problems.append(
                Problem(
                    ("sharing", "replicas"),
                    "mode time-slicing needs replicas: how many pods share each GPU (2 to 16)",
                )
            )
        elif sharing.mode != "time-slicing" and sharing.replicas is not None:
            problems.append(
                Problem(
                    ("sharing", "replicas"),
                    f"replicas only applies with mode time-slicing (mode is {sharing.mode}); "
                    "remove it",
                )
            )
        return problems


def ami_release(kubernetes_version: str, release: str | None) -> str:
    """The EKS AMI release nodes run: their own pin, or the one pinned for the cluster version."""
    return release or k8s_versions.EKS_AMI_RELEASES[kubernetes_version]


def resolved_machine_types(cloud: Cloud, pool: NodePoolSpec) -> tuple[str, ...]:
    """The types the pool runs on: its own list, or the catalog default for its GPU and capacity."""
    if pool.instance_types is not None:
        return pool.instance_types
    return catalog.default_machine_types(cloud, pool.gpu, pool.gpus_per_node, pool.capacity)
