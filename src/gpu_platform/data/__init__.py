"""Vector stores for retrieval: the schema pgvector databases are bootstrapped with."""
