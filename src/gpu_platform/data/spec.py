"""The `vectorStore` section of the stack config: the store retrieval-augmented applications
keep their embeddings in."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from gpu_platform.data.pgvector_schema import column_type
from gpu_platform.spec import Problem, Spec, raise_problems

# Kubernetes namespace names (RFC 1123 labels).
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", re.ASCII)

# PostgreSQL majors with community support on 2026-12-01 (postgresql.org/support/versioning:
# 14 ended in November 2026) that CloudNativePG ships images with pgvector for.
PostgresVersion = Literal["15", "16", "17", "18"]

# A production store survives the loss of one instance: PostgreSQL needs a primary and a standby
# (CloudNativePG fails over to it), Weaviate three nodes (its Raft schema store keeps a majority
# with one down).
MIN_PRODUCTION_REPLICAS = {"pgvector": 2, "weaviate": 3}
WEAVIATE_MAX_DIMENSIONS = 65535
MANAGED_MIN_STORAGE_GIB = 20


class BackupsSpec(Spec):
    """Continuous backups of the store to the stack's own object storage."""

    enabled: bool = Field(
        False,
        description=(
            "Back up to a bucket the stack creates (WAL archiving plus a daily base backup); "
            "required when production is true."
        ),
    )
    retention_days: int = Field(
        7, ge=1, le=3650, description="Days of backups to keep (point-in-time recovery window)."
    )


