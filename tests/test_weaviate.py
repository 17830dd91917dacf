"""Weaviate as the vector store: the values the chart is rendered with (by Helm's own engine),
the default collection against Weaviate's own OpenAPI description, the bootstrap and backup
script against a local stand-in for Weaviate's REST API on 127.0.0.1 (whose every call must be a
path and method Weaviate 1.38 has), and the program's wiring on GKE (the example) and EKS
(a production variant)."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pod_security
import pytest
import yaml
from harness import platform_config, recorded, run_main
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from upstream_checks import UPSTREAM, load, recorded_object_errors, render_chart

from gpu_platform import versions
from gpu_platform.data import weaviate_jobs as jobs
from gpu_platform.data import weaviate_values as wv
from gpu_platform.data.spec import VectorStoreSpec
from stacks.config import ConfigError, parse
from stacks.keys import PROJECT, WEAVIATE_API_KEY
from tools.mockengine import SECRET, Recording

RELEASE = "kubernetes:helm.sh/v3:Release"
SCRIPT = Path(jobs.__file__).parent / jobs.SCRIPT
API_KEY = "test-admin-key"


def _problems(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(config)
    return caught.value.problems


def _store(**settings: Any) -> VectorStoreSpec:
    return VectorStoreSpec(engine="weaviate", **settings)


# --- config --------------------------------------------------------------------------------


def _weaviate_prod(**settings: Any) -> dict[str, Any]:
    config = platform_config("prod")
    config["vectorStore"] = {
        "engine": "weaviate",
        "replicas": 3,
        "dimensions": 1024,
        "backups": {"enabled": True, "retentionDays": 14},
        **settings,
    }
    return config


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"replicas": 2}, "vectorStore.replicas: production needs at least 3"),
        ({"postgresVersion": "17"}, "vectorStore.postgresVersion: pgvector only"),
        ({"dimensions": 70000}, "vectorStore.dimensions: at most 65,535"),
        (
            {"embeddingModel": "qwen-7b"},
            "vectorStore.embeddingModel: not a served embedding model (models with task embed: "
            "bge-m3)",
        ),
    ],
)
def test_bad_weaviate_settings_name_their_key(settings: dict[str, Any], expected: str) -> None:
    problems = _problems(_weaviate_prod(**settings))
    assert any(p.startswith(expected) for p in problems), problems


def test_several_embedding_models_need_the_one_weaviate_uses_named() -> None:
    config = _weaviate_prod()
    config["models"]["bge-m3-copy"] = {**config["models"]["bge-m3"]}
    config["nodePools"]["l4-spot"]["maxNodes"] = 12
    (problem,) = _problems(config)
    assert problem == (
        "vectorStore.embeddingModel: several embedding models are served (bge-m3, bge-m3-copy): "
        "name the one Weaviate vectorizes with"
    )
    config["vectorStore"]["embeddingModel"] = "bge-m3-copy"
    assert parse(config).vector_store.embedding_model == "bge-m3-copy"


def test_an_embedding_model_setting_is_refused_for_pgvector() -> None:
    config = platform_config("dev")
    config["vectorStore"]["embeddingModel"] = "bge-small"
    assert _problems(config) == [
        "vectorStore.embeddingModel: weaviate only: pgvector stores the vectors clients send; "
        "remove it"
    ]


def test_a_weaviate_key_without_weaviate_is_refused_before_anything_is_created() -> None:
    key = f"{PROJECT}:{WEAVIATE_API_KEY}"
    with pytest.raises(ConfigError) as caught:
        run_main(platform_config("dev"), stack="dev", extra_config={key: "k"}, secret_keys=(key,))
    assert caught.value.problems == [
        "gpu-platform:weaviateApiKey: set, but vectorStore.engine is pgvector; remove it "
        "(`pulumi config rm weaviateApiKey`)"
    ]


# --- the chart, rendered with the platform's values -----------------------------------------


def _release(recording: Recording) -> Any:
    (release,) = [r for r in recording.of_type(RELEASE) if r.inputs["chart"] == "weaviate"]
    return release


def _objects(values: dict[str, Any]) -> dict[tuple[str, str], dict]:
    rendered = render_chart("weaviate", values, "weaviate", "data")
    return {(o["kind"], o["metadata"]["name"]): o for o in rendered}


def test_the_gke_example_renders_a_private_authenticated_weaviate_gcp() -> None:
    release = _release(recorded("gcp-dev"))
    assert release.inputs["version"] == versions.WEAVIATE_CHART[1]
    objects = _objects(release.inputs["values"])
    # No LoadBalancer: nothing of the store is reachable from outside the cluster.
    services = [o for (kind, _), o in objects.items() if kind == "Service"]
    assert {s["spec"].get("type", "ClusterIP") for s in services} == {"ClusterIP"}
    config = objects[("ConfigMap", "weaviate-config")]["data"]["conf.yaml"]
    conf = next(d for d in yaml.safe_load_all(config) if d)
    assert conf["authentication"]["anonymous_access"] == {"enabled": False}
    assert conf["authorization"]["admin_list"] == {
        "enabled": True,
        "users": ["rag-app"],
        "read_only_users": ["rag-reader"],
    }
    pod = objects[("StatefulSet", "weaviate")]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == "cr.weaviate.io/semitechnologies/weaviate:1.38.2"
    env = {e["name"]: e for e in container["env"]}
    assert env["AUTHENTICATION_APIKEY_ALLOWED_KEYS"]["valueFrom"] == {
        "secretKeyRef": {"name": "weaviate-api-keys", "key": "AUTHENTICATION_APIKEY_ALLOWED_KEYS"}
    }
    assert env["AUTHENTICATION_APIKEY_ENABLED"]["value"] == "true"
    assert env["DISABLE_TELEMETRY"]["value"] == "true"
    assert env["ENABLE_MODULES"]["value"] == "text2vec-openai"
    assert env["DEFAULT_VECTORIZER_MODULE"]["value"] == "none"
    assert "initContainers" not in pod  # no privileged sysctl container
    assert pod["serviceAccountName"] == "weaviate"
    assert pod_security.violations(pod, "baseline") == []
    # One node in dev: no PodDisruptionBudget that would block every drain.
    assert not [key for key in objects if key[0] == "PodDisruptionBudget"]


def test_production_values_spread_nodes_keep_a_quorum_and_back_up_to_s3() -> None:
    store = _store(replicas=3, backups={"enabled": True})
    values = wv.render_values(
        store,
        production=True,
        backup=("s3", "backups-bucket"),
        backup_settings={"AWS_REGION": "us-east-1"},
    )
    objects = _objects(values)
    pdb = objects[("PodDisruptionBudget", "weaviate")]["spec"]
    assert pdb == {"selector": {"matchLabels": {"app": "weaviate"}}, "minAvailable": 2}
    pod = objects[("StatefulSet", "weaviate")]["spec"]["template"]["spec"]
    required = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required == [
        {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": wv.APP_LABEL}}
    ]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["BACKUP_S3_BUCKET"] == "backups-bucket"
    assert env["BACKUP_S3_PATH"] == "weaviate"
    assert env["ENABLE_MODULES"] == "backup-s3"
    assert env["RAFT_JOIN"] == "weaviate-0,weaviate-1,weaviate-2"
    assert env["GOMEMLIMIT"] == "6553MiB"  # 80 % of the 8Gi limit
    assert "AWS_ACCESS_KEY_ID" not in env  # the pods' own identity, no key
    storage = objects[("StatefulSet", "weaviate")]["spec"]["volumeClaimTemplates"][0]["spec"]
    assert storage["storageClassName"] == "vector-store-retain"


# --- the default collection, against Weaviate's own API description -------------------------


def _openapi() -> dict[str, Any]:
    return load(UPSTREAM / "openapi/weaviate.json")


def _class_validator() -> jsonschema.Validator:
    """Weaviate's `Class` definition (Swagger 2.0 schemas are JSON Schema draft 4)."""
    registry = Registry().with_resource("urn:weaviate", Resource(_openapi(), DRAFT4))
    return jsonschema.Draft4Validator(
        {"$ref": "urn:weaviate#/definitions/Class"}, registry=registry
    )


