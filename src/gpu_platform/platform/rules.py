"""Rules that span sections of the stack config (zones and production, the cluster per cloud,
the API endpoint, add-ons per cloud, the vector store with the models that fill it). Each
returns problems with their key paths from the config's root; `PlatformSpec` raises them all
together."""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING

from gpu_platform import catalog
from gpu_platform.addons.spec import AddonsSpec
from gpu_platform.cloud import AwsCloudSpec, ClusterSpec, GcpCloudSpec
from gpu_platform.data import managed
from gpu_platform.data.spec import production_problems, vectorizer_problems
from gpu_platform.pool_rules import ami_release_problems
from gpu_platform.spec import Problem

if TYPE_CHECKING:
    from gpu_platform.platform.spec import PlatformSpec


def zone_problems(
    cloud: AwsCloudSpec | GcpCloudSpec, production: bool, creates: bool
) -> list[Problem]:
    zones = cloud.zones or ()
    problems: list[Problem] = []
    # AWS zones are the region plus a letter (us-east-1a); GCP zones add "-<letter>".
    prefix = cloud.region if cloud.provider == "aws" else f"{cloud.region}-"
    for index, zone in enumerate(zones):
        suffix = zone.removeprefix(prefix)
        if not zone.startswith(prefix) or not re.fullmatch(r"[a-z]", suffix):
            problems.append(
                Problem(("cloud", "zones", index), f"{zone} is not a zone of {cloud.region}")
            )
    if len(set(zones)) != len(zones):
        problems.append(Problem(("cloud", "zones"), "lists a zone twice"))
    if production and len(set(zones)) < 2:
        problems.append(
            Problem(
                ("cloud", "zones"),
                "production needs at least two zones so nodes and data survive a zone outage",
            )
        )
    elif creates and cloud.provider == "aws" and len(set(zones)) == 1:
        problems.append(
            Problem(
                ("cloud", "zones"),
                "EKS needs subnets in at least two zones to create a cluster; list another zone",
            )
        )
    elif creates and not zones:
        problems.append(
            Problem(
                ("cloud", "zones"),
                "list the zones to place subnets and GPU nodes in (GPU types exist only in some "
                "zones); required when cluster.create is true",
            )
        )
    return problems


def vector_store_problems(config: PlatformSpec) -> list[Problem]:
    """Production needs of the store, and embedding models that fill it with vectors of its
    size."""
    store = config.vector_store
    problems = []
    if config.production:
        problems += [
            Problem(("vectorStore", *p.path), p.message)
            for p in production_problems(store, config.cluster.system_nodes.max_nodes)
        ]
    elif store.accept_changes:
        problems.append(
            Problem(
                ("vectorStore", "acceptChanges"),
                "only production stacks check changes to the deployed store; remove it",
            )
        )
    if not store.enabled:
        return problems
    problems += [
        Problem(("vectorStore", *p.path), p.message)
        for p in managed.problems(store, config.cloud.provider)
    ]
    embedding = [name for name, model in config.models.items() if model.task == "embed"]
    problems += [
        Problem(("vectorStore", *p.path), p.message) for p in vectorizer_problems(store, embedding)
    ]
    for name, model in config.models.items():
        if model.task != "embed":
            continue
        size = model.embedding_dimensions
        if size is None:
            problems.append(
                Problem(
                    ("models", name, "dimensions"),
                    f"the catalogue of embedding models does not know {model.source}: set the "
                    "size of the vectors it returns (hidden_size in its config.json)",
                )
            )
        elif size != store.dimensions:
            problems.append(
                Problem(
                    ("models", name, "dimensions" if model.dimensions else "source"),
                    f"returns {size}-dimensional embeddings but vectorStore.dimensions is "
                    f"{store.dimensions}; make them equal",
                )
            )
    return problems


_GCP_ONLY = ("podsCidr", "servicesCidr", "releaseChannel")
_AWS_ONLY = ("adminRoleArns", "addonVersions")


def endpoint_problems(production: bool, cluster: ClusterSpec) -> list[Problem]:
    """Who may reach the Kubernetes API: nobody outside the network by default in production,
    and a public production API only from CIDR blocks the stack names."""
    access = cluster.endpoint_access or ("private" if production else "public")
    if access == "private" and cluster.public_access_cidrs is not None:
        return [
            Problem(
                ("cluster", "publicAccessCidrs"),
                "only used with endpointAccess: public (the API is private"
                + (" by default in production" if cluster.endpoint_access is None else "")
                + "); remove it or set endpointAccess: public",
            )
        ]
    if access == "public" and production and cluster.public_access_cidrs is None:
        return [
            Problem(
                ("cluster", "publicAccessCidrs"),
                "a public API in production must name the CIDR blocks allowed to reach it (e.g. "
                "your CI runners' and VPN's egress ranges)",
            )
        ]
    return []


def cluster_problems(cloud: AwsCloudSpec | GcpCloudSpec, cluster: ClusterSpec) -> list[Problem]:
    problems: list[Problem] = []
    set_keys = cluster.model_dump(by_alias=True, exclude_unset=True)
    wrong_cloud = _GCP_ONLY if cloud.provider == "aws" else _AWS_ONLY
    problems += [
        Problem(("cluster", key), f"not used on {cloud.provider}; remove it")
        for key in wrong_cloud
        if key in set_keys
    ]
    if cloud.provider == "aws":
        if ipaddress.IPv4Network(cluster.network_cidr).prefixlen > 20:
            problems.append(
                Problem(
                    ("cluster", "networkCidr"),
                    "an EKS VPC needs /16 to /20 to hold a private and a public subnet per zone",
                )
            )
    else:
        ranges = {
            "networkCidr": cluster.network_cidr,
            "podsCidr": cluster.effective_pods_cidr,
            "servicesCidr": cluster.effective_services_cidr,
        }
        networks = {k: ipaddress.IPv4Network(v) for k, v in ranges.items()}
        keys = list(networks)
        for i, first in enumerate(keys):
            for second in keys[i + 1 :]:
                if networks[first].overlaps(networks[second]):
                    problems.append(
                        Problem(
                            ("cluster", second),
                            f"{ranges[second]} overlaps {first} ({ranges[first]})",
                        )
                    )
    problems += [
        Problem(("cluster", "systemNodes", *p.path), p.message)
        for p in ami_release_problems(
            cloud.provider, cluster.kubernetes_version, cluster.system_nodes.ami_release_version
        )
    ]
    system_type = cluster.system_nodes.instance_type
    if system_type is not None and catalog.machine_type(cloud.provider, system_type) is not None:
        problems.append(
            Problem(
                ("cluster", "systemNodes", "instanceType"),
                f"{system_type} is a GPU type; system nodes run CPU-only platform pods",
            )
        )
    return problems


def addon_problems(cloud: str, addons: AddonsSpec) -> list[Problem]:
    charts = addons.chart_versions.model_dump(by_alias=True, exclude_unset=True)
    wrong = ({"gpuOperator", "clusterAutoscaler"} if cloud == "gcp" else {"dcgmExporter"}) & set(
        charts
    )
    problems = [
        Problem(("addons", "chartVersions", key), f"not installed on {cloud}; remove it")
        for key in sorted(wrong)
    ]
    if cloud == "gcp" and "clusterAutoscaler" in addons.model_dump(
        by_alias=True, exclude_unset=True
    ):
        problems.append(
            Problem(
                ("addons", "clusterAutoscaler"),
                "GKE autoscales node pools itself; remove it for provider gcp",
            )
        )
    return problems
