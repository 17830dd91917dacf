"""Rules a GPU node pool must follow on a given cloud, zones and Kubernetes version.

The pool spec (`gpu_platform.pools.NodePoolSpec`) checks what it can on its own; these rules need
the rest of the stack config and are applied by `gpu_platform.platform.spec.PlatformSpec`
(the stack config) and the public components. Paths in the problems are relative to the pool.
"""

from __future__ import annotations

import re

from gpu_platform import catalog
from gpu_platform.catalog import Cloud
from gpu_platform.pools import NodePoolSpec
from gpu_platform.spec import Problem

_AWS_RESERVATION = re.compile(
    r"^(cr-[0-9a-f]{8}([0-9a-f]{9})?"
    r"|arn:aws[a-z-]*:resource-groups:[a-z0-9-]+:\d{12}:group/[A-Za-z0-9_.-]{1,128})$",
    re.ASCII,
)
_GCP_RESERVATION = re.compile(
    r"^(projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/reservations/)?[a-z]([-a-z0-9]{0,61}[a-z0-9])?$",
    re.ASCII,
)


def cloud_problems(
    cloud: Cloud, zones: tuple[str, ...], kubernetes_version: str, pool: NodePoolSpec
) -> list[Problem]:
    """Rules a pool must follow on a given cloud, zones and Kubernetes version; paths are
    relative to the pool."""
    problems: list[Problem] = []
    if pool.capacity not in catalog.CAPACITY_BY_CLOUD[cloud]:
        problems.append(
            Problem(
                ("capacity",),
                f"{pool.capacity} is AWS only; on {cloud} use reserved with a reservation",
            )
        )
    counts = catalog.gpu_counts(cloud, pool.gpu)
    if pool.gpus_per_node not in counts:
        problems.append(
            Problem(
                ("gpusPerNode",),
                f"{cloud} has no {pool.gpu} type with {pool.gpus_per_node} GPUs per node; "
                f"choose one of: {', '.join(map(str, counts))}",
            )
        )
    elif pool.instance_types is not None:
        problems.extend(_instance_type_problems(cloud, pool, pool.instance_types))
    elif not any(
        m.sold_as(pool.capacity) for m in catalog.machine_types(cloud, pool.gpu, pool.gpus_per_node)
    ):
        problems.append(
            Problem(
                ("capacity",),
                f"{cloud} sells {pool.gpus_per_node} x {pool.gpu} nodes only as "
                f"{', '.join(_sold_as(cloud, pool))}; change capacity or gpusPerNode",
            )
        )
    if pool.reservation is not None:
        pattern = _AWS_RESERVATION if cloud == "aws" else _GCP_RESERVATION
        if not pattern.fullmatch(pool.reservation):
            expected = (
                "a capacity reservation id (cr- and 8 or 17 hex digits) or a resource-group ARN"
                if cloud == "aws"
                else "a reservation name or projects/<project>/reservations/<name>"
            )
            problems.append(
                Problem(("reservation",), f"not a valid {cloud} reservation: use {expected}")
            )
    problems += _zone_problems(cloud, zones, pool)
    problems += ami_release_problems(cloud, kubernetes_version, pool.ami_release_version)
    if cloud == "gcp" and pool.sharing.mode == "mig" and pool.sharing.mig_profile:
        sizes = catalog.GKE_PARTITION_SIZES.get(pool.gpu, ())
        if pool.sharing.mig_profile not in sizes:
            problems.append(
                Problem(
                    ("sharing", "migProfile"),
                    f"GKE does not offer the {pool.sharing.mig_profile} partition on "
                    f"{pool.gpu}; one of: {', '.join(sizes)}",
                )
            )
    return problems


def _sold_as(cloud: Cloud, pool: NodePoolSpec) -> list[str]:
    kinds = {
        kind
        for m in catalog.machine_types(cloud, pool.gpu, pool.gpus_per_node)
        for kind in (m.capacities or catalog.CAPACITY_BY_CLOUD[cloud])
    }
    return sorted(kinds)


def _zone_problems(cloud: Cloud, zones: tuple[str, ...], pool: NodePoolSpec) -> list[Problem]:
    problems = [
        Problem(("zones", index), f"{zone} is not one of cloud.zones ({', '.join(zones)})")
        for index, zone in enumerate(pool.zones or ())
        if zone not in zones
    ]
    effective = pool.zones or zones
    zonal = pool.reservation is not None and (cloud == "gcp" or pool.reservation.startswith("cr-"))
    if zonal and len(effective) != 1:
        problems.append(
            Problem(
                ("zones",),
                f"reservation {pool.reservation} holds capacity in one zone; set zones to that "
                "zone so nodes are not launched where the reservation cannot serve them",
            )
        )
    return problems


_AMI_RELEASE = re.compile(r"^(?P<minor>1\.\d{2})\.\d+-\d{8}$", re.ASCII)


def ami_release_problems(
    cloud: Cloud, kubernetes_version: str, release: str | None
) -> list[Problem]:
    """Problems with an `amiReleaseVersion` setting (path relative to its parent)."""
    if cloud == "gcp":
        if release is not None:
            return [Problem(("amiReleaseVersion",), "aws only; GKE pins the node image by version")]
        return []
    if release is None:
        return []
    match = _AMI_RELEASE.fullmatch(release)
    if match is None:
        return [
            Problem(("amiReleaseVersion",), "not an AL2023 AMI release such as 1.36.2-20260714")
        ]
    if match["minor"] != kubernetes_version:
        return [
            Problem(
                ("amiReleaseVersion",),
                f"release {release} is for Kubernetes {match['minor']}, but the cluster runs "
                f"{kubernetes_version}",
            )
        ]
    return []


def _instance_type_problems(
    cloud: Cloud, pool: NodePoolSpec, names: tuple[str, ...]
) -> list[Problem]:
    problems: list[Problem] = []
    if cloud == "gcp" and len(names) != 1:
        problems.append(
            Problem(("instanceTypes",), "a GKE node pool has exactly one machine type; list one")
        )
    matching = ", ".join(m.name for m in catalog.machine_types(cloud, pool.gpu, pool.gpus_per_node))
    want = f"{pool.gpus_per_node} x {pool.gpu}"
    for index, name in enumerate(names):
        entry = catalog.machine_type(cloud, name)
        if entry is None:
            problems.append(
                Problem(
                    ("instanceTypes", index),
                    f"{name} is not in the catalog of {cloud} GPU types; types with {want}: "
                    f"{matching}",
                )
            )
        elif not entry.sold_as(pool.capacity):
            problems.append(
                Problem(
                    ("instanceTypes", index),
                    f"{name} is sold only as {', '.join(entry.capacities or ())}, not "
                    f"{pool.capacity}",
                )
            )
        elif (entry.gpu, entry.gpu_count) != (pool.gpu, pool.gpus_per_node):
            problems.append(
                Problem(
                    ("instanceTypes", index),
                    f"{name} carries {entry.gpu_count} x {entry.gpu}, not {want}; types with "
                    f"{want}: {matching}",
                )
            )
    if len(set(names)) != len(names):
        problems.append(Problem(("instanceTypes",), "lists an instance type twice"))
    return problems