@pytest.mark.parametrize(
    "vectorizer", [None, ("bge-m3", "http://vllm-bge-m3.inference.svc.cluster.local:8000/v1")]
)
def test_the_collection_is_a_class_weaviate_accepts(vectorizer: tuple[str, str] | None) -> None:
    store = _store(replicas=3, distance="inner-product", dimensions=1024)
    collection = wv.render_collection(store, vectorizer)
    validator = _class_validator()
    assert list(validator.iter_errors(collection)) == []
    assert collection["vectorIndexConfig"] == {"distance": "dot"}
    assert collection["replicationConfig"] == {"factor": 3}
    if vectorizer:
        module = collection["moduleConfig"]["text2vec-openai"]
        # The module appends /v1/embeddings itself; a third-party URL lifts its model check.
        assert module["baseURL"] == "http://vllm-bge-m3.inference.svc.cluster.local:8000"
        assert module["model"] == "bge-m3"
    else:
        assert collection["vectorizer"] == "none" and "moduleConfig" not in collection
    bad = copy.deepcopy(collection)
    bad["replicationConfig"]["factor"] = "three"
    assert list(validator.iter_errors(bad))


# --- the bootstrap script, against a stand-in for Weaviate's REST API ----------------------


class FakeWeaviate:
    """Just enough of Weaviate's REST API: readiness (not ready for the first `not_ready`
    probes), the schema of one collection, and backups that finish after one status poll."""

    def __init__(self, *, not_ready: int = 0, backup_result: str = "SUCCESS") -> None:
        self.not_ready = not_ready
        self.backup_result = backup_result
        self.collections: dict[str, dict] = {}
        self.backups: dict[str, list[str]] = {}
        self.calls: list[tuple[str, str]] = []
        self.unauthorized = 0
        self.shard_replicas = 1

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        self.calls.append((method, path))
        if path == "/v1/.well-known/ready":
            if self.not_ready:
                self.not_ready -= 1
                return 503, None
            return 200, None
        if match := re.fullmatch(r"/v1/schema/(\w+)", path):
            name = match.group(1)
            if method == "GET":
                return (200, self.collections[name]) if name in self.collections else (404, None)
            if method == "PUT":
                # As Weaviate 1.38: a factor is raised only once every shard has the replicas.
                factor = self.collections[name]["replicationConfig"]["factor"]
                wanted = body["replicationConfig"]["factor"]
                if wanted > max(factor, self.shard_replicas):
                    message = (
                        f"not enough replicas in shard to increase replication factor to {wanted}"
                    )
                    return 422, {"error": [{"message": message}]}
                self.collections[name] = body
                return 200, body
        if path == "/v1/schema" and method == "POST":
            if body["class"] in self.collections:
                return 422, {"error": [{"message": "class already exists"}]}
            self.collections[body["class"]] = body
            return 200, body
        if match := re.fullmatch(r"/v1/backups/(\w+)", path):
            self.backups[body["id"]] = ["STARTED", self.backup_result]
            return 200, {"id": body["id"], "status": "STARTED", "backend": match.group(1)}
        if match := re.fullmatch(r"/v1/backups/(\w+)/([\w-]+)", path):
            phases = self.backups[match.group(2)]
            phase = phases.pop(0) if len(phases) > 1 else phases[0]
            return 200, {"id": match.group(2), "status": phase, "error": "disk full"}
        return 404, {"error": [{"message": f"no route {method} {path}"}]}


