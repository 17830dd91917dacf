"""Does a model fit the memory one replica gets? (pure functions, no pulumi)

Memory a replica needs = weights + KV cache for one `maxModelLen` sequence + a fixed runtime
overhead per GPU (CUDA context, CUDA graphs, activation peak during vLLM's profiling run). What
it gets = GPU (or MIG slice) memory x GPUs per replica x the gpu-memory-utilization vLLM is
started with. The KV cache per token is 2 (K and V) x layers x KV heads x head dim x 2 bytes;
without a stated architecture the shape of the Llama/Qwen/Mistral family of that size is assumed
(grouped-query attention with 8 KV heads of 128 dims).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GIB = 2**30
OVERHEAD_PER_GPU_GIB = 2.0
KV_BYTES = 2  # the KV cache is kept in 16-bit unless vLLM is told otherwise

# Bytes per parameter by precision; 4-bit formats carry group scales and 16-bit embeddings.
# 8-bit and 4-bit checkpoints keep embeddings and the LM head in 16 bits.
BYTES_PER_PARAM = {"fp8": 1.1, "awq": 0.56, "gptq": 0.56, None: 2.0}


@dataclass(frozen=True)
class KvShape:
    layers: int
    kv_heads: int
    head_dim: int


# (largest size in billions of parameters, typical shape) for GQA decoder models.
_TYPICAL_SHAPES: tuple[tuple[float, KvShape], ...] = (
    (4, KvShape(28, 8, 128)),
    (10, KvShape(32, 8, 128)),
    (16, KvShape(48, 8, 128)),
    (40, KvShape(64, 8, 128)),
    (80, KvShape(80, 8, 128)),
    (150, KvShape(88, 8, 128)),
    (float("inf"), KvShape(126, 8, 128)),
)


def typical_shape(parameters_b: float) -> KvShape:
    return next(shape for limit, shape in _TYPICAL_SHAPES if parameters_b <= limit)


def kv_bytes_per_token(shape: KvShape) -> int:
    return 2 * shape.layers * shape.kv_heads * shape.head_dim * KV_BYTES


@dataclass(frozen=True)
class Fit:
    """The memory budget of one replica, in GiB."""

    weights_gib: float
    kv_cache_gib: float
    overhead_gib: float
    available_gib: float

    @property
    def needed_gib(self) -> float:
        return self.weights_gib + self.kv_cache_gib + self.overhead_gib

    @property
    def fits(self) -> bool:
        return self.needed_gib <= self.available_gib


def fit(
    *,
    parameters_b: float,
    quantization: str | None,
    max_model_len: int,
    gpu_memory_gib: float,
    gpus: int,
    memory_utilization: float,
    shape: KvShape | None = None,
) -> Fit:
    """The memory budget of one replica of a model on `gpus` GPUs (or slices) of
    `gpu_memory_gib` each."""
    weights = parameters_b * 1e9 * BYTES_PER_PARAM[quantization]
    kv = kv_bytes_per_token(shape or typical_shape(parameters_b)) * max_model_len
    available = gpu_memory_gib * GIB * gpus * memory_utilization
    return Fit(
        weights_gib=weights / GIB,
        kv_cache_gib=kv / GIB,
        overhead_gib=OVERHEAD_PER_GPU_GIB * gpus,
        available_gib=available / GIB,
    )


def smallest_fitting_gpus(fits_with: int, max_gpus: int, check) -> int | None:
    """The smallest power of two from `fits_with` up to `max_gpus` for which `check(n)` fits."""
    n = fits_with
    while n <= max_gpus:
        if check(n).fits:
            return n
        n *= 2
    return None


def is_power_of_two(n: int) -> bool:
    return n > 0 and math.log2(n).is_integer()
