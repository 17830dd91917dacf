"""Mirror one revision of a Hugging Face model into the stack's weights bucket, verified.

The model-mirror Job runs this file with the vLLM image's Python, which ships huggingface_hub
and boto3. It reads its settings from the environment:

    MODEL        the hub repository, `org/name`
    REVISION     the commit to mirror (40 hex digits: a branch would move under the manifest)
    BUCKET       the S3 bucket
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
Job's identity needs s3:ListBucket (without it S3 answers a missing manifest with 403) besides
reading and writing objects.
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
from typing import Any

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


def uploaded(s3: Any, bucket: str, key: str, file: HubFile) -> bool:
    """Whether an LFS file is already in the bucket, uploaded with the hub's SHA-256."""
    if file.sha256 is None:
        return False
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError:
        return False
    return head["ContentLength"] == file.size and head["Metadata"].get("sha256") == file.sha256


def already_mirrored(s3: Any, bucket: str, prefix: str, revision: str) -> bool:
    try:
        body = s3.get_object(Bucket=bucket, Key=f"{prefix}/{MANIFEST}")["Body"].read()
    except s3.exceptions.ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return False
        raise
    manifest = json.loads(body)
    if manifest.get("revision") != revision:
        return False
    for path, entry in manifest["files"].items():
        try:
            head = s3.head_object(Bucket=bucket, Key=f"{prefix}/{path}")
        except s3.exceptions.ClientError:
            return False
        if head["ContentLength"] != entry["size"]:
            return False
    return True


def mirror(api: Any, s3: Any, settings: dict[str, str]) -> str:
    """Mirror the revision; returns what happened, or raises Mismatch."""
    model, revision = settings["MODEL"], settings["REVISION"]
    if not COMMIT.fullmatch(revision):
        raise Mismatch(f"REVISION {revision!r} is not a commit (40 hex digits)")
    bucket, prefix = settings["BUCKET"], settings["PREFIX"].strip("/")
    if already_mirrored(s3, bucket, prefix, revision):
        return f"{model}@{revision} is already in s3://{bucket}/{prefix}"
    # The Job's image has these; the Pulumi program, which only ships this file, does not.
    from huggingface_hub import hf_hub_download  # noqa: PLC0415

    token = settings.get("HF_TOKEN") or None
    entries: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as directory:
        for file in hub_files(api, model, revision):
            key = f"{prefix}/{file.path}"
            if uploaded(s3, bucket, key, file):
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
            s3.upload_file(str(local), bucket, key, ExtraArgs={"Metadata": {"sha256": sha256}})
            entries[file.path] = {"size": file.size, "sha256": sha256}
            local.unlink()  # one file on local disk at a time
    manifest = {"model": model, "revision": revision, "files": entries}
    s3.put_object(
        Bucket=bucket,
        Key=f"{prefix}/{MANIFEST}",
        Body=json.dumps(manifest, indent=2, sort_keys=True).encode(),
        ContentType="application/json",
    )
    return f"{model}@{revision}: {len(entries)} files verified into s3://{bucket}/{prefix}"


def main() -> int:
    import boto3  # noqa: PLC0415 (see mirror())
    from huggingface_hub import HfApi  # noqa: PLC0415

    settings = dict(os.environ)
    api = HfApi(endpoint=settings.get("HF_ENDPOINT"), token=settings.get("HF_TOKEN") or None)
    try:
        print(mirror(api, boto3.client("s3"), settings), flush=True)
    except Mismatch as error:
        print(f"refused: {error}; nothing was marked mirrored", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
