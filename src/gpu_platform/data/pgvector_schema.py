"""The SQL that prepares a PostgreSQL database for embeddings (pure text, one place for every
pgvector deployment): the extension, a table owner and a least-privilege application role, the
default table, and an HNSW index for the store's distance.

pgvector's HNSW index takes `vector` columns of up to 2,000 dimensions and `halfvec` (16-bit
floats, half the memory) of up to 4,000: the column type follows the dimensions, and more than
4,000 cannot be indexed. Every statement is idempotent, so the same script runs again safely
(after a restore, or when a Job retries); run against a table made for another size or
distance, it fails with a message instead of leaving the store unlike its config.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Distance = Literal["cosine", "l2", "inner-product"]

VECTOR_MAX_DIMENSIONS = 2000
HALFVEC_MAX_DIMENSIONS = 4000
# pgvector's operator and HNSW operator-class suffix per distance (README of pgvector 0.8).
OPERATORS: dict[str, tuple[str, str]] = {
    "cosine": ("<=>", "cosine_ops"),
    "l2": ("<->", "l2_ops"),
    "inner-product": ("<#>", "ip_ops"),
}
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}", re.ASCII)


@dataclass(frozen=True)
class VectorSchema:
    dimensions: int
    distance: Distance
    schema: str = "rag"
    table: str = "embeddings"
    owner: str = "rag_owner"
    """Owns the schema and table (migrations run as it); applications never log in as it."""
    app_role: str = "rag_app"
    """What applications log in as: read and write rows, nothing else."""

    def __post_init__(self) -> None:
        for name in (self.schema, self.table, self.owner, self.app_role):
            if not _IDENTIFIER.fullmatch(name):
                raise ValueError(f"{name!r} is not a plain SQL identifier")
        if len(f"{self.table}_embedding_hnsw") > 63:
            # PostgreSQL cuts longer names, and the two index names would become one.
            raise ValueError(f"table name {self.table!r} is too long for its index names")
        if self.owner == self.app_role:
            raise ValueError("the table owner and the application role must differ")
        if self.distance not in OPERATORS:
            raise ValueError(f"distance {self.distance!r} is not one of {sorted(OPERATORS)}")
        column_type(self.dimensions)


def column_type(dimensions: int) -> str:
    """`vector` while an HNSW index takes it, then `halfvec`; more cannot be indexed."""
    if dimensions < 1:
        raise ValueError(f"{dimensions} dimensions: an embedding has at least 1")
    if dimensions <= VECTOR_MAX_DIMENSIONS:
        return "vector"
    if dimensions <= HALFVEC_MAX_DIMENSIONS:
        return "halfvec"
    raise ValueError(
        f"{dimensions} dimensions is more than pgvector's HNSW index takes "
        f"({VECTOR_MAX_DIMENSIONS:,} as vector, {HALFVEC_MAX_DIMENSIONS:,} as halfvec); use an "
        "embedding model with fewer dimensions (many can truncate theirs)"
    )


def operator(distance: Distance) -> str:
    """The pgvector operator a nearest-neighbour query orders by (`ORDER BY embedding <op> $1`);
    the index serves only that one."""
    return OPERATORS[distance][0]


def render_bootstrap_sql(schema: VectorSchema) -> str:
    """The whole bootstrap, run as a superuser (or the managed service's admin) in the
    application database."""
    kind = column_type(schema.dimensions)
    ops = f"{kind}_{OPERATORS[schema.distance][1]}"
    column = f"{kind}({schema.dimensions})"
    s, t, owner, app = schema.schema, schema.table, schema.owner, schema.app_role
    return f"""\
CREATE EXTENSION IF NOT EXISTS vector;

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{owner}') THEN
    CREATE ROLE {owner} NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{app}') THEN
    CREATE ROLE {app} LOGIN;
  END IF;
END
$$;

-- Managed services' admins are not superusers: they act as the owner through membership.
GRANT {owner} TO CURRENT_USER;

-- Nobody but owners creates objects in public; the application role creates nothing anywhere.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA IF NOT EXISTS {s} AUTHORIZATION {owner};
REVOKE ALL ON SCHEMA {s} FROM PUBLIC;

SET ROLE {owner};
CREATE TABLE IF NOT EXISTS {s}.{t} (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  collection text NOT NULL DEFAULT 'default',
  content text NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{{}}',
  embedding {kind}({schema.dimensions}) NOT NULL
);

-- A table made for other settings is never changed in place: rewriting every stored vector
-- is a migration (see the README), not a bootstrap.
DO $$
DECLARE
  found_type text;
  found_ops text;
BEGIN
  SELECT format_type(a.atttypid, a.atttypmod) INTO found_type FROM pg_attribute a
   WHERE a.attrelid = '{s}.{t}'::regclass AND a.attname = 'embedding';
  IF found_type IS DISTINCT FROM '{column}' THEN
    RAISE EXCEPTION '{s}.{t}.embedding is %, but the store is configured for {column}', found_type
      USING HINT = 'Embeddings of another size cannot be stored in this table: migrate them '
        'into a new table (see the README) or set the store back to the size it was made with.';
  END IF;
  SELECT o.opcname INTO found_ops FROM pg_index i JOIN pg_opclass o ON o.oid = i.indclass[0]
   WHERE i.indexrelid = to_regclass('{s}.{t}_embedding_hnsw');
  IF found_ops IS DISTINCT FROM '{ops}' AND found_ops IS NOT NULL THEN
    RAISE EXCEPTION '{s}.{t}_embedding_hnsw serves %, but the store is configured for {ops}',
      found_ops
      USING HINT = 'Build an index for the new distance beside the old one (see the README), '
        'or set the store back to the distance it was made with.';
  END IF;
END
$$;

CREATE INDEX IF NOT EXISTS {t}_embedding_hnsw ON {s}.{t} USING hnsw (embedding {ops});
CREATE INDEX IF NOT EXISTS {t}_collection ON {s}.{t} (collection);
RESET ROLE;

GRANT USAGE ON SCHEMA {s} TO {app};
GRANT SELECT, INSERT, UPDATE, DELETE ON {s}.{t} TO {app};
"""