@pytest.fixture
def weaviate() -> Iterator[tuple[FakeWeaviate, str]]:
    fake = FakeWeaviate()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            # As in Weaviate, readiness needs no key; everything else does.
            anonymous = self.path == "/v1/.well-known/ready"
            if not anonymous and self.headers.get("Authorization") != f"Bearer {API_KEY}":
                fake.unauthorized += 1
                status, body = 401, {"error": [{"message": "anonymous access not enabled"}]}
            else:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, body = fake.handle(self.command, self.path, json.loads(raw or "null"))
            payload = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _answer  # noqa: N815 (http.server's handler names)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _run(url: str, mode: str, collection: dict | None = None, key: str = API_KEY):
    with tempfile.TemporaryDirectory() as directory:
        env = {
            "PATH": os.environ["PATH"],
            "WEAVIATE_URL": url,
            "WEAVIATE_API_KEY": key,
            "WAIT_SECONDS": "20",
            "POLL_SECONDS": "0.05",
            "BACKUP_BACKEND": "s3",
        }
        if collection is not None:
            path = Path(directory) / jobs.COLLECTION_FILE
            path.write_text(json.dumps(collection))
            env["COLLECTION_FILE"] = str(path)
        return subprocess.run(
            [sys.executable, str(SCRIPT), mode],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def _api_operation(method: str, path: str) -> bool:
    """Whether Weaviate's API has this call (a path matched against its templates)."""
    for template, operations in _openapi()["paths"].items():
        pattern = "/v1" + re.sub(r"\{[^}]+\}", r"[^/]+", template)
        if re.fullmatch(pattern, path) and method.lower() in operations:
            return True
    return False


def test_the_schema_step_waits_creates_keeps_and_updates_the_collection(
    weaviate: tuple[FakeWeaviate, str],
) -> None:
    fake, url = weaviate
    fake.not_ready = 2
    wanted = wv.render_collection(_store(replicas=1))
    first = _run(url, "schema", wanted)
    assert first.returncode == 0, first.stderr
    assert "created collection Document" in first.stdout
    assert first.stdout.count("waiting for Weaviate") == 2
    assert fake.collections["Document"] == wanted
    # Run again: nothing to do.
    again = _run(url, "schema", wanted)
    assert (again.returncode, again.stdout.strip()) == (0, "collection Document is as configured")
    # More nodes: Weaviate raises the factor only once the shards have the replicas; until
    # then the Job fails with its message and the way to copy them.
    grown = wv.render_collection(_store(replicas=3))
    refused = _run(url, "schema", grown)
    assert refused.returncode == 1
    assert "from 1 to 3: HTTP 422" in refused.stderr
    assert "POST /v1/replication/replicate" in refused.stderr
    assert fake.collections["Document"]["replicationConfig"] == {"factor": 1}
    fake.shard_replicas = 3  # the operator copied the shards
    updated = _run(url, "schema", grown)
    assert updated.returncode == 0, updated.stderr
    assert fake.collections["Document"]["replicationConfig"] == {"factor": 3}
    assert fake.unauthorized == 0
    assert all(_api_operation(method, path) for method, path in fake.calls), fake.calls


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"distance": "l2"}, "has distance cosine, but the store is configured for l2-squared"),
        (
            {"vectorizer": ("bge-m3", "http://vllm-bge-m3.inference.svc.cluster.local:8000/v1")},
            "is vectorized by none, but the store is configured for text2vec-openai",
        ),
    ],
)
def test_the_schema_step_refuses_a_collection_made_for_other_settings(
    weaviate: tuple[FakeWeaviate, str], change: dict[str, Any], message: str
) -> None:
    fake, url = weaviate
    assert _run(url, "schema", wv.render_collection(_store())).returncode == 0
    vectorizer = change.pop("vectorizer", None)
    refused = _run(url, "schema", wv.render_collection(_store(**change), vectorizer))
    assert refused.returncode == 1
    assert message in refused.stderr
    assert fake.collections["Document"]["vectorIndexConfig"] == {"distance": "cosine"}


