"""How long a replica takes from "needed" to Ready, part by part (pure functions).

A cold start adds: a GPU node booting and joining (when the pool has no node with room), the
vLLM image pulled, the weights moved into GPU memory from where they are (downloaded from the
Hugging Face hub and read back from disk, streamed from object storage by the Run:ai streamer,
or read from a replica's kept cache), and vLLM's warm-up (engine start, memory profiling, CUDA
graph capture). A warm start happens on a node that already runs the image.

Every rate names its source or says it is an assumption. The assumptions lean slow: a held
request or a startup probe that waits a little longer than needed costs nothing, one that gives
up too early fails a healthy start. Measure real starts (the `model:replica_startup_seconds`
recording rule, on the serving dashboard beside this estimate) and adjust the assumptions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from gpu_platform import image_pull, versions
from gpu_platform.catalog import Cloud
from gpu_platform.pools import NodePoolSpec
from gpu_platform.serving.sizing import BYTES_PER_PARAM
from gpu_platform.serving.spec import ModelSpec

# Assumption: a GPU instance from the autoscaler's request to a Ready node advertising its GPUs
# (launch, boot, join, GPU agents) takes 5 minutes; an 8-GPU instance 2 more (EFA, NVMe, eight
# GPUs to initialise); spot capacity 1 more to be fulfilled.
NODE_SECONDS = 300
LARGE_NODE_EXTRA_SECONDS = 120
SPOT_EXTRA_SECONDS = 60
# How a GPU node gets the image (gpu_platform/image_pull.py). EKS, parallel pull: the SOCI
# snapshotter's parallel pull and unpack (FastImagePull) took 59.8 s for a 10.78 GB vLLM image
# (180 MB/s) where containerd's default pull took 112 s (96 MB/s), on AL2023 nodes with a
# 1,000 MiB/s root volume (aws-samples/karpenter-blueprints, blueprints/soci-snapshotter).
# The platform's volumes run at 600 MiB/s, nodeadm's recommended minimum; assumption: the
# same rate. GKE, image streaming: the container starts after "a couple of seconds, regardless
# of container size" (Google Cloud blog, "Introducing GKE image streaming", 2021); assumption:
# a minute, counting the first reads of CUDA and PyTorch streamed on demand.
PARALLEL_IMAGE_BYTES_PER_SECOND = 180e6
STREAMED_IMAGE_SECONDS = 60
# Assumption: one replica downloads from the Hugging Face hub at 100 MB/s.
HUB_BYTES_PER_SECOND = 100e6
# A download read back, or a kept cache, comes off the replica's volume at the disk's
# throughput: gp3's baseline is 125 MiB/s (AWS EBS volume types), which the platform's storage
# classes do not raise; a pd-balanced disk of a few hundred GiB is in the same range. (NVIDIA
# measured vLLM's default loader at about 330 MB/s from a gp3 volume provisioned at its
# 1,000 MiB/s maximum: Llama 3 8B in 47.99 s.)
DISK_BYTES_PER_SECOND = 125 * 2**20
# The Run:ai streamer loaded the same model from that gp3 volume in 14.34 s, about 1.1 GB/s
# ("Reducing Cold Start Latency for LLM Inference with NVIDIA Run:ai Model Streamer", NVIDIA
# technical blog, 2025). Assumption: from S3 / GCS in the same region it reaches 1 GB/s.
STREAM_BYTES_PER_SECOND = 1e9
# Assumption: engine start and memory profiling take 30 s, CUDA graph capture 30 s more (vLLM
# logs each, "Graph capturing finished in N secs"); --enforce-eager captures none.
ENGINE_SECONDS = 30
GRAPH_CAPTURE_SECONDS = 30
# Held requests and startup probes wait this many times the estimate.
MARGIN = 2
# Never a startup probe budget below ten minutes.
MIN_PROBE_SECONDS = 600

Source = Literal["hub", "stream", "cache"]


@dataclass(frozen=True)
class ColdStart:
    node_seconds: int
    image_seconds: int
    weights_seconds: int
    warmup_seconds: int

    @property
    def total_seconds(self) -> int:
        return self.node_seconds + self.image_seconds + self.weights_seconds + self.warmup_seconds

    def parts(self) -> list[tuple[str, int]]:
        return [
            ("node", self.node_seconds),
            ("image", self.image_seconds),
            ("weights", self.weights_seconds),
            ("warm-up", self.warmup_seconds),
        ]

    def biggest(self) -> tuple[str, int]:
        return max(self.parts(), key=lambda part: part[1])

    def describe(self) -> str:
        detail = ", ".join(f"{name} {_duration(s)}" for name, s in self.parts() if s)
        return f"about {_duration(self.total_seconds)} ({detail})"


@dataclass(frozen=True)
class ModelStart:
    """One model's starts, for the plan: on a new node and on a node that already ran it."""

    model: str
    cold: ColdStart
    warm: ColdStart
    budget_seconds: int


