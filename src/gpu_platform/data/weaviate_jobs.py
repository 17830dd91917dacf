"""The Jobs that run `weaviate_bootstrap.py` in the cluster (pure data): the schema Job, named
after the digest of the script and the collection so that a change runs it again, and the daily
backup CronJob."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from gpu_platform import versions
from gpu_platform.data import weaviate_values as wv
from gpu_platform.job_pod import render_script_pod

SCRIPT = "weaviate_bootstrap.py"
COLLECTION_FILE = "collection.json"
MOUNT = "/bootstrap"
WAIT_SECONDS = 1800
BACKUP_SCHEDULE = "0 3 * * *"  # daily, 03:00 UTC


def script() -> str:
    return (Path(__file__).parent / SCRIPT).read_text()


def files(collection: dict[str, Any]) -> dict[str, str]:
    """What the bootstrap ConfigMap holds."""
    return {SCRIPT: script(), COLLECTION_FILE: json.dumps(collection, indent=2, sort_keys=True)}


def config_map_name(collection: dict[str, Any]) -> str:
    content = json.dumps(files(collection), sort_keys=True)
    return f"weaviate-bootstrap-{hashlib.sha256(content.encode()).hexdigest()[:10]}"


def render_config_map(collection: dict[str, Any]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": config_map_name(collection),
            "namespace": wv.NAMESPACE,
            "labels": dict(wv.BOOTSTRAP_LABEL),
        },
        "data": files(collection),
    }


def _pod(collection: dict[str, Any], mode: str, env: dict[str, str]) -> dict:
    variables = [
        {"name": "WEAVIATE_URL", "value": f"http://{wv.HOST}:{wv.HTTP_PORT}"},
        {
            "name": "WEAVIATE_API_KEY",
            "valueFrom": {"secretKeyRef": {"name": wv.KEYS_SECRET, "key": wv.APP_KEY}},
        },
        {"name": "WAIT_SECONDS", "value": str(WAIT_SECONDS)},
        *({"name": k, "value": v} for k, v in env.items()),
    ]
    return render_script_pod(
        pod_labels=wv.BOOTSTRAP_LABEL,
        image=versions.BOOTSTRAP_PYTHON_IMAGE,
        command=["python3", f"{MOUNT}/{SCRIPT}", mode],
        env=variables,
        config_map=config_map_name(collection),
        mount=MOUNT,
    )


def render_schema_job(collection: dict[str, Any]) -> dict:
    name = config_map_name(collection).replace("bootstrap", "schema")
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": wv.NAMESPACE, "labels": dict(wv.BOOTSTRAP_LABEL)},
        "spec": {
            "backoffLimit": 3,
            "activeDeadlineSeconds": WAIT_SECONDS,
            "template": _pod(
                collection, "schema", {"COLLECTION_FILE": f"{MOUNT}/{COLLECTION_FILE}"}
            ),
        },
    }


def render_backup_cron_job(collection: dict[str, Any], backend: str) -> dict:
    """A backup of every collection each day; a run still going when the next is due is left
    to finish."""
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": "weaviate-backup",
            "namespace": wv.NAMESPACE,
            "labels": dict(wv.BOOTSTRAP_LABEL),
        },
        "spec": {
            "schedule": BACKUP_SCHEDULE,
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 2,
                    "activeDeadlineSeconds": WAIT_SECONDS * 2,
                    "template": _pod(collection, "backup", {"BACKUP_BACKEND": backend}),
                }
            },
        },
    }
