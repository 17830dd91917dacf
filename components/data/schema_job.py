"""The Job that applies the pgvector bootstrap SQL (pure data): it waits for the database, runs
the script once, and is named after the script's digest, so a changed script is a new Job that
runs again while an unchanged one is left alone. Pulumi waits for it to complete, so a failure
(a table made for another size, say) fails the deployment with PostgreSQL's message."""

from __future__ import annotations

import hashlib

from components.data import cnpg
from components.data.job_pod import render_script_pod

SCRIPT = "bootstrap.sql"
MOUNT = "/schema"
# How long the Job waits for the database and runs: a new cluster's first instance takes a
# few minutes to initialise (volume, initdb), more with a restore.
DEADLINE_SECONDS = 1800


def digest(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()[:10]


def job_name(sql: str) -> str:
    return f"vector-schema-{digest(sql)}"


def render_script_config_map(sql: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": job_name(sql),
            "namespace": cnpg.NAMESPACE,
            "labels": dict(cnpg.SCHEMA_JOB_LABEL),
        },
        "data": {SCRIPT: sql},
    }


def render_job(sql: str, image: str, admin_secret: str, host: str) -> dict:
    """Run `sql` with psql as the admin in `admin_secret` (keys `username`, `password`) against
    `host`, over TLS, after waiting for the server to accept connections."""
    name = job_name(sql)
    # pg_isready exits 1 while the server starts and 2 while nothing answers (wait for both),
    # 3 when the parameters are wrong (fail: waiting would not help).
    wait = (
        "while true; do pg_isready --quiet --timeout=5; status=$?; "
        '[ "$status" -eq 0 ] && break; '
        '[ "$status" -eq 3 ] && { echo "pg_isready: invalid connection parameters" >&2; exit 3; }; '
        f"echo 'waiting for {host}'; sleep 5; done; "
        f"exec psql --no-psqlrc --set=ON_ERROR_STOP=1 --file={MOUNT}/{SCRIPT}"
    )
    env = [
        {"name": "PGHOST", "value": host},
        {"name": "PGPORT", "value": str(cnpg.PORT)},
        {"name": "PGDATABASE", "value": cnpg.DATABASE},
        {"name": "PGSSLMODE", "value": "require"},
        {"name": "PGCONNECT_TIMEOUT", "value": "10"},
        {"name": "PGAPPNAME", "value": "gpu-platform-schema"},
        *(
            {
                "name": variable,
                "valueFrom": {"secretKeyRef": {"name": admin_secret, "key": key}},
            }
            for variable, key in (("PGUSER", "username"), ("PGPASSWORD", "password"))
        ),
    ]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": cnpg.NAMESPACE,
            "labels": dict(cnpg.SCHEMA_JOB_LABEL),
        },
        "spec": {
            "backoffLimit": 3,
            "activeDeadlineSeconds": DEADLINE_SECONDS,
            "template": render_script_pod(
                pod_labels=cnpg.SCHEMA_JOB_LABEL,
                image=image,
                command=["/bin/sh", "-c", wait],
                env=env,
                config_map=name,
                mount=MOUNT,
            ),
        },
    }
