"""The Job that applies the pgvector bootstrap SQL (pure data): it waits for the database, runs
the script once, and is named after the digest of what it runs, so a changed script is a new Job
that runs again while an unchanged one is left alone. Pulumi waits for it to complete, so a
failure (a table made for another size, say) fails the deployment with PostgreSQL's message.

The admin credentials come from a Kubernetes Secret (CloudNativePG's superuser Secret, or Cloud
SQL's admin user), or, on RDS, from the secret RDS keeps in AWS Secrets Manager, read with the
Job's own Pod Identity. On a managed database the Job also sets the application role's password
from the platform's Secret (CloudNativePG does that itself in the cluster).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from gpu_platform.job_pod import render_script_pod

NAMESPACE = "data"
DATABASE = "rag"
PORT = 5432
LABEL = {"app.kubernetes.io/name": "vector-schema"}
SCRIPT = "bootstrap.sql"
APP_PASSWORD_SCRIPT = "app_password.sql"
RDS_PASSWORD_SCRIPT = "rds_admin_password.py"
MOUNT = "/schema"
SERVICE_ACCOUNT = "vector-schema"
# How long the Job waits for the database and runs: a new cluster's first instance takes a
# few minutes to initialise (volume, initdb), more with a restore; a new RDS or Cloud SQL
# instance up to half an hour.
DEADLINE_SECONDS = 2700
# psql interpolates the variable as a quoted literal; PostgreSQL stores only its SCRAM hash.
APP_PASSWORD_SQL = "ALTER ROLE rag_app WITH LOGIN PASSWORD :'app_password';\n"


@dataclass(frozen=True)
class SecretAdmin:
    """Admin credentials in a Kubernetes Secret (keys `username` and `password`)."""

    secret: str


@dataclass(frozen=True)
class RdsAdmin:
    """The RDS master user, its password in the Secrets Manager secret RDS manages."""

    username: str
    secret_arn: str
    region: str


Admin = SecretAdmin | RdsAdmin


def files(sql: str, *, rds_admin: bool, app_password: bool) -> dict[str, str]:
    """What the Job's ConfigMap holds: the bootstrap SQL, and the statement that sets the
    application role's password and the RDS password reader where they are used."""
    found = {SCRIPT: sql}
    if app_password:
        found[APP_PASSWORD_SCRIPT] = APP_PASSWORD_SQL
    if rds_admin:
        found[RDS_PASSWORD_SCRIPT] = (Path(__file__).parent / RDS_PASSWORD_SCRIPT).read_text()
    return found


def job_name(content: dict[str, str]) -> str:
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:10]
    return f"vector-schema-{digest}"


def render_script_config_map(content: dict[str, str]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": job_name(content),
            "namespace": NAMESPACE,
            "labels": dict(LABEL),
        },
        "data": dict(content),
    }


def _command(host: str, admin: Admin, app_password: bool) -> str:
    psql = "psql --no-psqlrc --set=ON_ERROR_STOP=1"
    steps = []
    if isinstance(admin, RdsAdmin):
        steps.append(
            f'PGPASSWORD="$(python3 {MOUNT}/{RDS_PASSWORD_SCRIPT})" || exit 4; export PGPASSWORD'
        )
    # pg_isready exits 1 while the server starts and 2 while nothing answers (wait for both),
    # 3 when the parameters are wrong (fail: waiting would not help).
    steps.append(
        "while true; do pg_isready --quiet --timeout=5; status=$?; "
        '[ "$status" -eq 0 ] && break; '
        '[ "$status" -eq 3 ] && { echo "pg_isready: invalid connection parameters" >&2; exit 3; }; '
        f"echo 'waiting for {host}'; sleep 5; done"
    )
    if app_password:
        steps.append(f"{psql} --file={MOUNT}/{SCRIPT} || exit $?")
        steps.append(
            f'exec {psql} --set=app_password="$APP_PASSWORD" --file={MOUNT}/{APP_PASSWORD_SCRIPT}'
        )
    else:
        steps.append(f"exec {psql} --file={MOUNT}/{SCRIPT}")
    return "; ".join(steps)


def render_job(
    content: dict[str, str],
    image: str,
    admin: Admin,
    host: str,
    app_password_secret: str | None = None,
) -> dict:
    """Run the ConfigMap's scripts with psql as the admin against `host`, over TLS, after
    waiting for the server to accept connections."""
    name = job_name(content)
    env = [
        {"name": "PGHOST", "value": host},
        {"name": "PGPORT", "value": str(PORT)},
        {"name": "PGDATABASE", "value": DATABASE},
        {"name": "PGSSLMODE", "value": "require"},
        {"name": "PGCONNECT_TIMEOUT", "value": "10"},
        {"name": "PGAPPNAME", "value": "gpu-platform-schema"},
    ]
    if isinstance(admin, SecretAdmin):
        env += [
            {
                "name": variable,
                "valueFrom": {"secretKeyRef": {"name": admin.secret, "key": key}},
            }
            for variable, key in (("PGUSER", "username"), ("PGPASSWORD", "password"))
        ]
    else:
        env += [
            {"name": "PGUSER", "value": admin.username},
            {"name": "ADMIN_SECRET_ARN", "value": admin.secret_arn},
            {"name": "AWS_REGION", "value": admin.region},
        ]
    if app_password_secret is not None:
        env.append(
            {
                "name": "APP_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": app_password_secret, "key": "password"}},
            }
        )
    pod = render_script_pod(
        pod_labels=LABEL,
        image=image,
        command=["/bin/sh", "-c", _command(host, admin, app_password_secret is not None)],
        env=env,
        config_map=name,
        mount=MOUNT,
    )
    if isinstance(admin, RdsAdmin):
        # Its Pod Identity role may read the master password secret, nothing else (the
        # identity agent's webhook mounts the token it needs itself).
        pod["spec"]["serviceAccountName"] = SERVICE_ACCOUNT
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "labels": dict(LABEL),
        },
        "spec": {"backoffLimit": 3, "activeDeadlineSeconds": DEADLINE_SECONDS, "template": pod},
    }
