"""Rules a model must follow against the rest of the stack: its pool, the cloud, production, and
whether it fits the memory a replica gets. Paths in the problems are relative to the model."""

from __future__ import annotations

from collections.abc import Mapping

from gpu_platform import catalog, labels
from gpu_platform.catalog import Cloud
from gpu_platform.pools import NodePoolSpec
from gpu_platform.serving.coldstart import on_pool
from gpu_platform.serving.sizing import GIB, Fit, KvShape, fit, smallest_fitting_gpus
from gpu_platform.serving.spec import ModelSpec
from gpu_platform.spec import Problem


def replica_memory(pool: NodePoolSpec) -> tuple[float, float]:
    """(GiB of one GPU or MIG slice, share of it one pod may use) on a pool."""
    gpu = catalog.gpu(pool.gpu)
    if pool.sharing.mode == "mig":
        profile = gpu.mig_profile(pool.sharing.mig_profile or "")
        assert profile is not None  # the pool spec guarantees it
        return profile.memory_gb * 1e9 / GIB, 1.0  # a profile's nominal GB, rounded down
    whole = gpu.memory_mib / 1024
    if pool.sharing.mode == "time-slicing":
        # Time-sliced pods share the GPU's memory with no isolation.
        return whole, 1.0 / (pool.sharing.replicas or 1)
    return whole, 1.0


def memory_utilization(model: ModelSpec, pool: NodePoolSpec) -> float:
    """The --gpu-memory-utilization a replica runs with on its pool."""
    return round(model.gpu_memory_utilization * replica_memory(pool)[1], 3)


def model_fit(model: ModelSpec, pool: NodePoolSpec, gpus: int | None = None) -> Fit:
    memory_gib, _ = replica_memory(pool)
    shape = KvShape(**model.kv_cache.model_dump()) if model.kv_cache else None
    return fit(
        parameters_b=model.parameters_b,
        quantization=model.quantization,
        max_model_len=model.max_model_len,
        gpu_memory_gib=memory_gib,
        gpus=gpus or model.gpus_per_replica,
        memory_utilization=memory_utilization(model, pool),
        shape=shape,
    )


def _fixes(model: ModelSpec, pool: NodePoolSpec) -> list[str]:
    fixes = []
    if pool.sharing.mode == "none":
        more = smallest_fitting_gpus(
            model.gpus_per_replica * 2, pool.gpus_per_node, lambda n: model_fit(model, pool, n)
        )
        if more is not None:
            fixes.append(f"gpusPerReplica: {more}")
    if model.quantization is None:
        for quantization in ("fp8", "awq"):
            candidate = model.model_copy(update={"quantization": quantization})
            if model_fit(candidate, pool).fits:
                fixes.append(f"quantization: {quantization} (with a quantized checkpoint)")
                break
    shorter = model.model_copy(update={"max_model_len": 4096})
    if model.max_model_len > 4096 and model_fit(shorter, pool).fits:
        fixes.append("a shorter maxModelLen")
    for key, gpu in catalog.GPUS.items():
        if gpu.memory_gb <= catalog.gpu(pool.gpu).memory_gb:
            continue
        bigger = NodePoolSpec.model_validate(
            {"gpu": key, "gpusPerNode": 8, "capacity": "on-demand", "maxNodes": 1}
        )
        n = smallest_fitting_gpus(1, 8, lambda n, p=bigger: model_fit(model, p, n))
        if n is not None:
            fixes.append(f"a {key} pool ({n} GPU{'s' if n > 1 else ''} per replica)")
            break
    return fixes


def _same_slice(first: NodePoolSpec, other: NodePoolSpec) -> bool:
    """Whether a replica gets the same GPU (or MIG slice, or time-slice share) on both pools."""
    return (first.gpu, first.sharing) == (other.gpu, other.sharing)


