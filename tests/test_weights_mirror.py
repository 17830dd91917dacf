"""The model-mirror Job's script, run against a fake Hugging Face hub on 127.0.0.1 and two
buckets: moto's S3 and gcp-storage-emulator's GCS. The fake hub answers as the hub does for
huggingface_hub: the tree route lists one level unless asked to recurse, a small file resolves
directly, an LFS file redirects to the CDN with its hash and size in `X-Linked-*` headers. The
script downloads every file vLLM may load, checks each against the hash the hub publishes,
uploads it, writes the manifest last, refuses a file whose hash differs (nothing marked
mirrored), and skips a revision already mirrored."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

import boto3
import pytest
from gcp_storage_emulator.server import create_server
from google.cloud import storage
from harness import (
    ROOT,
    gcp_production,
    gcp_production_config,
    kubernetes_version,
    planned,
    platform_config,
    recorded,
    refused,
)
from huggingface_hub import HfApi
from moto import mock_aws
from upstream_checks import k8s_errors

from gpu_platform import versions
from gpu_platform.gcp.private_apis import PRIVATE_GOOGLE_APIS
from gpu_platform.serving import mirror, weights_mirror
from stacks.config import CONFIG_KEY, PROJECT, parse
from tools import findings
from tools.mockengine import Recording, Registration

MODEL = "org/tiny"
REVISION = "0123456789abcdef0123456789abcdef01234567"
BUCKET = "gp-weights"
PREFIX = f"models/{MODEL}/{REVISION}"
WEIGHTS = bytes(range(256)) * 4096  # 1 MiB, stored in LFS on the hub
FILES = {
    "config.json": b'{"architectures": ["Tiny"]}\n',
    "model.safetensors": WEIGHTS,
    "tokenizer/tokenizer.json": b'{"version": "1.0"}\n',
}
# The publisher's own checkpoint beside the safetensors: on the hub, never mirrored.
SKIPPED = {"original/consolidated.pth": bytes(64)}
LFS = {"model.safetensors", "original/consolidated.pth"}


def _blob_id(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


@dataclass
class FakeHub:
    """What the hub publishes for the revision, what it serves, and what it was asked."""

    published: dict[str, bytes] = field(default_factory=lambda: FILES | SKIPPED)
    served: dict[str, bytes] = field(default_factory=lambda: FILES | SKIPPED)
    downloads: list[str] = field(default_factory=list)
    token: str | None = None
    endpoint: str = ""
    cdn: str = ""  # another host, as the hub's CDN is: huggingface_hub follows no redirect there

    def tree(self, recursive: bool) -> list[dict]:
        entries = []
        for path, content in sorted(self.published.items()):
            if "/" in path and not recursive:
                continue
            entry = {"type": "file", "path": path, "size": len(content)}
            if path in LFS:
                pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{path}\n"
                entry["oid"] = _blob_id(pointer.encode())
                entry["lfs"] = {
                    "oid": hashlib.sha256(content).hexdigest(),
                    "size": len(content),
                    "pointerSize": len(pointer),
                }
            else:
                entry["oid"] = _blob_id(content)
            entries.append(entry)
        for folder in ("original", "tokenizer"):
            entries.append({"type": "directory", "path": folder, "oid": "0" * 40, "size": 0})
        return entries


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _route(self) -> None:
            on_hub = not self.path.startswith("/cdn/")  # the CDN takes signed URLs, no token
            if on_hub and hub.token and self.headers.get("Authorization") != f"Bearer {hub.token}":
                self._send(401, b"{}", {"Content-Type": "application/json"})
                return
            url = urlparse(self.path)
            path = unquote(url.path)
            tree = f"/api/models/{MODEL}/tree/{REVISION}"
            resolve = f"/{MODEL}/resolve/{REVISION}/"
            if path.rstrip("/") == tree:
                recursive = parse_qs(url.query).get("recursive") == ["true"]
                body = json.dumps(hub.tree(recursive)).encode()
                self._send(200, body, {"Content-Type": "application/json"})
            elif path.startswith(resolve) and path[len(resolve) :] in hub.served:
                name = path[len(resolve) :]
                content = hub.served[name]
                if name in LFS:
                    # LFS files live on the CDN: the hub redirects with their hash and size.
                    self._send(
                        302,
                        b"",
                        {
                            "Location": f"{hub.cdn}/cdn/{name}",
                            "X-Repo-Commit": REVISION,
                            "X-Linked-Etag": f'"{hashlib.sha256(content).hexdigest()}"',
                            "X-Linked-Size": str(len(content)),
                        },
                    )
                    return
                if self.command == "GET":
                    hub.downloads.append(name)
                headers = {"X-Repo-Commit": REVISION, "ETag": f'"{_blob_id(content)}"'}
                self._send(200, content, headers)
            elif path.startswith("/cdn/") and path[5:] in hub.served:
                if self.command == "GET":
                    hub.downloads.append(path[5:])
                self._send(200, hub.served[path[5:]], {})
            else:
                self._send(404, b"{}", {"Content-Type": "application/json"})

        do_GET = do_HEAD = _route  # noqa: N815 (http.server's handler names)

    return Handler


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    fake = FakeHub()
    servers = [
        ThreadingHTTPServer((host, 0), _handler(fake)) for host in ("127.0.0.1", "127.0.0.2")
    ]
    for server in servers:
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    fake.endpoint, fake.cdn = (
        f"http://{s.server_address[0]}:{s.server_address[1]}" for s in servers
    )
    try:
        yield fake
    finally:
        for server in servers:
            server.shutdown()


@dataclass
class Bucket:
    """A bucket the script writes, and what the tests read back from it."""

    store: weights_mirror.Store
    objects: Callable[[], dict[str, bytes]]
    delete: Callable[[str], None]


def _s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Bucket]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)

        def objects() -> dict[str, bytes]:
            listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
            return {
                o["Key"]: client.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read()
                for o in listed
            }

        yield Bucket(
            weights_mirror.S3(client, BUCKET),
            objects,
            lambda key: client.delete_object(Bucket=BUCKET, Key=key),
        )


@pytest.fixture(scope="module")
def gcs_emulator() -> Iterator[tuple[object, str]]:
    """gcp-storage-emulator on 127.0.0.1 (started once: stopping it takes a second)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket=BUCKET)
    server.start()
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _gcs(monkeypatch: pytest.MonkeyPatch, emulator: tuple[object, str]) -> Iterator[Bucket]:
    """An empty bucket; google-cloud-storage finds the emulator through STORAGE_EMULATOR_HOST,
    as it would a real endpoint."""
    server, endpoint = emulator
    server.wipe(keep_buckets=True)  # type: ignore[attr-defined]
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", endpoint)
    bucket = storage.Client().bucket(BUCKET)
    yield Bucket(
        weights_mirror.Gcs(bucket),
        lambda: {b.name: b.download_as_bytes() for b in bucket.list_blobs()},
        bucket.delete_blob,
    )


