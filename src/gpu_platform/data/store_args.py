"""Typed args of a vector store: what the public store components (PgVector, ManagedPgVector,
Weaviate) take, in every language. Generated from gpu_platform.data.spec.VectorStoreSpec by
`make docs` (tools/argsgen.py); change the spec, not this file. The engine and mode are the
component's; acceptChanges belongs to the stack config's check of a deployed store."""

# No `from __future__ import annotations`: Pulumi's component analyzer reads these
# annotations as types.
from typing import NotRequired, TypedDict


class VectorStoreBackupsArgs(TypedDict):
    """Continuous backups of the store to the stack's own object storage."""

    enabled: NotRequired[bool]
    """Back up to a bucket the stack creates (WAL archiving plus a daily base backup); required when production is true. Default: false."""
    retention_days: NotRequired[int]
    """Days of backups to keep (point-in-time recovery window). Default: 7."""


class VectorStoreArgs(TypedDict):
    """One vector store per stack. Changing engine, dimensions or distance later means moving the
    data: see the README's vector store section."""

    instance_class: NotRequired[str]
    """managed only: the database machine, e.g. db.r7g.large (aws) or db-custom-2-7680 (gcp). Default: db.t4g.medium / db-custom-1-3840, in production db.r7g.large / db-custom-2-7680."""
    replicas: NotRequired[int]
    """pgvector: PostgreSQL instances (one primary, the rest streaming standbys that take over on a failure; at least 2 in production). weaviate: nodes, and the default collection's replication factor (at least 3 in production). Default: 1."""
    storage_gib: NotRequired[int]
    """Volume size per instance in GiB. Default: 20."""
    dimensions: NotRequired[int]
    """Size of the embeddings the default table or collection holds; equal to the embedding model's. pgvector: up to 2,000 as `vector`, up to 4,000 as `halfvec` (its HNSW limits). Default: 1024."""
    distance: NotRequired[str]
    """The distance the HNSW index serves: cosine, l2 or inner-product. One of: cosine, l2, inner-product. Default: cosine."""
    postgres_version: NotRequired[str]
    """pgvector only: PostgreSQL major version, 15, 16, 17 or 18. One of: 15, 16, 17, 18. Default: 17."""
    embedding_model: NotRequired[str]
    """weaviate only: the served embedding model (a `models` entry with task embed) Weaviate vectorizes text with, through its OpenAI-compatible module. Default: the only embedding model, if there is exactly one; with none, clients send vectors."""
    backups: NotRequired[VectorStoreBackupsArgs]
    """Backups to object storage."""
    client_namespaces: NotRequired[list[str]]
    """Namespaces whose pods may connect, besides `inference`; each gets the connection ConfigMap and credentials Secret. The namespaces must exist."""
