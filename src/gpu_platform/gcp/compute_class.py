"""GKE custom ComputeClasses that tell GKE's autoscaler a model's tier order (pure data).

GKE's cluster autoscaler has no priority expander: left alone it grows a pool with a matching
unused reservation, then the cheapest pool that fits. A ComputeClass whose priorities name node
pools (`nodepools`, one per priority so they are tried in order) makes it grow the first tier
that can, then the next. Pods select the class with a node selector; the class's node pools
carry its label and taint (GKE's rule for node pools created outside the class), and a node
pool belongs to one class at most, so models that share a pool must list the same tiers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gpu_platform.labels import Taint
from gpu_platform.serving.spec import ModelSpec
from gpu_platform.spec import Problem

CLASS_LABEL = "cloud.google.com/compute-class"


def class_name(tiers: Sequence[str]) -> str:
    """The class of a tier list, named after its first pool (unique: a pool is in one class).
    Custom class names may not start with `gke` or `autopilot`."""
    return f"gp-{tiers[0]}"


def class_taint(name: str) -> Taint:
    return Taint(CLASS_LABEL, name)


def classes(models: Mapping[str, ModelSpec]) -> dict[str, tuple[str, ...]]:
    """Each class and its pools in order: one per distinct list of two or more tiers."""
    return {class_name(m.tiers): m.tiers for m in models.values() if len(m.tiers) > 1}


def pool_classes(models: Mapping[str, ModelSpec]) -> dict[str, str]:
    """The class each pool of a tiered model belongs to."""
    return {pool: name for name, tiers in classes(models).items() for pool in tiers}


def class_problems(models: Mapping[str, ModelSpec]) -> list[Problem]:
    """A pool that models list in different tier lists (or once alone and once in tiers)
    would need two classes. Paths are relative to `models`."""
    lists: dict[str, dict[tuple[str, ...], str]] = {}
    for model_name, model in models.items():
        for pool in model.tiers:
            lists.setdefault(pool, {}).setdefault(model.tiers, model_name)
    for pool, seen in lists.items():
        if len(seen) > 1 and any(len(tiers) > 1 for tiers in seen):
            names = sorted(seen.values())
            return [
                Problem(
                    (names[0], "nodePools"),
                    f"models {', '.join(names)} use pool {pool} with different tiers; on GKE "
                    "a pool follows one tier order (one ComputeClass), so give them the same "
                    "nodePools",
                )
            ]
    return []


def render_compute_class(name: str, node_pools: Sequence[str]) -> dict:
    """`node_pools` are GKE's names of the class's pools, most preferred first."""
    return {
        "apiVersion": "cloud.google.com/v1",
        "kind": "ComputeClass",
        "metadata": {"name": name},
        "spec": {
            "priorities": [{"nodepools": [pool]} for pool in node_pools],
            # Only the platform's pools, never one GKE would create itself.
            "nodePoolAutoCreation": {"enabled": False},
            # A model's pools are all full: its replicas wait (the default only from GKE 1.33).
            "whenUnsatisfiable": "DoNotScaleUp",
        },
    }
