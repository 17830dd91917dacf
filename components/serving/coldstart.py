"""How long a model at zero replicas takes to answer its first request (pure functions).

The estimate adds up what has to happen, assuming nothing is warm: a GPU node boots and joins
(when the model's first pool keeps no node running), the vLLM image is pulled, the weights are
downloaded (hub) or streamed (object store), and vLLM loads them and captures its CUDA graphs.
Each part's rate is an assumption stated here, chosen on the slow side: a held request that
waits a little longer than needed costs nothing, one that times out fails. Measure a real cold
start and adjust these when they are off for your cloud.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from components.catalog import Cloud
from components.pools import NodePoolSpec
from components.serving.sizing import BYTES_PER_PARAM
from components.serving.spec import ModelSpec

# A GPU instance from the autoscaler's request to a Ready node advertising its GPUs: launch,
# boot, join, and the GPU agents (device plugin) starting.
NODE_SECONDS: dict[Cloud, int] = {"aws": 300, "gcp": 300}
# The vllm/vllm-openai image is about 10 GB; pulled at 100 MB/s.
IMAGE_SECONDS = 100
HUB_BYTES_PER_SECOND = 100e6  # Hugging Face hub downloads, one replica
STREAM_BYTES_PER_SECOND = 500e6  # vLLM's Run:ai streamer from S3 / GCS in the same region
LOAD_SECONDS = 60  # engine start, weights into GPU memory, CUDA graph capture
# The interceptor holds a request this many times the estimate before giving up (504).
HOLD_FACTOR = 2


@dataclass(frozen=True)
class ColdStart:
    node_seconds: int
    image_seconds: int
    weights_seconds: int
    load_seconds: int

    @property
    def total_seconds(self) -> int:
        return self.node_seconds + self.image_seconds + self.weights_seconds + self.load_seconds

    def describe(self) -> str:
        parts = [
            ("node", self.node_seconds),
            ("image", self.image_seconds),
            ("weights", self.weights_seconds),
            ("load", self.load_seconds),
        ]
        detail = ", ".join(f"{name} {_minutes(s)}" for name, s in parts if s)
        return f"about {_minutes(self.total_seconds)} ({detail})"


def _minutes(seconds: int) -> str:
    return f"{seconds} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def weight_bytes(model: ModelSpec) -> float:
    return model.parameters_b * 1e9 * BYTES_PER_PARAM[model.quantization]


def cold_start(cloud: Cloud, model: ModelSpec, node_running: bool) -> ColdStart:
    """The wake-up time of one replica; `node_running` when its first pool keeps a node with
    room (its minimum) so no node has to boot."""
    rate = HUB_BYTES_PER_SECOND if model.from_hub else STREAM_BYTES_PER_SECOND
    return ColdStart(
        node_seconds=0 if node_running else NODE_SECONDS[cloud],
        image_seconds=IMAGE_SECONDS,
        weights_seconds=math.ceil(weight_bytes(model) / rate),
        load_seconds=LOAD_SECONDS,
    )


def on_pool(cloud: Cloud, model: ModelSpec, pool: NodePoolSpec) -> ColdStart:
    """The wake-up time on the model's first pool: a node boots unless the pool keeps one
    (its own minNodes; a model at zero keeps none running)."""
    return cold_start(cloud, model, node_running=pool.min_nodes > 0)


def hold_seconds(start: ColdStart) -> int:
    """How long the interceptor holds a request for a model waking up: the estimate with a
    margin, in whole minutes."""
    return 60 * math.ceil(HOLD_FACTOR * start.total_seconds / 60)