def model_problems(
    cloud: Cloud, production: bool, model: ModelSpec, pools: Mapping[str, NodePoolSpec]
) -> list[Problem]:
    problems: list[Problem] = []
    tiers: dict[str, NodePoolSpec] = {}
    for index, name in enumerate(model.tiers):
        pool = pools.get(name)
        if pool is None:
            problems.append(
                Problem(
                    model.tier_path(index), f"no pool {name}; one of: {', '.join(sorted(pools))}"
                )
            )
            continue
        tiers[name] = pool
        if pool.workload != "inference":
            problems.append(
                Problem(
                    model.tier_path(index), f"pool {name} is for {pool.workload}, not inference"
                )
            )
        first_name, first = next(iter(tiers.items()))
        if not _same_slice(first, pool):
            problems.append(
                Problem(
                    model.tier_path(index),
                    f"pool {name} has {_slice(pool)} but {first_name} has {_slice(first)}: a "
                    "model's pools must give each replica the same GPU",
                )
            )
        if model.gpus_per_replica > pool.gpus_per_node:
            problems.append(
                Problem(
                    ("gpusPerReplica",),
                    f"{model.gpus_per_replica} GPUs per replica, but {name} nodes have "
                    f"{pool.gpus_per_node}",
                )
            )
    if len(tiers) < len(model.tiers):
        return problems
    first_name, pool = next(iter(tiers.items()))
    names = ("pools " if len(tiers) > 1 else "pool ") + " + ".join(tiers)
    nodes = sum(p.max_nodes for p in tiers.values())
    if production and model.min_replicas >= 2 and not model.allow_colocation:
        if nodes < model.min_replicas:
            problems.append(
                Problem(
                    ("minReplicas",),
                    f"production keeps each of the {model.min_replicas} replicas on its own node "
                    f"so a node loss leaves the model up, but {names} has at most "
                    f"{nodes} node(s): raise its maxNodes, lower minReplicas, or set "
                    "allowColocation: true to accept the risk",
                )
            )
    elif model.allow_colocation and not production:
        problems.append(
            Problem(
                ("allowColocation",),
                "only production keeps replicas apart; remove it",
            )
        )
    if model.scales_to_zero and production and not model.allow_scale_to_zero:
        wake = on_pool(model, pool, cloud, model.mirrored())
        problems.append(
            Problem(
                ("minReplicas",),
                "0 scales the model to zero when idle, and the first request after that waits "
                f"for a cold start: {wake.describe()}. Set allowScaleToZero: true to accept "
                "it, or minReplicas: 1",
            )
        )
    elif model.allow_scale_to_zero and not (production and model.scales_to_zero):
        problems.append(
            Problem(
                ("allowScaleToZero",),
                "only a production model with minReplicas 0 needs it; remove it",
            )
        )
    if pool.sharing.mode != "none" and model.gpus_per_replica != 1:
        problems.append(
            Problem(
                ("gpusPerReplica",),
                f"pool {first_name} shares its GPUs ({pool.sharing.mode}); a replica gets "
                "one slice, so tensor parallelism is not possible there",
            )
        )
    if model.mirror is not None and not model.from_hub:
        problems.append(
            Problem(("mirror",), "only hub models are mirrored; weights in s3:// or gs:// stream")
        )
    elif model.mirror and model.revision is None:
        problems.append(
            Problem(("revision",), "a mirror holds one commit of the model; set revision")
        )
    scheme = model.source.split("://", 1)[0] if "://" in model.source else None
    if scheme is not None and scheme != {"aws": "s3", "gcp": "gs"}[cloud]:
        problems.append(Problem(("source",), f"{scheme}:// weights are not reachable from {cloud}"))
    if production and model.from_hub and model.revision is None:
        problems.append(
            Problem(("revision",), "production serves a pinned commit of the model; set revision")
        )
    capacity = sum(replica_capacity(cloud, p, model) for p in tiers.values())
    if model.max_replicas > capacity:
        problems.append(
            Problem(
                ("maxReplicas",),
                f"{model.max_replicas} replicas of {model.gpus_per_replica} GPU(s) do not fit "
                f"{names} at its maximum ({capacity} replicas); raise the pool's "
                "maxNodes or lower maxReplicas",
            )
        )
    if not problems:
        problems += _fit_problems(model, pool)
    return problems


def _slice(pool: NodePoolSpec) -> str:
    sharing = pool.sharing
    if sharing.mode == "mig":
        return f"{pool.gpu} MIG {sharing.mig_profile}"
    if sharing.mode == "time-slicing":
        return f"{pool.gpu} time-sliced {sharing.replicas} ways"
    return f"whole {pool.gpu} GPUs"


