"""The order in which the cluster grows its GPU pools, from the capacity kinds and the models'
tiers (pure functions).

A pool that bills whether it is used or not (reserved capacity, capacity blocks) comes before
spot, and spot before on-demand. A model that lists its pools (`nodePools`) states its own
order, and every model's order must hold at once: cluster-autoscaler's priority expander (EKS)
and GKE's ComputeClasses read one order per pool, so two models may not order the same two pools
differently.
"""

from __future__ import annotations

import graphlib
from collections.abc import Mapping

from gpu_platform.pools import NodePoolSpec
from gpu_platform.serving.spec import ModelSpec
from gpu_platform.spec import Problem

# Higher wins. Reserved capacity and capacity blocks bill whether used or not.
PRIORITY_BY_CAPACITY = {"reserved": 50, "capacity-block": 50, "spot": 30, "on-demand": 10}
# The platform's CPU pool: the last choice for any pod that fits elsewhere.
SYSTEM_PRIORITY = 1


def _graph(models: Mapping[str, ModelSpec]) -> dict[str, set[str]]:
    """Each pool with the pools some model prefers to it."""
    before: dict[str, set[str]] = {}
    for model in models.values():
        for index, name in enumerate(model.tiers):
            before.setdefault(name, set()).update(model.tiers[:index])
    return before


def order_problems(models: Mapping[str, ModelSpec]) -> list[Problem]:
    """Models whose tier orders contradict each other (paths relative to `models`)."""
    try:
        graphlib.TopologicalSorter(_graph(models)).prepare()
    except graphlib.CycleError as error:
        cycle = error.args[1]
        names = sorted(
            name
            for name, model in models.items()
            if sum(pool in model.tiers for pool in cycle) >= 2
        )
        return [
            Problem(
                (names[0], "nodePools"),
                f"models {', '.join(names)} order pools {', '.join(sorted(set(cycle)))} "
                "differently; the cluster grows its pools in one order, so list them in the "
                "same order",
            )
        ]
    return []


def pool_priorities(
    pools: Mapping[str, NodePoolSpec], models: Mapping[str, ModelSpec]
) -> dict[str, int]:
    """A priority per pool (higher first): the capacity kind's, lowered where a model prefers
    a pool of a cheaper kind, so every model's order holds. Needs order_problems() clear."""
    graph = _graph(models)
    for name in pools:
        graph.setdefault(name, set())
    sorter = graphlib.TopologicalSorter(graph)
    sorter.prepare()
    priority: dict[str, int] = {}
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda n: (-_default(pools, n), n))
        for name in ready:
            preferred = [priority[p] - 1 for p in graph[name]]
            priority[name] = min([_default(pools, name), *preferred])
            sorter.done(name)
    lowest = min(priority.values(), default=SYSTEM_PRIORITY + 1)
    shift = max(0, SYSTEM_PRIORITY + 1 - lowest)
    return {name: priority[name] + shift for name in pools}


def _default(pools: Mapping[str, NodePoolSpec], name: str) -> int:
    pool = pools.get(name)
    return PRIORITY_BY_CAPACITY[pool.capacity] if pool else SYSTEM_PRIORITY + 1
