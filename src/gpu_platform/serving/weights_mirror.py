"""Mirror one revision of a Hugging Face model into the stack's weights bucket, verified.

The model-mirror Job runs this file with the vLLM image's Python, which ships huggingface_hub,
boto3 and google-cloud-storage (the Run:ai streamer's S3 and GCS back ends). It reads its
settings from the environment:

    MODEL        the hub repository, `org/name`
    REVISION     the commit to mirror (40 hex digits: a branch would move under the manifest)
    BUCKET       the bucket, `s3://name` or `gs://name`
    PREFIX       where the files go, e.g. `models/org/name/<revision>`
    HF_TOKEN     optional, for gated models
    HF_ENDPOINT  optional, another hub (huggingface_hub reads it)

Every file vLLM may load is downloaded, checked against the hash the hub publishes for it (the
SHA-256 of an LFS file, the git blob id of any other) and uploaded; a file that does not match
stops the mirror with exit code 2 before the manifest is written. The mirror is streamed by
vLLM's Run:ai loader, which reads safetensors only: a revision without them is refused (the
model needs `mirror: false`), and beside them the other weight formats (`*.bin`, `*.pt`,
`*.pth`, an `original/` folder of the publisher's own checkpoint) are left out. An LFS file
already uploaded with the hub's SHA-256 (a retry after a failure) is not downloaded again.
The manifest (`<PREFIX>/mirror-manifest.json`: every file's path, size and SHA-256) is written
last, so a mirror is complete exactly when its manifest exists; a run that finds the manifest
of the same revision, with every object it lists present at its size, downloads nothing. The
Job's identity lists, reads and writes objects (on S3 without s3:ListBucket a missing manifest
is answered with 403); any answer but "not found" stops the mirror.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

MANIFEST = "mirror-manifest.json"
CHUNK = 8 * 2**20
COMMIT = re.compile(r"^[0-9a-f]{40}$")
OTHER_WEIGHTS = (".bin", ".pt", ".pth")


class Mismatch(Exception):
    """A downloaded file is not the one the hub published."""


@dataclass(frozen=True)
class HubFile:
    path: str
    size: int
    sha256: str | None  # LFS files
    blob_id: str  # git's object id of the file (of its pointer, for an LFS file)


def digests(path: Path) -> tuple[str, str]:
    """(SHA-256, git blob id) of a file, read once."""
    sha256, blob = hashlib.sha256(), hashlib.sha1(usedforsecurity=False)
    blob.update(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            sha256.update(chunk)
            blob.update(chunk)
    return sha256.hexdigest(), blob.hexdigest()


def verify(file: HubFile, local: Path) -> str:
    """The file's SHA-256, once its size and hash match what the hub published."""
    size = local.stat().st_size
    if size != file.size:
        raise Mismatch(f"{file.path}: {size} bytes, the hub lists {file.size}")
    sha256, blob = digests(local)
    if file.sha256 is not None and sha256 != file.sha256:
        raise Mismatch(f"{file.path}: SHA-256 {sha256}, the hub publishes {file.sha256}")
    if file.sha256 is None and blob != file.blob_id:
        raise Mismatch(f"{file.path}: git blob {blob}, the hub publishes {file.blob_id}")
    return sha256


def hub_files(api: Any, model: str, revision: str) -> list[HubFile]:
    files = []
    for entry in api.list_repo_tree(model, recursive=True, revision=revision):
        if not hasattr(entry, "blob_id"):
            continue  # a folder
        lfs = getattr(entry, "lfs", None)
        files.append(HubFile(entry.path, entry.size, lfs.sha256 if lfs else None, entry.blob_id))
    if not any(f.path.endswith(".safetensors") for f in files):
        raise Mismatch(
            f"{model}@{revision} has no safetensors, which vLLM's streamer needs; serve it "
            "from the hub (mirror: false)"
        )
    files = [
        f
        for f in files
        if not f.path.endswith(OTHER_WEIGHTS) and not f.path.startswith("original/")
    ]
    return sorted(files, key=lambda f: f.path)


class Store(Protocol):
    """The bucket the mirror writes: its objects by key."""

    url: str

    def head(self, key: str) -> tuple[int, dict[str, str]] | None:
        """(size, metadata) of an object; None when there is none."""

    def read(self, key: str) -> bytes | None: ...

    def upload(self, local: Path, key: str, sha256: str) -> None:
        """Upload a file, its SHA-256 in the object's metadata."""

    def write_json(self, key: str, body: bytes) -> None: ...