def _duration(seconds: int) -> str:
    return f"{seconds} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def weight_bytes(model: ModelSpec) -> float:
    """What is moved: the checkpoint. An fp8 model may be served from a 16-bit checkpoint
    (vLLM quantizes it while loading), so it counts 2 bytes per parameter; AWQ and GPTQ are
    always quantized checkpoints."""
    per_param = BYTES_PER_PARAM[None if model.quantization == "fp8" else model.quantization]
    return model.parameters_b * 1e9 * per_param


def node_seconds(pool: NodePoolSpec) -> int:
    large = LARGE_NODE_EXTRA_SECONDS if pool.gpus_per_node >= 8 else 0
    spot = SPOT_EXTRA_SECONDS if pool.capacity == "spot" else 0
    return NODE_SECONDS + large + spot


def image_seconds(cloud: Cloud) -> int:
    """Until the container runs on a GPU node that has never pulled the image."""
    if image_pull.method(cloud) == "streaming":
        return STREAMED_IMAGE_SECONDS
    return math.ceil(versions.VLLM_IMAGE_COMPRESSED_BYTES / PARALLEL_IMAGE_BYTES_PER_SECOND)


def warmup_seconds(model: ModelSpec) -> int:
    """vLLM's start once the weights are in GPU memory."""
    return ENGINE_SECONDS + (0 if model.enforce_eager else GRAPH_CAPTURE_SECONDS)


def weights_seconds(model: ModelSpec, source: Source) -> int:
    """Moving the weights into GPU memory: a hub download is written to disk and read back."""
    size = weight_bytes(model)
    if source == "stream":
        return math.ceil(size / STREAM_BYTES_PER_SECOND)
    if source == "cache":
        return math.ceil(size / DISK_BYTES_PER_SECOND)
    return math.ceil(size / HUB_BYTES_PER_SECOND + size / DISK_BYTES_PER_SECOND)


def source_of(model: ModelSpec, mirrored: bool = False) -> Source:
    """Where replicas read the weights: a mirrored hub model is streamed like any object-store
    model."""
    return "hub" if model.from_hub and not mirrored else "stream"


def cold_start(
    model: ModelSpec,
    pool: NodePoolSpec,
    cloud: Cloud,
    *,
    node_running: bool,
    mirrored: bool = False,
) -> ColdStart:
    """A replica on a node that has never run the model: a node boots unless one is running,
    the image is pulled, the weights come from the model's source (its mirror, if any)."""
    return ColdStart(
        node_seconds=0 if node_running else node_seconds(pool),
        image_seconds=image_seconds(cloud),
        weights_seconds=weights_seconds(model, source_of(model, mirrored)),
        warmup_seconds=warmup_seconds(model),
    )


def warm_start(model: ModelSpec, *, cache_kept: bool, mirrored: bool = False) -> ColdStart:
    """A replica on a node that already has the image: its weights come from its kept cache
    (a per-replica volume, pools in one zone) or again from the source."""
    source = "cache" if cache_kept else source_of(model, mirrored)
    return ColdStart(
        node_seconds=0,
        image_seconds=0,
        weights_seconds=weights_seconds(model, source),
        warmup_seconds=warmup_seconds(model),
    )


def on_pool(
    model: ModelSpec, pool: NodePoolSpec, cloud: Cloud, mirrored: bool = False
) -> ColdStart:
    """The wake-up time on the model's first pool: a node boots unless the pool keeps one
    (its own minNodes; a model at zero keeps none running)."""
    return cold_start(model, pool, cloud, node_running=pool.min_nodes > 0, mirrored=mirrored)


def hold_seconds(start: ColdStart) -> int:
    """How long the interceptor holds a request for a model waking up: the estimate with a
    margin, in whole minutes."""
    return 60 * math.ceil(MARGIN * start.total_seconds / 60)


def probe_seconds(model: ModelSpec, source: Source | None = None) -> int:
    """The startup probe's budget: the container starts after the node and the image, so it
    covers the weights from their source and the warm-up, with the margin."""
    loading = weights_seconds(model, source or source_of(model)) + warmup_seconds(model)
    return max(MIN_PROBE_SECONDS, MARGIN * loading)


def startup_estimates(
    cloud: Cloud, models: Mapping[str, ModelSpec], pools: Mapping[str, NodePoolSpec]
) -> dict[str, int]:
    """Each model's estimated time from its pod starting on a node of its first pool to Ready
    (image, weights, warm-up), as the dashboards compare with the measured start."""
    return {
        name: cold_start(
            model, pools[model.tiers[0]], cloud, node_running=True, mirrored=model.mirrored()
        ).total_seconds
        for name, model in models.items()
    }