class VectorStoreSpec(Spec):
    """One vector store per stack. Changing engine, dimensions or distance later means moving
    the data: see the README's vector store section."""

    engine: Literal["pgvector", "weaviate", "none"] = Field(
        "none",
        description=(
            "pgvector: PostgreSQL with the pgvector extension, run by the CloudNativePG operator "
            "in the `data` namespace. weaviate: Weaviate from its Helm chart in `data`. none: no "
            "vector store."
        ),
    )
    mode: Literal["in-cluster", "managed"] = Field(
        "in-cluster",
        description=(
            "in-cluster: the store runs on the cluster's system nodes. managed (pgvector only): "
            "Amazon RDS for PostgreSQL (aws) or Cloud SQL for PostgreSQL (gcp) in the cluster's "
            "network, with a private address only."
        ),
    )
    instance_class: str | None = Field(
        None,
        description=(
            "managed only: the database machine, e.g. db.r7g.large (aws) or db-custom-2-7680 "
            "(gcp). Default: db.t4g.medium / db-custom-1-3840, in production db.r7g.large / "
            "db-custom-2-7680."
        ),
    )
    replicas: int = Field(
        1,
        ge=1,
        le=9,
        description=(
            "pgvector: PostgreSQL instances (one primary, the rest streaming standbys that take "
            "over on a failure; at least 2 in production). weaviate: nodes, and the default "
            "collection's replication factor (at least 3 in production)."
        ),
    )
    storage_gib: int = Field(
        20, alias="storageGiB", ge=1, le=16384, description="Volume size per instance in GiB."
    )
    dimensions: int = Field(
        1024,
        ge=1,
        description=(
            "Size of the embeddings the default table or collection holds; equal to the "
            "embedding model's. pgvector: up to 2,000 as `vector`, up to 4,000 as `halfvec` "
            "(its HNSW limits)."
        ),
    )
    distance: Literal["cosine", "l2", "inner-product"] = Field(
        "cosine", description="The distance the HNSW index serves: cosine, l2 or inner-product."
    )
    postgres_version: PostgresVersion = Field(
        "17", description="pgvector only: PostgreSQL major version, 15, 16, 17 or 18."
    )
    embedding_model: str | None = Field(
        None,
        description=(
            "weaviate only: the served embedding model (a `models` entry with task embed) "
            "Weaviate vectorizes text with, through its OpenAI-compatible module. Default: the "
            "only embedding model, if there is exactly one; with none, clients send vectors."
        ),
    )
    backups: BackupsSpec = Field(
        default_factory=BackupsSpec, description="Backups to object storage."
    )
    accept_changes: tuple[Literal["engine", "mode", "dimensions", "distance"], ...] = Field(
        (),
        description=(
            "production: changes to the deployed store made deliberately, after moving its data "
            "(see the README's 'Changing a production vector store'); remove after the update."
        ),
    )
    client_namespaces: tuple[str, ...] = Field(
        (),
        description=(
            "Namespaces whose pods may connect, besides `inference`; each gets the connection "
            "ConfigMap and credentials Secret. The namespaces must exist."
        ),
    )

    @field_validator("client_namespaces")
    @classmethod
    def _namespaces(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not _NAMESPACE.fullmatch(name):
                raise ValueError(
                    f"{name!r} is not a namespace name: lowercase letters, digits and '-', at "
                    "most 63 characters"
                )
        if len(set(value)) != len(value):
            raise ValueError("lists a namespace twice")
        if "inference" in value:
            raise ValueError("inference is always a client; remove it")
        return value

    @property
    def enabled(self) -> bool:
        return self.engine != "none"

    @model_validator(mode="after")
    def _rules(self) -> VectorStoreSpec:
        problems: list[Problem] = []
        if not self.enabled:
            problems += [
                Problem((key,), "not used with engine none; remove it or choose an engine")
                for key in self.model_dump(by_alias=True, exclude_unset=True)
                if key not in ("engine", "acceptChanges")
            ]
        elif self.engine == "pgvector":
            problems += self._managed_problems()
            try:
                column_type(self.dimensions)
            except ValueError as error:
                problems.append(Problem(("dimensions",), str(error)))
            if "embedding_model" in self.model_fields_set:
                problems.append(
                    Problem(
                        ("embeddingModel",),
                        "weaviate only: pgvector stores the vectors clients send; remove it",
                    )
                )
        else:
            if self.dimensions > WEAVIATE_MAX_DIMENSIONS:
                problems.append(
                    Problem(
                        ("dimensions",),
                        f"at most {WEAVIATE_MAX_DIMENSIONS:,}, the longest vector Weaviate stores",
                    )
                )
            if "postgres_version" in self.model_fields_set:
                problems.append(
                    Problem(("postgresVersion",), "pgvector only: Weaviate is not PostgreSQL")
                )
            if self.mode == "managed":
                problems.append(
                    Problem(
                        ("mode",),
                        "managed is pgvector only (RDS on aws, Cloud SQL on gcp); Weaviate runs "
                        "in-cluster",
                    )
                )
        if self.instance_class is not None and self.mode != "managed":
            problems.append(
                Problem(("instanceClass",), "managed only: in-cluster stores use system nodes")
            )
        raise_problems(problems)
        return self

    def _managed_problems(self) -> list[Problem]:
        if self.mode != "managed":
            return []
        problems = []
        if "replicas" in self.model_fields_set:
            problems.append(
                Problem(
                    ("replicas",),
                    "not used with managed: production runs a standby in another zone (RDS "
                    "Multi-AZ, Cloud SQL regional); remove it",
                )
            )
        if self.storage_gib < MANAGED_MIN_STORAGE_GIB:
            problems.append(
                Problem(
                    ("storageGiB",),
                    f"at least {MANAGED_MIN_STORAGE_GIB} for a managed database (RDS gp3 "
                    "storage starts there)",
                )
            )
        return problems


def production_problems(store: VectorStoreSpec, system_max_nodes: int | None) -> list[Problem]:
    """What a production store needs: standbys on separate nodes (when the number of system
    nodes is known), and backups."""
    if not store.enabled:
        return []
    problems = []
    if not store.backups.enabled:
        problems.append(
            Problem(
                ("backups", "enabled"),
                "production keeps backups: set it to true (a standby does not undo a dropped "
                "table)",
            )
        )
    if store.mode == "managed":
        return problems  # the provider runs the standby
    least = MIN_PRODUCTION_REPLICAS[store.engine]
    if store.replicas < least:
        problems.append(
            Problem(
                ("replicas",),
                f"production needs at least {least} (a primary and a standby that takes over "
                "when a node or zone fails)",
            )
        )
    if system_max_nodes is not None and store.replicas > system_max_nodes:
        problems.append(
            Problem(
                ("replicas",),
                f"{store.replicas} instances need {store.replicas} system nodes (production "
                f"keeps each on its own node) but cluster.systemNodes.maxNodes is "
                f"{system_max_nodes}; raise it or lower replicas",
            )
        )
    return problems


def vectorizer(store: VectorStoreSpec, embedding_models: list[str]) -> str | None:
    """The served model Weaviate vectorizes text with: the one named, else the only embedding
    model; None for pgvector or when there is none (clients then send vectors)."""
    if store.engine != "weaviate":
        return None
    if store.embedding_model is not None:
        return store.embedding_model
    return embedding_models[0] if len(embedding_models) == 1 else None


def vectorizer_problems(store: VectorStoreSpec, embedding_models: list[str]) -> list[Problem]:
    if store.engine != "weaviate":
        return []
    if store.embedding_model is not None and store.embedding_model not in embedding_models:
        served = ", ".join(embedding_models) or "none"
        return [
            Problem(
                ("embeddingModel",),
                f"not a served embedding model (models with task embed: {served})",
            )
        ]
    if store.embedding_model is None and len(embedding_models) > 1:
        return [
            Problem(
                ("embeddingModel",),
                f"several embedding models are served ({', '.join(embedding_models)}): name the "
                "one Weaviate vectorizes with",
            )
        ]
    return []