def test_a_wrong_key_fails_at_once_with_weaviates_answer(
    weaviate: tuple[FakeWeaviate, str],
) -> None:
    fake, url = weaviate
    refused = _run(url, "schema", wv.render_collection(_store()), key="wrong")
    assert refused.returncode == 1
    assert "reading collection Document: HTTP 401" in refused.stderr
    assert "anonymous access not enabled" in refused.stderr
    assert fake.unauthorized == 1 and fake.collections == {}


@pytest.mark.parametrize(("result", "code"), [("SUCCESS", 0), ("FAILED", 1)])
def test_the_backup_step_starts_a_backup_and_reports_its_end(
    weaviate: tuple[FakeWeaviate, str], result: str, code: int
) -> None:
    fake, url = weaviate
    fake.backup_result = result
    done = _run(url, "backup")
    assert done.returncode == code, done.stderr
    (backup_id,) = fake.backups
    assert re.fullmatch(r"daily-\d{8}-\d{6}", backup_id)  # lowercase, digits and '-' only
    assert ("POST", "/v1/backups/s3") in fake.calls
    assert all(_api_operation(method, path) for method, path in fake.calls), fake.calls
    if code:
        assert f"backup {backup_id} FAILED: disk full" in done.stderr


# --- the program ---------------------------------------------------------------------------


