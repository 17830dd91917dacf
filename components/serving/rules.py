"""Rules a model must follow against the rest of the stack: its pool, the cloud, production, and
whether it fits the memory a replica gets. Paths in the problems are relative to the model."""

from __future__ import annotations

import math
from collections.abc import Mapping

from components import catalog, labels
from components.catalog import Cloud
from components.pools import NodePoolSpec
from components.serving.sizing import GIB, Fit, KvShape, fit, smallest_fitting_gpus
from components.serving.spec import ModelSpec
from components.spec import Problem


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


def model_problems(
    cloud: Cloud, production: bool, model: ModelSpec, pools: Mapping[str, NodePoolSpec]
) -> list[Problem]:
    pool = pools.get(model.node_pool)
    if pool is None:
        return [
            Problem(
                ("nodePool",),
                f"no pool {model.node_pool}; one of: {', '.join(sorted(pools))}",
            )
        ]
    problems: list[Problem] = []
    if pool.workload != "inference":
        problems.append(
            Problem(("nodePool",), f"pool {model.node_pool} is for {pool.workload}, not inference")
        )
    if production and model.min_replicas >= 2 and not model.allow_colocation:
        if pool.max_nodes < model.min_replicas:
            problems.append(
                Problem(
                    ("minReplicas",),
                    f"production keeps each of the {model.min_replicas} replicas on its own node "
                    f"so a node loss leaves the model up, but pool {model.node_pool} has at most "
                    f"{pool.max_nodes} node(s): raise its maxNodes, lower minReplicas, or set "
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
    if model.gpus_per_replica > pool.gpus_per_node:
        problems.append(
            Problem(
                ("gpusPerReplica",),
                f"{model.gpus_per_replica} GPUs per replica, but {model.node_pool} nodes have "
                f"{pool.gpus_per_node}",
            )
        )
    if pool.sharing.mode != "none" and model.gpus_per_replica != 1:
        problems.append(
            Problem(
                ("gpusPerReplica",),
                f"pool {model.node_pool} shares its GPUs ({pool.sharing.mode}); a replica gets "
                "one slice, so tensor parallelism is not possible there",
            )
        )
    scheme = model.source.split("://", 1)[0] if "://" in model.source else None
    if scheme is not None and scheme != {"aws": "s3", "gcp": "gs"}[cloud]:
        problems.append(Problem(("source",), f"{scheme}:// weights are not reachable from {cloud}"))
    if production and model.from_hub and model.revision is None:
        problems.append(
            Problem(("revision",), "production serves a pinned commit of the model; set revision")
        )
    per_node = sum(labels.advertised_resources(cloud, pool, "single").values())
    capacity = per_node * pool.max_nodes // model.gpus_per_replica
    if model.max_replicas > capacity:
        problems.append(
            Problem(
                ("maxReplicas",),
                f"{model.max_replicas} replicas of {model.gpus_per_replica} GPU(s) do not fit "
                f"pool {model.node_pool} at its maximum ({capacity} replicas); raise the pool's "
                "maxNodes or lower maxReplicas",
            )
        )
    if not problems:
        problems += _fit_problems(model, pool)
    return problems


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
    """Every pool holds all of its models at their maximum replicas at once."""
    problems = []
    for name, pool in pools.items():
        mine = {key: m for key, m in models.items() if m.node_pool == name}
        if len(mine) < 2:
            continue  # a single model is checked on its own (maxReplicas)
        per_node = sum(labels.advertised_resources(cloud, pool, "single").values())
        need = sum(m.max_replicas * m.gpus_per_replica for m in mine.values())
        have = per_node * pool.max_nodes
        if need > have:
            problems.append(
                Problem(
                    (name, "maxNodes"),
                    f"models {', '.join(sorted(mine))} need up to {need} GPUs at their maximum "
                    f"but the pool holds {have}; raise maxNodes or lower their maxReplicas",
                )
            )
    return problems


def pinned_nodes(cloud: Cloud, pool: NodePoolSpec, models: list[ModelSpec]) -> int:
    """Nodes a pool keeps running for the models' minimum replicas."""
    per_node = sum(labels.advertised_resources(cloud, pool, "single").values())
    gpus = sum(m.min_replicas * m.gpus_per_replica for m in models)
    return math.ceil(gpus / per_node) if gpus else 0