@pytest.fixture(params=["s3", "gs"])
def bucket(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bucket]:
    if request.param == "s3":
        yield from _s3(monkeypatch)
    else:
        yield from _gcs(monkeypatch, request.getfixturevalue("gcs_emulator"))


def _settings(**extra: str) -> dict[str, str]:
    return {"MODEL": MODEL, "REVISION": REVISION, "PREFIX": PREFIX, **extra}


def _run(hub: FakeHub, bucket: Bucket, **extra: str) -> str:
    api = HfApi(endpoint=hub.endpoint, token=extra.get("HF_TOKEN"))
    return weights_mirror.mirror(api, bucket.store, _settings(**extra))


def test_every_file_is_verified_uploaded_and_listed_in_the_manifest(
    hub: FakeHub, bucket: Bucket
) -> None:
    hub.token = "hf_secret"
    assert _run(hub, bucket, HF_TOKEN="hf_secret").endswith(
        f"3 files verified into {bucket.store.url}/{PREFIX}"
    )
    objects = bucket.objects()
    manifest = json.loads(objects.pop(f"{PREFIX}/{weights_mirror.MANIFEST}"))
    assert objects == {f"{PREFIX}/{path}": content for path, content in FILES.items()}
    assert manifest == {
        "model": MODEL,
        "revision": REVISION,
        "files": {
            path: {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
            for path, content in FILES.items()
        },
    }


def test_a_revision_already_mirrored_is_not_downloaded_again(hub: FakeHub, bucket: Bucket) -> None:
    _run(hub, bucket)
    assert sorted(hub.downloads) == sorted(FILES)
    hub.downloads.clear()
    assert _run(hub, bucket) == f"{MODEL}@{REVISION} is already in {bucket.store.url}/{PREFIX}"
    # (the publisher's .pth was never fetched: safetensors are there)
    assert hub.downloads == []
    # An object gone from the bucket makes the mirror incomplete: it runs again.
    bucket.delete(f"{PREFIX}/model.safetensors")
    assert "3 files verified" in _run(hub, bucket)


@pytest.mark.parametrize("tampered", ["model.safetensors", "config.json"])
def test_a_file_whose_hash_differs_is_refused_and_nothing_is_marked_mirrored(
    hub: FakeHub, bucket: Bucket, tampered: str
) -> None:
    original = hub.served[tampered]
    hub.served[tampered] = bytes(b ^ 1 for b in original[:-1]) + original[-1:]  # same size
    with pytest.raises(weights_mirror.Mismatch) as caught:
        _run(hub, bucket)
    kind = "SHA-256" if tampered in LFS else "git blob"
    assert str(caught.value).startswith(f"{tampered}: {kind} ")
    assert f"{PREFIX}/{weights_mirror.MANIFEST}" not in bucket.objects()


def test_a_retry_keeps_the_weights_already_uploaded(hub: FakeHub, bucket: Bucket) -> None:
    """The tokenizer fails after the weights went up: the next run downloads only the files
    it has no verified copy of (the weights carry the hub's SHA-256 in their metadata)."""
    hub.served["tokenizer/tokenizer.json"] = b"{}"
    with pytest.raises(weights_mirror.Mismatch):
        _run(hub, bucket)
    assert "model.safetensors" in hub.downloads
    hub.served["tokenizer/tokenizer.json"] = FILES["tokenizer/tokenizer.json"]
    hub.downloads.clear()
    assert "3 files verified" in _run(hub, bucket)
    assert sorted(hub.downloads) == ["config.json", "tokenizer/tokenizer.json"]


def test_a_revision_without_safetensors_is_refused(hub: FakeHub, bucket: Bucket) -> None:
    """vLLM's streamer loads safetensors only: such a model is served from the hub instead."""
    for files in (hub.published, hub.served):
        files["pytorch_model.bin"] = files.pop("model.safetensors")
    with pytest.raises(weights_mirror.Mismatch, match="has no safetensors"):
        _run(hub, bucket)
    assert hub.downloads == [] and bucket.objects() == {}


def test_the_job_entry_point_exits_2_on_a_mismatch(
    hub: FakeHub, bucket: Bucket, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    hub.served["config.json"] = b"{}"
    settings = _settings(HF_ENDPOINT=hub.endpoint, BUCKET=bucket.store.url)
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    assert weights_mirror.main() == 2
    assert "refused: config.json: 2 bytes, the hub lists" in capsys.readouterr().err


def test_only_a_commit_is_mirrored(hub: FakeHub, bucket: Bucket) -> None:
    """A branch would move while its manifest says the mirror is done."""
    with pytest.raises(weights_mirror.Mismatch, match="REVISION 'main' is not a commit"):
        weights_mirror.mirror(
            HfApi(endpoint=hub.endpoint), bucket.store, _settings(REVISION="main")
        )


# --- the mirror in the program ---------------------------------------------------------------

JOB = "kubernetes:batch/v1:Job"


def test_prod_mirrors_each_hub_model_once_per_revision_into_a_protected_bucket() -> None:
    prod = recorded("prod")
    bucket = prod.one("aws:s3/bucket:Bucket", "prod-model-weights-bucket")
    assert bucket.options["protect"] is True and bucket.inputs["forceDestroy"] is False
    versioning = prod.one(
        "aws:s3/bucketVersioning:BucketVersioning", "prod-model-weights-versioning"
    )
    assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}
    # Only the mirror's service account writes it.
    identity = prod.one(
        "aws:eks/podIdentityAssociation:PodIdentityAssociation", "prod-model-weights-identity"
    )
    assert identity.inputs["serviceAccount"] == mirror.SERVICE_ACCOUNT
    script = prod.one("kubernetes:core/v1:ConfigMap", "prod-model-mirror-script")
    shipped = (ROOT / "src/gpu_platform/serving/weights_mirror.py").read_text()
    assert script.inputs["data"] == {"weights_mirror.py": shipped}
    model = parse(platform_config("prod")).models["qwen-72b"]
    job = prod.one(JOB, "prod-model-mirror-qwen-72b")
    assert job.inputs["metadata"]["name"] == f"mirror-qwen-72b-{model.revision[:8]}"
    pod = job.inputs["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == versions.VLLM_IMAGE
    assert container["command"] == ["python3", "/opt/mirror/weights_mirror.py"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["MODEL"] == "Qwen/Qwen2.5-72B-Instruct" and env["REVISION"] == model.revision
    assert env["PREFIX"] == f"models/Qwen/Qwen2.5-72B-Instruct/{model.revision}"
    assert pod["nodeSelector"] == {"gpuplatform.io/pool": "system"}
    assert pod["serviceAccountName"] == mirror.SERVICE_ACCOUNT
    # A drain or a scale-down is not the mirror's failure, and the autoscaler keeps its node.
    assert job.inputs["spec"]["podFailurePolicy"]["rules"] == [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}
    ]
    template = job.inputs["spec"]["template"]["metadata"]
    assert template["annotations"] == {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}
    # pulumi up waits for the Job as long as its deadline allows.
    assert job.options["customTimeouts"]["create"] == (
        f"{mirror.deadline_seconds(model) // 60 + 10}m"
    )
    assert k8s_errors(job.inputs, kubernetes_version("prod")) == []


def test_a_mirrored_model_streams_from_the_mirror_and_reaches_no_internet() -> None:
    prod = recorded("prod")
    model = parse(platform_config("prod")).models["qwen-72b"]
    server = prod.one("kubernetes:apps/v1:StatefulSet", "prod-qwen-72b-server")
    assert "kubernetes:batch/v1:Job::prod-model-mirror-qwen-72b" in server.options["dependsOn"]
    # It starts once its network policy lets it reach S3 and the credential agent.
    assert (
        "kubernetes:networking.k8s.io/v1:NetworkPolicy::prod-qwen-72b-netpol"
        in (server.options["dependsOn"])
    )
    container = server.inputs["spec"]["template"]["spec"]["containers"][0]
    args = container["args"]
    assert args[0].startswith("s3://") and args[0].endswith(
        f"/models/Qwen/Qwen2.5-72B-Instruct/{model.revision}/"
    )
    assert args[args.index("--load-format") + 1] == "runai_streamer"
    assert "--revision" not in args
    # Clients still call it by its hub name.
    assert args[args.index("--served-model-name") + 1 : args.index("--host")] == [
        "qwen-72b",
        "Qwen/Qwen2.5-72B-Instruct",
    ]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["HF_HUB_OFFLINE"] == "1" and "HF_TOKEN" not in env
    # Its network policy: DNS, S3's addresses and the credential agent; no public internet.
    policy = prod.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "prod-qwen-72b-netpol")
    peers = [p for rule in policy.inputs["spec"]["egress"] for p in rule["to"]]
    assert not [p for p in peers if p.get("ipBlock", {}).get("cidr") == "0.0.0.0/0"]
    # It reads exactly its prefix of the bucket.
    read = json.loads(
        prod.one("aws:iam/rolePolicy:RolePolicy", "prod-qwen-72b-weights-read").inputs["policy"]
    )
    (resource,) = [s["Resource"] for s in read["Statement"] if s["Sid"] == "ReadWeights"]
    assert resource.endswith(f"/models/Qwen/Qwen2.5-72B-Instruct/{model.revision}/*")


def _egress_cidrs(recording: Recording, policy: str) -> set[str]:
    """The addresses a NetworkPolicy lets its pods reach."""
    spec = recording.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", policy).inputs["spec"]
    return {p["ipBlock"]["cidr"] for r in spec["egress"] for p in r["to"] if "ipBlock" in p}


def test_gke_mirrors_into_gcs_through_workload_identity() -> None:
    """The same Job and script on GKE: a GCS bucket in the cluster's region, written by the
    mirror's Google service account alone; each model reads its own prefix, streamed with the
    Run:ai loader, through Private Google Access and the metadata server only."""
    gke = gcp_production()
    config = parse(gcp_production_config())
    bucket = gke.one("gcp:storage/bucket:Bucket", "gcp-dev-model-weights-bucket")
    assert bucket.options["protect"] is True and bucket.inputs["location"] == config.cloud.region
    assert bucket.inputs["uniformBucketLevelAccess"] is True
    assert bucket.inputs["publicAccessPrevention"] == "enforced"
    assert re.fullmatch(r"[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]", bucket.inputs["name"])
    writer = gke.one("gcp:serviceaccount/account:Account", "gcp-dev-model-weights-account")
    impersonate = gke.one(
        "gcp:serviceaccount/iAMMember:IAMMember", "gcp-dev-model-weights-impersonate"
    )
    assert impersonate.inputs["member"].endswith(
        f".svc.id.goog[inference/{mirror.SERVICE_ACCOUNT}]"
    )
    account = gke.one("kubernetes:core/v1:ServiceAccount", "gcp-dev-model-mirror-sa")
    annotation = account.inputs["metadata"]["annotations"]["iam.gke.io/gcp-service-account"]
    assert annotation.startswith(f"{writer.inputs['accountId']}@")
    job = gke.one(JOB, "gcp-dev-model-mirror-qwen-7b")
    (container,) = job.inputs["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["BUCKET"] == f"gs://{bucket.inputs['name']}"
    assert env["GOOGLE_CLOUD_PROJECT"] == config.cloud.project and "AWS_REGION" not in env
    assert k8s_errors(job.inputs, kubernetes_version("gcp-dev")) == []
    # The mirror gets its credentials from the GKE metadata server.
    assert {"169.254.169.254/32", "169.254.169.252/32"} <= _egress_cidrs(
        gke, "gcp-dev-model-mirror-netpol"
    )
    # The model reads its prefix only, streamed; it reaches Google APIs privately, no internet.
    model = config.models["qwen-7b"]
    read = gke.one("gcp:storage/bucketIAMMember:BucketIAMMember", "gcp-dev-qwen-7b-weights-read")
    assert read.inputs["bucket"] == bucket.inputs["name"]
    assert read.inputs["condition"]["expression"].endswith(
        f'/objects/models/{model.source}/{model.revision}/")'
    )
    server = gke.one("kubernetes:apps/v1:StatefulSet", "gcp-dev-qwen-7b-server")
    args = server.inputs["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[0] == f"gs://{bucket.inputs['name']}/models/{model.source}/{model.revision}/"
    assert args[args.index("--load-format") + 1] == "runai_streamer"
    assert f"{JOB}::gcp-dev-model-mirror-qwen-7b" in server.options["dependsOn"]
    cidrs = _egress_cidrs(gke, "gcp-dev-qwen-7b-netpol")
    assert PRIVATE_GOOGLE_APIS in cidrs and "0.0.0.0/0" not in cidrs


@pytest.mark.parametrize(
    ("stack", "settings", "expected"),
    [
        ("dev", {"mirror": True, "revision": None}, "models.qwen-7b.revision: a mirror holds"),
        (
            "dev",
            {"mirror": True, "source": "s3://bucket-a/qwen/", "revision": None},
            "models.qwen-7b.mirror: only hub models are mirrored",
        ),
    ],
)
def test_bad_mirror_settings_name_the_key(stack: str, settings: dict, expected: str) -> None:
    config = platform_config(stack)
    model = config["models"]["qwen-7b"]
    for key, value in settings.items():
        if value is None:
            model.pop(key)
        else:
            model[key] = value
    problems = refused(config)
    assert any(p.startswith(expected) for p in problems), problems


def test_production_warns_about_a_model_served_from_the_hub() -> None:
    config = {f"{PROJECT}:{CONFIG_KEY}": platform_config("prod")}
    config[f"{PROJECT}:{CONFIG_KEY}"]["models"]["qwen-7b"]["mirror"] = False
    found = list(findings.unmirrored_models([], findings.Context(config, datetime.date.today())))
    # prod's own bge-m3 is served from the hub: its revision has no safetensors to stream.
    assert [f.message.split(":")[0] for f in found] == ["models.bge-m3", "models.qwen-7b"]
    shipped = [f.message.split(":")[0] for f in planned("prod").findings if f.rule == "unmirrored"]
    assert shipped == ["models.bge-m3"]


def test_a_mirror_without_a_token_for_a_model_of_unknown_gating_is_reported() -> None:
    model = (
        parse(platform_config("dev"))
        .models["qwen-7b"]
        .model_copy(update={"source": "someorg/model"})
    )
    job = mirror.render_job("m", model, "inference", "s3://bucket", {}, None)
    registration = Registration("kubernetes:batch/v1:Job", "dev-m", None, None, True, job, {})
    context = findings.Context({}, datetime.date.today())
    (finding,) = findings.hub_token([registration], context)
    assert finding.message.startswith("no Hugging Face token: if someorg/model is gated")
    with_token = mirror.render_job("m", model, "inference", "s3://bucket", {}, "hf-token")
    registration = Registration(
        "kubernetes:batch/v1:Job", "dev-m", None, None, True, with_token, {}
    )
    assert list(findings.hub_token([registration], context)) == []
