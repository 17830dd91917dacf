"""List prices of the managed databases the vector store can run on (us-east-1 / us-central1,
as of the catalog's date; rounded; override per stack with pricing.hourlyUsd).

Sources: the Amazon RDS for PostgreSQL pricing page (Single-AZ on-demand instances, gp3
storage; Multi-AZ with one standby bills both twice) and the Cloud SQL for PostgreSQL pricing
page (Enterprise edition, per vCPU and GiB of memory, SSD storage; a regional instance bills
twice).
"""

from __future__ import annotations

import re

from gpu_platform.catalog import Cloud

RDS_USD_PER_HOUR = {
    "db.t4g.medium": 0.065,
    "db.t4g.large": 0.129,
    "db.m7g.large": 0.168,
    "db.m7g.xlarge": 0.336,
    "db.r7g.large": 0.239,
    "db.r7g.xlarge": 0.478,
    "db.r7g.2xlarge": 0.956,
}
RDS_STORAGE_USD_PER_GIB_MONTH = 0.115
CLOUD_SQL_VCPU_USD_PER_HOUR = 0.0413
CLOUD_SQL_MEMORY_USD_PER_GIB_HOUR = 0.007
CLOUD_SQL_STORAGE_USD_PER_GIB_MONTH = 0.17
_CUSTOM_TIER = re.compile(r"db-custom-(\d+)-(\d+)", re.ASCII)


def instance_usd_per_hour(cloud: Cloud, name: str) -> float | None:
    """One instance's list price, or None when the table does not know the class."""
    if cloud == "aws":
        return RDS_USD_PER_HOUR.get(name)
    custom = _CUSTOM_TIER.fullmatch(name)
    if custom is None:
        return None
    vcpus, mebibytes = int(custom.group(1)), int(custom.group(2))
    return round(
        vcpus * CLOUD_SQL_VCPU_USD_PER_HOUR + mebibytes / 1024 * CLOUD_SQL_MEMORY_USD_PER_GIB_HOUR,
        6,
    )


def storage_usd_per_gib_month(cloud: Cloud) -> float:
    return RDS_STORAGE_USD_PER_GIB_MONTH if cloud == "aws" else CLOUD_SQL_STORAGE_USD_PER_GIB_MONTH
