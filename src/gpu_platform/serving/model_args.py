"""Typed args of a served model: what the public model service takes, in every language. Generated
from gpu_platform.serving.spec.ModelSpec by `make docs` (tools/argsgen.py); change the spec, not
this file."""

# No `from __future__ import annotations`: Pulumi's component analyzer reads these
# annotations as types.
from typing import NotRequired, TypedDict


class KvShapeArgs(TypedDict):
    """The attention shape that sizes the KV cache (from the model's config.json)."""

    layers: int
    """num_hidden_layers."""
    kv_heads: int
    """num_key_value_heads."""
    head_dim: int
    """head_dim (hidden_size / num_attention_heads)."""


class ModelArgs(TypedDict):
    """One model served by vLLM on a GPU pool."""

    source: str
    """Hugging Face hub id `org/name`, or an `s3://` (aws) / `gs://` (gcp) prefix holding the weights."""
    task: NotRequired[str]
    """generate: a chat/completions model. embed: an embedding model, served by vLLM's pooling runner on /v1/embeddings. One of: generate, embed. Default: generate."""
    revision: NotRequired[str]
    """Hub commit (40 hex digits) to serve; required when production is true. Not used with object-store sources."""
    node_pool: NotRequired[str]
    """The GPU pool to run on; must have workload inference. Or nodePools."""
    node_pools: NotRequired[list[str]]
    """Pools in order of preference (tiers), e.g. reserved, then spot, then on-demand: replicas go to the first with room and overflow in order. All must have the same GPU and sharing. Instead of nodePool."""
    gpus_per_replica: NotRequired[int]
    """Tensor-parallel size: a power of two, at most the pool's gpusPerNode. Default: 1."""
    min_replicas: NotRequired[int]
    """Fewest replicas. 0 scales the model to zero when idle: KEDA's HTTP add-on holds the next request while a replica starts (production: with allowScaleToZero). Default: 1."""
    max_replicas: int
    """Most replicas; at least minReplicas."""
    max_model_len: NotRequired[int]
    """Longest sequence (prompt + output) in tokens; an embedding model must set its own. Default: 8192."""
    dtype: NotRequired[str]
    """Weight and activation dtype: auto, bfloat16 or float16. One of: auto, bfloat16, float16. Default: auto."""
    quantization: NotRequired[str]
    """Weight quantization: fp8, awq, gptq, or null for none. One of: fp8, awq, gptq."""
    parameters_b: float
    """Model size in billions of parameters, for the fit check."""
    kv_cache: NotRequired[KvShapeArgs]
    """The model's attention shape, for the KV-cache estimate. Default: the shape of a Llama/Qwen/Mistral model of that size (8 KV heads of 128 dims)."""
    image: NotRequired[str]
    """Container image instead of the pinned vllm/vllm-openai release; a tag other than latest, or a digest."""
    gpu_memory_utilization: NotRequired[float]
    """Share of each GPU's memory vLLM may use (divided by the sharing replicas on a time-slicing pool). Default: 0.9."""
    queue_per_replica: NotRequired[int]
    """Scale out when more requests than this wait per replica. Default: 4."""
    kv_cache_target: NotRequired[float]
    """Scale out when the average KV-cache usage passes this fraction. Default: 0.8."""
    cache_gib: NotRequired[int]
    """Model cache size in GiB. Default: two revisions of 16-bit weights, rounded up to 50 GiB. Changing the size of per-replica caches recreates the model's replicas."""
    mirror: NotRequired[bool]
    """A hub model with a revision is mirrored once into the stack's weights bucket (S3 or GCS), verified, and streamed from there (the default). false: replicas download from the hub (production warns)."""
    enforce_eager: NotRequired[bool]
    """Run vLLM without CUDA graphs (--enforce-eager): a start skips capturing them (about 30 s) and decoding is slower; for development and debugging. Default: false."""
    cold_start_budget_minutes: NotRequired[int]
    """The plan warns when the model's estimated cold start (a new node, the image, the weights, the warm-up) takes longer, and names the biggest part. Default: 10."""
    allow_scale_to_zero: NotRequired[bool]
    """production: accept minReplicas 0, whose first request after idle waits for a cold start (the error without it says how long). Default: false."""
    allow_colocation: NotRequired[bool]
    """production: let replicas share a node (and a zone), giving up surviving a node loss; the plan warns. Default: each replica on its own node, and zones apart where the pool spans several. Default: false."""
    ttft_p95_seconds: NotRequired[float]
    """This model's SLO: p95 time to first token in seconds (ModelTTFTAboveSLO). Default: observability.alerts.ttftP95Seconds."""
    dimensions: NotRequired[int]
    """embed only: size of the vectors the model returns, when the platform's catalogue of embedding models does not know it (it must equal vectorStore.dimensions)."""
    fallback_replicas: NotRequired[int]
    """Replicas to hold while the autoscaler cannot read metrics. Default: minReplicas, at least 1."""