def replica_capacity(cloud: Cloud, pool: NodePoolSpec, model: ModelSpec) -> int:
    """Replicas of the model the pool holds at its maximum size (none spanning two nodes)."""
    per_node = sum(labels.advertised_resources(cloud, pool, "single").values())
    return per_node // model.gpus_per_replica * pool.max_nodes


def _fit_problems(model: ModelSpec, pool: NodePoolSpec) -> list[Problem]:
    result = model_fit(model, pool)
    if result.fits:
        return []
    fixes = _fixes(model, pool)
    slices = "slice" if pool.sharing.mode == "mig" else "GPU"
    return [
        Problem(
            (),
            f"does not fit: needs {result.needed_gib:.1f} GiB (weights "
            f"{result.weights_gib:.1f}, KV cache for {model.max_model_len} tokens "
            f"{result.kv_cache_gib:.1f}, runtime {result.overhead_gib:.1f}) but "
            f"{model.gpus_per_replica} {pool.gpu} {slices}(s) give {result.available_gib:.1f} GiB"
            + (f"; try {' or '.join(fixes)}" if fixes else ""),
        )
    ]


def pool_capacity_problems(
    cloud: Cloud, pools: Mapping[str, NodePoolSpec], models: Mapping[str, ModelSpec]
) -> list[Problem]:
    """Pools sharing models hold all of those models at their maximum replicas at once.

    Models whose tiers overlap compete for the same nodes, so the check runs on each group of
    pools linked by some model: the GPUs the group's models need at most against the GPUs its
    pools hold. A single model is checked on its own (maxReplicas)."""
    problems = []
    for group in _linked_pools(models):
        mine = {key: m for key, m in models.items() if set(m.tiers) & group}
        if len(mine) < 2 or not group <= pools.keys():
            continue
        per_node = {
            name: sum(labels.advertised_resources(cloud, pools[name], "single").values())
            for name in group
        }
        need = sum(m.max_replicas * m.gpus_per_replica for m in mine.values())
        have = sum(per_node[name] * pools[name].max_nodes for name in group)
        if need > have:
            first = min(group, key=lambda name: list(pools).index(name))
            held = (
                f"the pool holds {have}"
                if len(group) == 1
                else (f"pools {', '.join(sorted(group))} hold {have}")
            )
            problems.append(
                Problem(
                    (first, "maxNodes"),
                    f"models {', '.join(sorted(mine))} need up to {need} GPUs at their maximum "
                    f"but {held}; raise maxNodes or lower their maxReplicas",
                )
            )
    return problems


def _linked_pools(models: Mapping[str, ModelSpec]) -> list[set[str]]:
    """Groups of pools joined by the models that list them together."""
    groups: list[set[str]] = []
    for model in models.values():
        linked = set(model.tiers)
        for group in [g for g in groups if g & linked]:
            groups.remove(group)
            linked |= group
        groups.append(linked)
    return groups


def placed_nodes(
    cloud: Cloud,
    pools: Mapping[str, NodePoolSpec],
    models: Mapping[str, ModelSpec],
    *,
    production: bool,
    at_max: bool,
) -> dict[str, int]:
    """Nodes each pool runs for the models' replicas: each model's minimum (the baseline) or
    maximum (the burst) replicas, every replica on the first of its tiers with room, models in
    config order. A highly available model (production, two or more replicas) puts its first
    minReplicas replicas on separate nodes, as its spreading rule requires (`minDomains`); the
    rule lets later ones share a node once every node has one."""
    nodes: dict[str, list[list[str]]] = {name: [] for name in pools}
    for model_name, model in models.items():
        apart = production and model.min_replicas >= 2 and not model.allow_colocation
        for replica in range(model.max_replicas if at_max else model.min_replicas):
            for name in model.tiers:
                pool = pools[name]
                per_node = sum(labels.advertised_resources(cloud, pool, "single").values())
                node = next(
                    (
                        n
                        for n in nodes[name]
                        if per_node - _used(n, models) >= model.gpus_per_replica
                        and not (apart and replica < model.min_replicas and model_name in n)
                    ),
                    None,
                )
                if node is None and len(nodes[name]) < pool.max_nodes:
                    node = []
                    nodes[name].append(node)
                if node is not None:
                    node.append(model_name)
                    break
    return {name: len(placed) for name, placed in nodes.items()}


def _used(node: list[str], models: Mapping[str, ModelSpec]) -> int:
    return sum(models[name].gpus_per_replica for name in node)
