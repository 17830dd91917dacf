"""The `models` section of the stack config: one entry per vLLM deployment."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from gpu_platform.serving.embeddings import known_dimensions
from gpu_platform.serving.sizing import is_power_of_two
from gpu_platform.spec import Problem, Spec, raise_problems

MODEL_NAME_PATTERN = r"^[a-z]([a-z0-9-]{0,39}[a-z0-9])?$"
ModelName = Annotated[str, StringConstraints(pattern=MODEL_NAME_PATTERN)]

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$", re.ASCII)
_OBJECT_STORE = re.compile(r"^(s3|gs)://[a-z0-9][a-z0-9._-]{1,62}/\S*$", re.ASCII)
_COMMIT = re.compile(r"^[0-9a-f]{40}$", re.ASCII)
# A repository with a tag, a digest, or both (`name:tag@sha256:...`).
_IMAGE = re.compile(r"^[\w./-]+(:[\w.-]+)?(@sha256:[0-9a-f]{64})?$", re.ASCII)


class KvShapeSpec(Spec):
    """The attention shape that sizes the KV cache (from the model's config.json)."""

    layers: int = Field(ge=1, le=512, description="num_hidden_layers.")
    kv_heads: int = Field(ge=1, le=512, description="num_key_value_heads.")
    head_dim: int = Field(
        ge=16, le=1024, description="head_dim (hidden_size / num_attention_heads)."
    )


class ModelSpec(Spec):
    """One model served by vLLM on a GPU pool."""

    source: str = Field(
        description=(
            "Hugging Face hub id `org/name`, or an `s3://` (aws) / `gs://` (gcp) prefix holding "
            "the weights."
        )
    )
    task: Literal["generate", "embed"] = Field(
        "generate",
        description=(
            "generate: a chat/completions model. embed: an embedding model, served by vLLM's "
            "pooling runner on /v1/embeddings."
        ),
    )
    revision: str | None = Field(
        None,
        description=(
            "Hub commit (40 hex digits) to serve; required when production is true. Not used "
            "with object-store sources."
        ),
    )
    node_pool: str | None = Field(
        None,
        description="The GPU pool to run on; must have workload inference. Or nodePools.",
    )
    node_pools: list[str] | None = Field(
        None,
        min_length=1,
        max_length=8,
        description=(
            "Pools in order of preference (tiers), e.g. reserved, then spot, then on-demand: "
            "replicas go to the first with room and overflow in order. All must have the same "
            "GPU and sharing. Instead of nodePool."
        ),
    )
    gpus_per_replica: int = Field(
        1,
        ge=1,
        le=16,
        description="Tensor-parallel size: a power of two, at most the pool's gpusPerNode.",
    )
    min_replicas: int = Field(
        1,
        ge=0,
        description=(
            "Fewest replicas. 0 scales the model to zero when idle: KEDA's HTTP add-on holds "
            "the next request while a replica starts (production: with allowScaleToZero)."
        ),
    )
    max_replicas: int = Field(ge=1, le=100, description="Most replicas; at least minReplicas.")
    max_model_len: int = Field(
        8192,
        ge=256,
        le=1048576,
        description=(
            "Longest sequence (prompt + output) in tokens; an embedding model must set its own."
        ),
    )
    dtype: Literal["auto", "bfloat16", "float16"] = Field(
        "auto", description="Weight and activation dtype: auto, bfloat16 or float16."
    )
    quantization: Literal["fp8", "awq", "gptq"] | None = Field(
        None, description="Weight quantization: fp8, awq, gptq, or null for none."
    )
    parameters_b: float = Field(
        gt=0, le=2000, description="Model size in billions of parameters, for the fit check."
    )
    kv_cache: KvShapeSpec | None = Field(
        None,
        description=(
            "The model's attention shape, for the KV-cache estimate. Default: the shape of a "
            "Llama/Qwen/Mistral model of that size (8 KV heads of 128 dims)."
        ),
    )
    image: str | None = Field(
        None,
        description=(
            "Container image instead of the pinned vllm/vllm-openai release; a tag other than "
            "latest, or a digest."
        ),
    )
    gpu_memory_utilization: float = Field(
        0.9,
        ge=0.5,
        le=0.98,
        description=(
            "Share of each GPU's memory vLLM may use (divided by the sharing replicas on a "
            "time-slicing pool)."
        ),
    )
    queue_per_replica: int = Field(
        4,
        ge=1,
        le=1000,
        description="Scale out when more requests than this wait per replica.",
    )
    kv_cache_target: float = Field(
        0.8,
        gt=0,
        le=1,
        description="Scale out when the average KV-cache usage passes this fraction.",
    )
    cache_gib: int | None = Field(
        None,
        alias="cacheGiB",
        ge=10,
        le=16384,
        description=(
            "Model cache size in GiB. Default: two revisions of 16-bit weights, rounded up to "
            "50 GiB. Changing the size of per-replica caches recreates the model's replicas."
        ),
    )
    mirror: bool | None = Field(
        None,
        description=(
            "A hub model with a revision is mirrored once into the stack's weights bucket "
            "(S3 or GCS), verified, and streamed from there (the default). false: replicas "
            "download from the hub (production warns)."
        ),
    )
    enforce_eager: bool = Field(
        False,
        description=(
            "Run vLLM without CUDA graphs (--enforce-eager): a start skips capturing them "
            "(about 30 s) and decoding is slower; for development and debugging."
        ),
    )
    cold_start_budget_minutes: int = Field(
        10,
        ge=1,
        le=240,
        description=(
            "The plan warns when the model's estimated cold start (a new node, the image, the "
            "weights, the warm-up) takes longer, and names the biggest part."
        ),
    )
    allow_scale_to_zero: bool = Field(
        False,
        description=(
            "production: accept minReplicas 0, whose first request after idle waits for a "
            "cold start (the error without it says how long)."
        ),
    )
    allow_colocation: bool = Field(
        False,
        description=(
            "production: let replicas share a node (and a zone), giving up surviving a node "
            "loss; the plan warns. Default: each replica on its own node, and zones apart "
            "where the pool spans several."
        ),
    )
    ttft_p95_seconds: float | None = Field(
        None,
        gt=0,
        le=600,
        description=(
            "This model's SLO: p95 time to first token in seconds (ModelTTFTAboveSLO). "
            "Default: observability.alerts.ttftP95Seconds."
        ),
    )
    dimensions: int | None = Field(
        None,
        ge=1,
        le=65536,
        description=(
            "embed only: size of the vectors the model returns, when the platform's catalogue "
            "of embedding models does not know it (it must equal vectorStore.dimensions)."
        ),
    )
    fallback_replicas: int | None = Field(
        None,
        ge=1,
        description=(
            "Replicas to hold while the autoscaler cannot read metrics. Default: minReplicas, "
            "at least 1."
        ),
    )

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        if not (_HUB_ID.fullmatch(value) or _OBJECT_STORE.fullmatch(value)):
            raise ValueError(
                "use a hub id such as meta-llama/Llama-3.1-8B-Instruct or s3:// / gs://"
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _removed(cls, data: object) -> object:
        if isinstance(data, dict) and "cacheStorageClass" in data:
            raise_problems(
                [
                    Problem(
                        ("cacheStorageClass",),
                        "no longer supported: the platform installs no ReadWriteMany storage "
                        "driver, so the claim could never bind. Remove it; weights in s3:// or "
                        "gs:// are streamed without a cache, others are cached per replica",
                    )
                ]
            )
        return data

    @field_validator("image")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        if value is None:
            return None
        match = _IMAGE.fullmatch(value)
        tag, digest = (match.group(1), match.group(2)) if match else (None, None)
        if not (tag or digest) or tag == ":latest":
            raise ValueError("pin the image to a release tag or digest (never latest)")
        return value

    @property
    def tiers(self) -> tuple[str, ...]:
        """The model's pools, most preferred first (one for the nodePool form)."""
        return tuple(self.node_pools) if self.node_pools else (self.node_pool or "",)

    def tier_path(self, index: int) -> tuple[str | int, ...]:
        """Where a pool of the model is named in the config, for problems about it."""
        return ("nodePools", index) if self.node_pools else ("nodePool",)

    @property
    def from_hub(self) -> bool:
        return not _OBJECT_STORE.fullmatch(self.source)

    @property
    def embedding_dimensions(self) -> int | None:
        """The size of the vectors an embedding model returns, when it is known."""
        if self.task != "embed":
            return None
        return self.dimensions or known_dimensions(self.source)

    @property
    def effective_fallback(self) -> int:
        return self.fallback_replicas or max(1, self.min_replicas)

    def mirrored(self) -> bool:
        """Whether the platform mirrors the model into the stack's bucket."""
        return self.from_hub and self.revision is not None and self.mirror is not False

    @property
    def scales_to_zero(self) -> bool:
        return self.min_replicas == 0

    @model_validator(mode="after")
    def _rules(self) -> ModelSpec:
        problems: list[Problem] = []
        if (self.node_pool is None) == (self.node_pools is None):
            problems.append(
                Problem(
                    ("nodePool",),
                    "set nodePool (one pool) or nodePools (pools in order of preference), not both",
                )
            )
        elif self.node_pools:
            for index, name in enumerate(self.node_pools):
                if name in self.node_pools[:index]:
                    problems.append(Problem(("nodePools", index), f"{name} is listed twice"))
        if self.min_replicas > self.max_replicas:
            problems.append(
                Problem(
                    ("minReplicas",),
                    f"minReplicas ({self.min_replicas}) is greater than maxReplicas "
                    f"({self.max_replicas})",
                )
            )
        if not is_power_of_two(self.gpus_per_replica):
            problems.append(
                Problem(("gpusPerReplica",), "tensor parallelism needs a power of two: 1, 2, 4, 8")
            )
        if self.task == "embed" and "max_model_len" not in self.model_fields_set:
            problems.append(
                Problem(
                    ("maxModelLen",),
                    "set it for an embedding model: its context length (often 512 or 8192, "
                    "max_position_embeddings in its config.json); vLLM refuses to start with a "
                    "longer one than the model has",
                )
            )
        if self.dimensions is not None:
            known = known_dimensions(self.source)
            if self.task != "embed":
                problems.append(
                    Problem(("dimensions",), "only an embedding model (task: embed) has it")
                )
            elif known is not None and known != self.dimensions:
                problems.append(
                    Problem(
                        ("dimensions",),
                        f"{self.source} returns {known}-dimensional embeddings; remove it",
                    )
                )
        fallback = self.fallback_replicas
        if fallback is not None and not self.min_replicas <= fallback <= self.max_replicas:
            problems.append(
                Problem(("fallbackReplicas",), "must be between minReplicas and maxReplicas")
            )
        if self.revision is not None:
            if not self.from_hub:
                problems.append(
                    Problem(("revision",), "object-store sources have no revision; remove it")
                )
            elif not _COMMIT.fullmatch(self.revision):
                problems.append(
                    Problem(
                        ("revision",),
                        "pin a commit (40 hex digits): branches and tags can move",
                    )
                )
        raise_problems(problems)
        return self
