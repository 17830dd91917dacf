"""Embedding models the platform knows the output size of, so a store whose `dimensions` differs
from its model's is caught before anything is deployed.

Each size is the model's `hidden_size` in its config.json on the Hugging Face hub (the pooled
output of these encoders is that wide), as its model card states it too.
"""

from __future__ import annotations

EMBEDDING_DIMENSIONS: dict[str, int] = {
    "BAAI/bge-m3": 1024,
    "BAAI/bge-large-en-v1.5": 1024,
    "BAAI/bge-base-en-v1.5": 768,
    "BAAI/bge-small-en-v1.5": 384,
    "intfloat/multilingual-e5-large": 1024,
    "intfloat/e5-mistral-7b-instruct": 4096,
    "sentence-transformers/all-MiniLM-L6-v2": 384,
    "Snowflake/snowflake-arctic-embed-l-v2.0": 1024,
    "Qwen/Qwen3-Embedding-0.6B": 1024,
    "Qwen/Qwen3-Embedding-4B": 2560,
    "Qwen/Qwen3-Embedding-8B": 4096,
}


def known_dimensions(source: str) -> int | None:
    """The output size of a known hub model (matched without regard to case, as the hub
    resolves ids), or None."""
    wanted = source.lower()
    return next((d for name, d in EMBEDDING_DIMENSIONS.items() if name.lower() == wanted), None)