def test_the_gke_example_wires_weaviate_to_its_embedding_model_gcp() -> None:
    recording = recorded("gcp-dev")
    namespaces = {
        r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"]
        for r in recording.of_type("kubernetes:core/v1:Namespace")
    }
    # Weaviate calls the embedding model, whose policy admits inference clients only.
    assert namespaces["data"]["gpuplatform.io/inference-client"] == "true"
    assert "gpuplatform.io/inference-client" not in namespaces["batch"]
    script = recording.one("kubernetes:core/v1:ConfigMap", "gcp-dev-weaviate-bootstrap").inputs
    collection = json.loads(script["data"][jobs.COLLECTION_FILE])
    assert collection["moduleConfig"]["text2vec-openai"] == {
        "baseURL": "http://vllm-bge-small.inference.svc.cluster.local:8000",
        "model": "bge-small",
        "vectorizeClassName": False,
    }
    assert script["data"][jobs.SCRIPT] == SCRIPT.read_text()
    job = recording.one("kubernetes:batch/v1:Job", "gcp-dev-weaviate-schema")
    assert job.inputs["metadata"]["name"] == script["metadata"]["name"].replace(
        "bootstrap", "schema"
    )
    assert "kubernetes:helm.sh/v3:Release::gcp-dev-weaviate-release" in job.options["dependsOn"]
    pod = job.inputs["spec"]["template"]["spec"]
    assert pod_security.violations(pod, "restricted") == []
    keys = recording.one("kubernetes:core/v1:Secret", "gcp-dev-weaviate-keys").inputs
    assert keys["stringData"] == SECRET
    credentials = recording.one(
        "kubernetes:core/v1:Secret", "gcp-dev-weaviate-inference-credentials"
    )
    assert credentials.inputs["stringData"] == SECRET
    contract = recording.one(
        "kubernetes:core/v1:ConfigMap", "gcp-dev-weaviate-inference-connection"
    )
    assert contract.inputs["data"]["vectorizer"] == "bge-small"
    assert contract.inputs["data"]["host"] == "weaviate.data.svc"
    assert recording.of_type("kubernetes:batch/v1:CronJob") == []  # dev keeps no backups


def test_production_weaviate_on_eks_is_protected_and_backed_up() -> None:
    recording = run_main(_weaviate_prod(), stack="prod")
    release = _release(recording)
    assert release.options["protect"] is True and release.options["retainOnDelete"] is True
    values = release.inputs["values"]
    assert values["replicas"] == 3
    assert values["backups"]["s3"]["envconfig"]["BACKUP_S3_BUCKET"].startswith(
        "prod-weaviate-backups-bucket-"
    )
    lifecycle = recording.one(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "prod-weaviate-backups-lifecycle",
    ).inputs["rules"][0]
    assert lifecycle["expiration"] == {"days": 14}  # Weaviate never deletes its own backups
    association = recording.one(
        "aws:eks/podIdentityAssociation:PodIdentityAssociation", "prod-weaviate-backups-identity"
    ).inputs
    assert (association["namespace"], association["serviceAccount"]) == ("data", "weaviate")
    cron = recording.one("kubernetes:batch/v1:CronJob").inputs
    assert cron["spec"]["schedule"] == jobs.BACKUP_SCHEDULE
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert (
        recording.one("aws:s3/bucket:Bucket", "prod-weaviate-backups-bucket").options["protect"]
        is True
    )
    assert recording.outputs["vectorStore"]["engine"] == "weaviate"
    validated, problems = recorded_object_errors(recording.resources, "1.36")
    assert problems == {} and validated >= 20
