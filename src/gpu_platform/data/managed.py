"""Managed pgvector (pure decisions): the database machine per cloud and environment, and what
each provider accepts for it.

- AWS: Amazon RDS for PostgreSQL. Instance classes are `db.<family>.<size>`; automated backups
  are kept 1 to 35 days.
- GCP: Cloud SQL for PostgreSQL. Tiers are `db-custom-<vCPUs>-<MiB>` (or the shared and
  performance-optimized ones); daily backups are kept up to 365, and the write-ahead log for
  point-in-time recovery at most 7 days.
"""

from __future__ import annotations

import re

from gpu_platform.catalog import Cloud
from gpu_platform.data.spec import VectorStoreSpec
from gpu_platform.spec import Problem

DEFAULT_INSTANCE_CLASS: dict[tuple[Cloud, bool], str] = {
    ("aws", False): "db.t4g.medium",
    ("aws", True): "db.r7g.large",
    ("gcp", False): "db-custom-1-3840",
    ("gcp", True): "db-custom-2-7680",
}
_RDS_CLASS = re.compile(r"db\.[a-z][a-z0-9-]*\.[a-z0-9]+", re.ASCII)
_CLOUD_SQL_TIER = re.compile(
    r"db-custom-\d{1,2}-\d{3,6}|db-perf-optimized-N-\d{1,2}|db-f1-micro|db-g1-small", re.ASCII
)
MAX_RETENTION_DAYS: dict[Cloud, int] = {"aws": 35, "gcp": 365}
CLOUD_SQL_MAX_LOG_DAYS = 7


def instance_class(store: VectorStoreSpec, cloud: Cloud, production: bool) -> str:
    return store.instance_class or DEFAULT_INSTANCE_CLASS[(cloud, production)]


def problems(store: VectorStoreSpec, cloud: Cloud) -> list[Problem]:
    """What the cloud's managed PostgreSQL does not accept (paths relative to vectorStore)."""
    if not store.enabled or store.mode != "managed":
        return []
    found = []
    pattern, example = (
        (_RDS_CLASS, "db.r7g.large") if cloud == "aws" else (_CLOUD_SQL_TIER, "db-custom-2-7680")
    )
    if store.instance_class is not None and not pattern.fullmatch(store.instance_class):
        found.append(
            Problem(
                ("instanceClass",),
                f"not a {'RDS instance class' if cloud == 'aws' else 'Cloud SQL tier'}, such as "
                f"{example}",
            )
        )
    most = MAX_RETENTION_DAYS[cloud]
    if store.backups.retention_days > most:
        found.append(
            Problem(
                ("backups", "retentionDays"),
                f"{'RDS' if cloud == 'aws' else 'Cloud SQL'} keeps automated backups at most "
                f"{most} days; keep longer ones as manual snapshots or exports",
            )
        )
    return found
