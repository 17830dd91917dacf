"""The StorageClass every vector store's volumes use (pure data, and its registration)."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from gpu_platform.catalog import Cloud
from gpu_platform.options import child_of


def storage_class_name(production: bool) -> str:
    return "vector-store-retain" if production else "vector-store"


def render_storage_class(cloud: Cloud, production: bool) -> dict:
    """Encrypted SSD volumes that grow in place. In production a deleted claim keeps its disk
    (Retain): removing the Cluster, or a mistaken `pulumi destroy`, does not delete data."""
    if cloud == "aws":
        provisioner = "ebs.csi.aws.com"
        parameters = {"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"}
    else:
        # GKE encrypts every persistent disk at rest.
        provisioner = "pd.csi.storage.gke.io"
        parameters = {"type": "pd-balanced"}
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": storage_class_name(production)},
        "provisioner": provisioner,
        "parameters": parameters,
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
        "reclaimPolicy": "Retain" if production else "Delete",
    }


def create_storage_class(
    name: str,
    parent: pulumi.Resource,
    provider: k8s.Provider,
    cloud: Cloud,
    production: bool,
    depends_on: Sequence[pulumi.Resource],
) -> k8s.storage.v1.StorageClass:
    """Register the class, protected in production (its Retain policy is what keeps volumes)."""
    storage = render_storage_class(cloud, production)
    return k8s.storage.v1.StorageClass(
        name,
        metadata=storage["metadata"],
        provisioner=storage["provisioner"],
        parameters=storage["parameters"],
        volume_binding_mode=storage["volumeBindingMode"],
        allow_volume_expansion=storage["allowVolumeExpansion"],
        reclaim_policy=storage["reclaimPolicy"],
        opts=child_of(parent, provider, depends_on, protect=production),
    )
