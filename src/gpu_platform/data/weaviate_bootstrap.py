"""Prepares and backs up the platform's Weaviate. Runs in the cluster, from a ConfigMap, with
python3 and its standard library only:

    python3 weaviate_bootstrap.py schema   # wait until Weaviate is ready, then create the
                                           # default collection, or check the existing one
    python3 weaviate_bootstrap.py backup   # back up every collection and wait for the result

Settings come from the environment: WEAVIATE_URL, WEAVIATE_API_KEY (an admin key),
COLLECTION_FILE (the collection as Weaviate's REST API takes it), BACKUP_BACKEND (s3 or gcs)
and WAIT_SECONDS (how long to wait for Weaviate or a backup). It exits non-zero with
Weaviate's own message when something is refused, so the Job (and the deployment that waits
for it) fails instead of leaving the store unlike its config.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

POLL_SECONDS = float(os.environ.get("POLL_SECONDS", "5"))


class Refused(Exception):
    """Weaviate refused a request, or its collection is not what the config says."""


def call(method: str, path: str, body: Any = None, timeout: float = 30) -> tuple[int, Any]:
    """One REST call under /v1; (status, decoded body). HTTP errors are answers, not raised."""
    request = urllib.request.Request(
        f"{os.environ['WEAVIATE_URL'].rstrip('/')}/v1{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={
            "Authorization": f"Bearer {os.environ['WEAVIATE_API_KEY']}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def wait_ready(deadline: float) -> None:
    while True:
        try:
            status, _ = call("GET", "/.well-known/ready", timeout=5)
            if status == 200:
                return
            reason = f"HTTP {status}"
        except OSError as error:  # refused, unresolvable, timed out
            reason = str(error)
        if time.monotonic() > deadline:
            raise Refused(f"Weaviate was not ready in time ({reason})")
        print(f"waiting for Weaviate: {reason}", flush=True)
        time.sleep(POLL_SECONDS)


def ensure_collection(wanted: dict[str, Any]) -> str:
    """Create the collection, or check that the existing one matches: its vectorizer and
    distance cannot change in place; a different replication factor is updated (Weaviate
    raises one only once the shards have the replicas)."""
    name = wanted["class"]
    status, found = call("GET", f"/schema/{name}")
    if status == 404:
        status, answer = call("POST", "/schema", wanted)
        if status != 200:
            raise Refused(f"creating collection {name}: HTTP {status}: {answer}")
        return f"created collection {name}"
    if status != 200:
        raise Refused(f"reading collection {name}: HTTP {status}: {found}")
    distance = (found.get("vectorIndexConfig") or {}).get("distance")
    if distance != wanted["vectorIndexConfig"]["distance"]:
        raise Refused(
            f"collection {name} has distance {distance}, but the store is configured for "
            f"{wanted['vectorIndexConfig']['distance']}: build a collection for the new distance "
            "beside it and move the objects (see the README)"
        )
    if found.get("vectorizer") != wanted["vectorizer"]:
        raise Refused(
            f"collection {name} is vectorized by {found.get('vectorizer')}, but the store is "
            f"configured for {wanted['vectorizer']}: a vectorizer is fixed when a collection is "
            "made (see the README)"
        )
    factor = (found.get("replicationConfig") or {}).get("factor")
    target = wanted["replicationConfig"]["factor"]
    if factor != target:
        updated = {**found, "replicationConfig": {**found["replicationConfig"], "factor": target}}
        status, answer = call("PUT", f"/schema/{name}", updated)
        if status != 200:
            hint = (
                " Weaviate raises a factor only once every shard has that many replicas: copy "
                "each shard to the new nodes with its replication API (POST "
                "/v1/replication/replicate; see the README), then deploy again."
                if factor is not None and target > factor
                else ""
            )
            raise Refused(
                f"changing the replication factor of {name} from {factor} to {target}: "
                f"HTTP {status}: {answer}.{hint}"
            )
        return f"collection {name}: replication factor {factor} -> {target}"
    return f"collection {name} is as configured"


def backup(backend: str, deadline: float) -> str:
    """Back up every collection under a new id, and wait until Weaviate reports the result."""
    backup_id = datetime.now(UTC).strftime("daily-%Y%m%d-%H%M%S")
    status, answer = call("POST", f"/backups/{backend}", {"id": backup_id})
    if status != 200:
        raise Refused(f"starting backup {backup_id}: HTTP {status}: {answer}")
    while True:
        status, answer = call("GET", f"/backups/{backend}/{backup_id}")
        phase = answer.get("status") if status == 200 and isinstance(answer, dict) else None
        if phase == "SUCCESS":
            return f"backup {backup_id} done"
        if phase in ("FAILED", "CANCELED"):
            raise Refused(f"backup {backup_id} {phase}: {answer.get('error')}")
        if time.monotonic() > deadline:
            raise Refused(f"backup {backup_id} still {phase or f'HTTP {status}'} at the deadline")
        time.sleep(POLL_SECONDS)


def main(argv: list[str]) -> int:
    deadline = time.monotonic() + float(os.environ.get("WAIT_SECONDS", "900"))
    try:
        wait_ready(deadline)
        if argv == ["schema"]:
            with open(os.environ["COLLECTION_FILE"]) as file:
                print(ensure_collection(json.load(file)), flush=True)
        elif argv == ["backup"]:
            print(backup(os.environ["BACKUP_BACKEND"], deadline), flush=True)
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except Refused as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