class S3:
    def __init__(self, client: Any, bucket: str):
        self.client, self.bucket, self.url = client, bucket, f"s3://{bucket}"

    def _missing(self, error: Any) -> bool:
        return error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound")

    def head(self, key: str) -> tuple[int, dict[str, str]] | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.ClientError as error:
            if self._missing(error):
                return None
            raise
        return head["ContentLength"], head["Metadata"]

    def read(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.client.exceptions.ClientError as error:
            if self._missing(error):
                return None
            raise

    def upload(self, local: Path, key: str, sha256: str) -> None:
        self.client.upload_file(
            str(local), self.bucket, key, ExtraArgs={"Metadata": {"sha256": sha256}}
        )

    def write_json(self, key: str, body: bytes) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType="application/json"
        )


class Gcs:
    def __init__(self, bucket: Any):
        """`bucket`: a google.cloud.storage Bucket."""
        self.bucket, self.url = bucket, f"gs://{bucket.name}"

    def head(self, key: str) -> tuple[int, dict[str, str]] | None:
        blob = self.bucket.get_blob(key)
        return None if blob is None else (blob.size, blob.metadata or {})

    def read(self, key: str) -> bytes | None:
        blob = self.bucket.get_blob(key)
        return None if blob is None else blob.download_as_bytes()

    def upload(self, local: Path, key: str, sha256: str) -> None:
        blob = self.bucket.blob(key)
        blob.metadata = {"sha256": sha256}
        blob.upload_from_filename(str(local))

    def write_json(self, key: str, body: bytes) -> None:
        self.bucket.blob(key).upload_from_string(body, content_type="application/json")


def uploaded(store: Store, key: str, file: HubFile) -> bool:
    """Whether an LFS file is already in the bucket, uploaded with the hub's SHA-256."""
    if file.sha256 is None:
        return False
    head = store.head(key)
    return head is not None and head[0] == file.size and head[1].get("sha256") == file.sha256


def already_mirrored(store: Store, prefix: str, revision: str) -> bool:
    body = store.read(f"{prefix}/{MANIFEST}")
    if body is None:
        return False
    manifest = json.loads(body)
    if manifest.get("revision") != revision:
        return False
    for path, entry in manifest["files"].items():
        head = store.head(f"{prefix}/{path}")
        if head is None or head[0] != entry["size"]:
            return False
    return True


def mirror(api: Any, store: Store, settings: dict[str, str]) -> str:
    """Mirror the revision; returns what happened, or raises Mismatch."""
    model, revision = settings["MODEL"], settings["REVISION"]
    if not COMMIT.fullmatch(revision):
        raise Mismatch(f"REVISION {revision!r} is not a commit (40 hex digits)")
    prefix = settings["PREFIX"].strip("/")
    if already_mirrored(store, prefix, revision):
        return f"{model}@{revision} is already in {store.url}/{prefix}"
    # The Job's image has these; the Pulumi program, which only ships this file, does not.
    from huggingface_hub import hf_hub_download  # noqa: PLC0415

    token = settings.get("HF_TOKEN") or None
    entries: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as directory:
        for file in hub_files(api, model, revision):
            key = f"{prefix}/{file.path}"
            if uploaded(store, key, file):
                entries[file.path] = {"size": file.size, "sha256": file.sha256}
                continue
            local = Path(
                hf_hub_download(
                    model,
                    file.path,
                    revision=revision,
                    token=token,
                    local_dir=directory,
                    endpoint=api.endpoint,
                )
            )
            sha256 = verify(file, local)
            store.upload(local, key, sha256)
            entries[file.path] = {"size": file.size, "sha256": sha256}
            local.unlink()  # one file on local disk at a time
    manifest = {"model": model, "revision": revision, "files": entries}
    store.write_json(
        f"{prefix}/{MANIFEST}", json.dumps(manifest, indent=2, sort_keys=True).encode()
    )
    return f"{model}@{revision}: {len(entries)} files verified into {store.url}/{prefix}"


def open_store(url: str) -> Store:
    """The bucket of `s3://name` or `gs://name`, with the pod's own credentials."""
    scheme, _, bucket = url.partition("://")
    if scheme == "s3":
        import boto3  # noqa: PLC0415 (see mirror())

        return S3(boto3.client("s3"), bucket)
    if scheme == "gs":
        from google.cloud import storage  # noqa: PLC0415

        return Gcs(storage.Client().bucket(bucket))
    raise Mismatch(f"BUCKET {url!r} is neither s3:// nor gs://")


def main() -> int:
    from huggingface_hub import HfApi  # noqa: PLC0415 (see mirror())

    settings = dict(os.environ)
    api = HfApi(endpoint=settings.get("HF_ENDPOINT"), token=settings.get("HF_TOKEN") or None)
    try:
        print(mirror(api, open_store(settings["BUCKET"]), settings), flush=True)
    except Mismatch as error:
        print(f"refused: {error}; nothing was marked mirrored", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
