"""vLLM serving: the fit check, rendered objects against upstream schemas and vLLM's own flags
and metrics, and the wiring under the mock engine."""

from __future__ import annotations

import json
from typing import Any

import promql_parser
import pytest
from harness import (
    HF_TOKEN,
    dev_variant,
    dev_variant_config,
    kubernetes_version,
    platform_config,
    recorded,
    refused,
    run_main,
)
from hypothesis import given
from test_labels import pools as pool_strategy
from upstream_checks import crd_errors, k8s_errors, promql_series, vllm_flags, vllm_series

from gpu_platform import labels
from gpu_platform.gcp.private_apis import PRIVATE_GOOGLE_APIS
from gpu_platform.pools import NodePoolSpec
from gpu_platform.serving import autoscaling, exposure, workload
from gpu_platform.serving.rules import model_fit
from gpu_platform.serving.spec import ModelSpec
from stacks.config import ConfigError, parse
from tools.mockdata import RESOLVED_AT_DEPLOY
from tools.mockengine import Recording

DEV_VERSION = kubernetes_version("dev")
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
VARIANT_VERSION = dev_variant_config()["cluster"]["kubernetesVersion"]


def _pool(gpu: str = "l4", count: int = 1, **extra: Any) -> NodePoolSpec:
    raw = {"gpu": gpu, "gpusPerNode": count, "capacity": "on-demand", "maxNodes": 4, **extra}
    return NodePoolSpec.model_validate(raw)


def _model(**extra: Any) -> ModelSpec:
    raw = {"source": "org/model", "nodePool": "p", "maxReplicas": 1, "parametersB": 8.0}
    return ModelSpec.model_validate({**raw, **extra})


# (model, GPU pool, GPUs per replica, extra model settings, fits?)
FIT_TABLE = [
    ("Llama-3.1-8B bf16", 8.0, _pool("l4"), 1, {}, True),
    ("Llama-3.1-8B bf16, 128k context", 8.0, _pool("l4"), 1, {"maxModelLen": 131072}, False),
    ("Llama-3.1-70B bf16", 70.6, _pool("l4"), 1, {}, False),
    ("Llama-3.1-70B bf16", 70.6, _pool("h100", 8), 1, {}, False),
    ("Llama-3.1-70B bf16 on 2 H100", 70.6, _pool("h100", 8), 2, {"maxModelLen": 32768}, False),
    ("Llama-3.1-70B bf16 on 4 H100", 70.6, _pool("h100", 8), 4, {"maxModelLen": 32768}, True),
    ("Llama-3.1-70B AWQ", 70.6, _pool("h100", 8), 1, {"quantization": "awq"}, True),
    (
        "Llama-3.1-70B FP8 on 1 A100 80GB",
        70.6,
        _pool("a100-80gb", 8),
        1,
        {"quantization": "fp8"},
        False,
    ),
    ("Llama-3.1-70B FP8 on 2 H100", 70.6, _pool("h100", 8), 2, {"quantization": "fp8"}, True),
    ("Llama-3.1-405B FP8", 405.0, _pool("h100", 8), 8, {"quantization": "fp8"}, True),
    ("Llama-3.1-405B bf16", 405.0, _pool("h100", 8), 8, {}, False),
    (
        "Qwen2.5-1.5B on a 1g.10gb slice",
        1.5,
        _pool("h100", 8, sharing={"mode": "mig", "migProfile": "1g.10gb"}),
        1,
        {},
        True,
    ),
    (
        "Llama-3.1-8B on a 1g.10gb slice",
        8.0,
        _pool("h100", 8, sharing={"mode": "mig", "migProfile": "1g.10gb"}),
        1,
        {},
        False,
    ),
    (
        "Llama-3.1-8B on a 3g.40gb slice",
        8.0,
        _pool("a100-80gb", 8, sharing={"mode": "mig", "migProfile": "3g.40gb"}),
        1,
        {},
        True,
    ),
    (
        "Llama-3.1-8B on an L4 shared by 2",
        8.0,
        _pool("l4", sharing={"mode": "time-slicing", "replicas": 2}),
        1,
        {},
        False,
    ),
    (
        "Qwen2.5-3B on an L4 shared by 2",
        3.0,
        _pool("l4", sharing={"mode": "time-slicing", "replicas": 2}),
        1,
        {},
        True,
    ),
    ("Mistral-7B AWQ on A100 40GB", 7.2, _pool("a100-40gb", 8), 1, {"quantization": "awq"}, True),
]


@pytest.mark.parametrize(
    ("params", "pool", "gpus", "extra", "fits"),
    [pytest.param(p, pool, g, e, f, id=name) for name, p, pool, g, e, f in FIT_TABLE],
)
def test_fit_table(params: float, pool: NodePoolSpec, gpus: int, extra: dict, fits: bool) -> None:
    model = _model(parametersB=params, gpusPerReplica=gpus, **extra)
    assert model_fit(model, pool).fits is fits


def test_kv_cache_and_weights_arithmetic() -> None:
    result = model_fit(_model(parametersB=8.0, maxModelLen=8192), _pool("l4"))
    # 8e9 params x 2 bytes; 32 layers x 8 KV heads x 128 dims x 2 (K,V) x 2 bytes x 8192 tokens.
    assert result.weights_gib == pytest.approx(8e9 * 2 / 2**30)
    assert result.kv_cache_gib == pytest.approx(32 * 8 * 128 * 2 * 2 * 8192 / 2**30)
    assert result.available_gib == pytest.approx(23034 / 1024 * 0.9)


def _stack_with(stack: str, **model: Any) -> dict:
    config = platform_config(stack)
    config["models"] = {
        "m": {
            "source": "meta-llama/Llama-3.1-8B-Instruct",
            "maxReplicas": 1,
            "parametersB": 8.0,
            **model,
        }
    }
    return config


def _problems(config: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(config)
    return caught.value.problems


def test_a_model_that_does_not_fit_says_what_would() -> None:
    (problem,) = _problems(_stack_with("dev", nodePool="l4-spot", parametersB=70.6))
    assert problem.startswith("models.m: does not fit: needs ")
    assert "1 l4 GPU(s) give 20.2 GiB" in problem
    assert "try a h100 pool (2 GPUs per replica)" in problem
    (long_context,) = _problems(_stack_with("dev", nodePool="l4-spot", maxModelLen=65536))
    assert "quantization: fp8" in long_context and "a shorter maxModelLen" in long_context
    assert parse(_stack_with("dev", nodePool="l4-spot")).models["m"].parameters_b == 8.0


@pytest.mark.parametrize(
    ("stack", "model", "expected"),
    [
        ("dev", {"nodePool": "nowhere"}, "models.m.nodePool: no pool nowhere"),
        (
            "dev",
            {"nodePool": "l4-batch-spot"},
            "models.m.nodePool: pool l4-batch-spot is for batch",
        ),
        (
            "dev",
            {"nodePool": "l4-spot", "gpusPerReplica": 3},
            "models.m.gpusPerReplica: tensor parallelism needs a power of two",
        ),
        (
            "dev",
            {"nodePool": "l4-spot", "gpusPerReplica": 2},
            "models.m.gpusPerReplica: 2 GPUs per replica, but l4-spot nodes have 1",
        ),
        (
            "dev",
            {"nodePool": "l4-batch-spot", "gpusPerReplica": 2},
            "models.m.gpusPerReplica: pool l4-batch-spot shares its GPUs (time-slicing)",
        ),
        ("prod", {"nodePool": "l4-spot"}, "models.m.revision: production serves a pinned commit"),
        ("dev", {"nodePool": "l4-spot", "revision": "main"}, "models.m.revision: pin a commit"),
        (
            "dev",
            {"nodePool": "l4-spot", "maxReplicas": 5},
            "models.m.maxReplicas: 5 replicas of 1 GPU(s) do not fit pool l4-spot",
        ),
        (
            "gcp-dev",
            {"nodePool": "l4-spot", "source": "s3://bucket/llama/"},
            "models.m.source: s3:// weights are not reachable from gcp",
        ),
        (
            "dev",
            {"nodePool": "l4-spot", "image": "vllm/vllm-openai:latest"},
            "models.m.image: pin the image",
        ),
        (
            "dev",
            {"nodePool": "l4-spot", "fallbackReplicas": 3},
            "models.m.fallbackReplicas: must be between",
        ),
        ("dev", {"nodePool": "l4-spot", "source": "llama"}, "models.m.source: use a hub id"),
    ],
)
def test_bad_models_name_the_key(stack: str, model: dict, expected: str) -> None:
    problems = _problems(_stack_with(stack, **model))
    assert any(p.startswith(expected) for p in problems), problems


def test_pools_hold_all_their_models_at_once() -> None:
    config = platform_config("dev")
    second = {**config["models"]["qwen-7b"], "maxReplicas": 3}
    config["models"]["qwen-7b-copy"] = second  # 1 (bge-small) + 2 + 3 GPUs > 4 L4 nodes
    (problem,) = _problems(config)
    assert problem.startswith(
        "nodePools.l4-spot.maxNodes: models bge-small, qwen-7b, qwen-7b-copy need up to 6 GPUs"
    )
    second["maxReplicas"] = 1
    assert len(parse(config).models) == 3


def test_shared_memory_grows_with_tensor_parallelism() -> None:
    pool = _pool("h100", 8)
    sizes = []
    for gpus in (1, 2, 4):
        pod = workload.render_workload(
            name="vllm-m",
            namespace="inference",
            model_name="m",
            model=_model(parametersB=8.0, gpusPerReplica=gpus),
            pools={"p": pool},
            cloud="aws",
            strategy="none",
            hf_token_secret=None,
        )["spec"]["template"]["spec"]
        shm = next(v for v in pod["volumes"] if v["name"] == "shm")["emptyDir"]["sizeLimit"]
        sizes.append(int(shm.removesuffix("Gi")))
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]


def test_single_replica_models_get_no_disruption_budget() -> None:
    assert exposure.render_pdb("vllm-m", "inference", _model(maxReplicas=1)) is None
    pdb = exposure.render_pdb("vllm-m", "inference", _model(maxReplicas=2))
    assert pdb["spec"]["maxUnavailable"] == 1


def test_bad_model_name() -> None:
    config = platform_config("dev")
    config["models"] = {"Llama_8B": config["models"]["qwen-7b"]}
    assert _problems(config)[0].startswith("models.Llama_8B: not a valid model name")


@pytest.fixture(scope="module")
def dev() -> Recording:
    """dev's model served with a Hugging Face token (the session's shared dev variant: its
    other changes do not touch serving)."""
    return dev_variant()[0]


def _manifests(recording: Recording, model: str = "qwen-7b") -> dict[str, dict]:
    prefix = f"gpuplatform:serving:VllmService::dev-{model}"
    return {r.inputs["kind"]: r.inputs for r in recording.resources if r.parent == prefix}


def test_dev_serves_a_small_model_on_the_l4_spot_pool(dev: Recording) -> None:
    objects = _manifests(dev)
    assert set(objects) == {
        "ServiceAccount",
        "StatefulSet",
        "Service",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "ScaledObject",
        "PodMonitor",
        "InterceptorRoute",  # it scales to zero (tests/test_scale_to_zero.py)
    }
    assert k8s_errors(objects["PodMonitor"], VARIANT_VERSION) == []
    monitor = dev.one("kubernetes:monitoring.coreos.com/v1:PodMonitor", "dev-qwen-7b-monitor")
    assert "kubernetes:helm.sh/v3:Release::dev-prometheus-release" in monitor.options["dependsOn"]
    pod = objects["StatefulSet"]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"gpuplatform.io/pool": "l4-spot"}
    assert dev.outputs["models"] == {
        "bge-small": "http://vllm-bge-small.inference.svc.cluster.local:8000/v1",
        "qwen-7b": "http://vllm-qwen-7b.inference.svc.cluster.local:8000/v1",
    }


def test_prod_serves_a_large_model_with_tensor_parallelism() -> None:
    prod = recorded("prod")
    deployment = prod.one("kubernetes:apps/v1:StatefulSet", "prod-qwen-72b-server").inputs
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][container["args"].index("--tensor-parallel-size") + 1] == "4"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "4"
    # Its tiers: the reserved pool first, spot when it is full (tests/test_tiers.py).
    affinity = deployment["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
    required = affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert required[0]["matchExpressions"][0]["values"] == ["h100-reserved", "h100-spot"]


def test_objects_validate_against_kubernetes_and_crd_schemas(dev: Recording) -> None:
    objects = _manifests(dev)
    for kind in (
        "ServiceAccount",
        "StatefulSet",
        "Service",
        "PodDisruptionBudget",
        "NetworkPolicy",
    ):
        assert k8s_errors(objects[kind], VARIANT_VERSION) == [], kind
    assert crd_errors(objects["ScaledObject"], "keda.sh_scaledobjects.yaml") == []
    monitor = exposure.render_pod_monitor("vllm-m", "inference")
    assert k8s_errors(monitor, DEV_VERSION) == []
    assert monitor["metadata"]["labels"][next(iter(labels.PROMETHEUS_SELECTOR))] == "platform"


def test_crd_check_catches_a_bad_scaled_object() -> None:
    bad = autoscaling.render_scaled_object("x", "inference", "x", "x", _model(maxReplicas=2))
    bad["spec"]["minReplicaCount"] = "one"
    assert crd_errors(bad, "keda.sh_scaledobjects.yaml")


def test_every_vllm_flag_is_one_vllm_accepts() -> None:
    accepted, removed = vllm_flags()
    models = [
        _model(),
        _model(revision="a" * 40, quantization="awq", gpusPerReplica=2),
        _model(source="s3://weights/llama/"),
    ]
    for model in models:
        flags = [a for a in workload.render_args("m", model, _pool("l4", 4)) if a.startswith("--")]
        assert flags and set(flags) <= accepted, set(flags) - accepted
        assert not set(flags) & removed


def test_every_promql_series_is_one_vllm_exposes(dev: Recording) -> None:
    triggers = _manifests(dev)["ScaledObject"]["spec"]["triggers"]
    series = [
        s
        for t in triggers
        if t["type"] == "prometheus"
        for s in promql_series(promql_parser.parse(t["metadata"]["query"]))
    ]
    assert series == ["vllm:num_requests_waiting", "vllm:kv_cache_usage_perc"]
    assert set(series) <= vllm_series()
    assert "vllm:gpu_cache_usage_perc" not in vllm_series(), "removed series must not be used"


def test_scaled_object_scales_up_fast_and_down_slowly(dev: Recording) -> None:
    spec = _manifests(dev)["ScaledObject"]["spec"]
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (0, 2)  # dev's scales to zero
    # Metrics unreadable: one replica, even for a model that scales to zero.
    assert spec["fallback"] == {"failureThreshold": 3, "replicas": 1}
    behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert behavior["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] >= 300
    queue, kv, _ = spec["triggers"]
    assert queue["metadata"]["threshold"] == "4" and queue["metricType"] == "AverageValue"
    assert kv["metadata"]["threshold"] == "0.8" and kv["metricType"] == "Value"
    assert 'model_name="qwen-7b"' in queue["metadata"]["query"]
    scaler = dev.one("kubernetes:keda.sh/v1alpha1:ScaledObject", "dev-qwen-7b-scaler")
    assert "kubernetes:helm.sh/v3:Release::dev-keda-release" in scaler.options["dependsOn"]
    server = dev.one("kubernetes:apps/v1:StatefulSet", "dev-qwen-7b-server")
    assert server.options["ignoreChanges"] == ["spec.replicas"]
    assert spec["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "name": "vllm-qwen-7b",
    }


def test_pod_is_hardened_probed_and_drained(dev: Recording) -> None:
    pod = _manifests(dev)["StatefulSet"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == (
        "vllm/vllm-openai:v0.21.0"
        "@sha256:a230095847e93bd4df9888b33dab956fa9504537b828a23657d2b26fed57b5c9"
    ), "pinned by tag and digest"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] >= 10000, "above the uids images and nodes use"
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert pod["priorityClassName"] == "inference"
    startup = container["startupProbe"]
    assert startup["httpGet"]["path"] == "/health"
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["lifecycle"]["preStop"]["sleep"]["seconds"] > 0
    # dev's model runs on a spot pool: its drain fits in AWS's two-minute notice.
    assert pod["terminationGracePeriodSeconds"] == 110
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["shm"]["emptyDir"]["medium"] == "Memory"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/dev/shm", "/cache"} <= mounts
    env = {e["name"]: e for e in container["env"]}
    assert env["HF_HOME"]["value"] == "/cache/huggingface"
    assert env["HF_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "hf-token", "key": "HF_TOKEN"}
    spec = _manifests(dev)["StatefulSet"]["spec"]
    assert spec["podManagementPolicy"] == "Parallel"
    assert spec["updateStrategy"] == {"type": "RollingUpdate"}
    annotations = spec["template"]["metadata"]["annotations"]
    assert annotations == {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}
    spread = {c["topologyKey"] for c in pod["topologySpreadConstraints"]}
    assert spread == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}


def test_cache_follows_the_pools_zones(dev: Recording) -> None:
    # dev's l4-spot spans two zones: a cache per pod, so a replica can land in either zone.
    spec = _manifests(dev)["StatefulSet"]["spec"]
    volumes = {v["name"]: v for v in spec["template"]["spec"]["volumes"]}
    assert "volumeClaimTemplates" not in spec
    claim = volumes["cache"]["ephemeral"]["volumeClaimTemplate"]["spec"]
    assert claim["accessModes"] == ["ReadWriteOnce"]
    # prod's qwen-72b overflows from a reserved pool in one zone to a spot pool in three: a
    # cache per pod too, so a replica is not pinned to the zone of its volume.
    prod = recorded("prod").one("kubernetes:apps/v1:StatefulSet", "prod-qwen-72b-server").inputs
    assert "volumeClaimTemplates" not in prod["spec"]
    # A model whose pools are all in one zone keeps each replica's cache across restarts and
    # scale-down.
    server = workload.render_workload(
        name="vllm-m",
        namespace="inference",
        model_name="m",
        model=_model(maxReplicas=2),
        pools={"p": _pool("l4")},
        cloud="aws",
        strategy="none",
        hf_token_secret=None,
        zones=("us-east-1a",),
    )
    (template,) = server["spec"]["volumeClaimTemplates"]
    assert template["metadata"]["name"] == "cache"
    assert server["spec"]["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Delete",
        "whenScaled": "Retain",
    }
    assert "cache" not in {v["name"] for v in server["spec"]["template"]["spec"]["volumes"]}
    assert k8s_errors(server, kubernetes_version("prod")) == []
    assert k8s_errors(prod, kubernetes_version("prod")) == []


@pytest.fixture(scope="module")
def two_models() -> Recording:
    """dev serving qwen-7b from the hub (not mirrored), and `weights`, an embedding model
    streamed from S3 (beside dev's own bge-small, mirrored)."""
    config = platform_config("dev")
    config["models"]["qwen-7b"]["mirror"] = False
    config["models"]["weights"] = _streamed("s3://model-bucket/llama/8b/") | {
        "task": "embed",
        "maxModelLen": 8192,
        "dimensions": 384,  # dev's vector store
    }
    return run_main(config, stack="dev")


def test_a_cache_class_no_driver_serves_is_refused_with_what_to_do_instead() -> None:
    config = platform_config("dev")
    config["models"]["qwen-7b"]["cacheStorageClass"] = "efs-sc"
    (problem,) = refused(config)
    assert problem.startswith(
        "models.qwen-7b.cacheStorageClass: no longer supported: the platform installs no "
        "ReadWriteMany storage driver"
    )


def test_cache_size_is_stable_across_quantization() -> None:
    plain, fp8 = _model(parametersB=70.6), _model(parametersB=70.6, quantization="fp8")
    assert workload.cache_size_gib(plain) == workload.cache_size_gib(fp8) == 300
    assert workload.cache_size_gib(_model(parametersB=8.0)) == 50
    assert workload.cache_size_gib(_model(parametersB=8.0, cacheGiB=80)) == 80


def test_hf_token_stays_secret(dev: Recording) -> None:
    secret = dev.one("kubernetes:core/v1:Secret", "dev-hf-token")
    assert secret.inputs["stringData"] == "[secret]"
    everything = json.dumps([r.as_json() for r in dev.resources]) + json.dumps(dev.outputs)
    assert HF_TOKEN not in everything
    assert (
        "kubernetes:core/v1:Secret::dev-hf-token"
        in dev.one("kubernetes:apps/v1:StatefulSet", "dev-qwen-7b-server").options["dependsOn"]
    )


def test_network_policy_admits_only_clients_and_monitoring(dev: Recording) -> None:
    spec = _manifests(dev)["NetworkPolicy"]["spec"]
    sources = spec["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {exposure.CLIENT_LABEL: "true"}}} in sources
    assert {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "observability"}}
    } in sources
    ports = [p for rule in spec["egress"] for p in rule["ports"]]
    assert sorted(p["port"] for p in ports) == [53, 53, 443]


@given(pool_strategy())
def test_model_pods_tolerate_their_pool_and_request_what_it_advertises(case: tuple) -> None:
    cloud, pool = case
    model = _model(parametersB=0.5, maxModelLen=1024)
    for strategy in ("single", "mixed"):
        resources = workload.render_resources(cloud, model, pool, strategy)
        advertised = labels.advertised_resources(cloud, pool, strategy)
        assert set(resources["limits"]) - {"memory"} == set(advertised)
    pod = workload.render_workload(
        name="vllm-m",
        namespace="inference",
        model_name="m",
        model=model,
        pools={"p": pool},
        cloud=cloud,
        strategy="mixed",
        hf_token_secret=None,
    )["spec"]["template"]["spec"]
    for taint in labels.pool_taints(cloud, pool):
        assert any(labels.tolerates(t, taint) for t in pod["tolerations"])


def test_mig_models_request_the_slice_and_fit_its_memory() -> None:
    mig = _pool("h100", 8, sharing={"mode": "mig", "migProfile": "3g.40gb"})
    model = _model(parametersB=8.0)
    mixed = workload.render_resources("aws", model, mig, "mixed")["limits"]
    assert mixed["nvidia.com/mig-3g.40gb"] == "1" and "nvidia.com/gpu" not in mixed
    assert workload.render_resources("aws", model, mig, "single")["limits"]["nvidia.com/gpu"] == "1"
    assert workload.render_resources("gcp", model, mig, "mixed")["limits"]["nvidia.com/gpu"] == "1"
    assert model_fit(model, mig).available_gib == pytest.approx(40e9 * 0.9 / 2**30)
    shared = _pool("l4", sharing={"mode": "time-slicing", "replicas": 4})
    args = workload.render_args("m", _model(parametersB=1.0), shared)
    assert args[args.index("--gpu-memory-utilization") + 1] == "0.225"


def _streamed(source: str) -> dict[str, Any]:
    """A model whose weights are streamed from object storage."""
    return {"source": source, "nodePool": "l4-spot", "maxReplicas": 1, "parametersB": 8.0}


def test_s3_weights_are_readable_by_exactly_this_model(two_models: Recording) -> None:
    recording = two_models
    association = [
        r
        for r in recording.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
        if r.parent == "gpuplatform:serving:ModelWeightsAccess::dev-weights-weights"
    ]
    assert len(association) == 1
    access = [r.name for r in recording.of_type("gpuplatform:serving:ModelWeightsAccess")]
    # The hub model beside it gets no cloud identity (bge-small reads its mirror).
    assert sorted(access) == ["dev-bge-small-weights", "dev-weights-weights"]
    assert association[0].inputs["namespace"] == "inference"
    assert association[0].inputs["serviceAccount"] == "vllm-weights"
    policy = json.loads(
        recording.one("aws:iam/rolePolicy:RolePolicy", "dev-weights-weights-read").inputs["policy"]
    )
    read = next(s for s in policy["Statement"] if s["Sid"] == "ReadWeights")
    assert read["Resource"] == "arn:aws:s3:::model-bucket/llama/8b/*"
    listing = next(s for s in policy["Statement"] if s["Sid"] == "ListWeights")
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["llama/8b/*"]}}
    deployment = recording.one(STATEFUL_SET, "dev-weights-server")
    pod = deployment.inputs["spec"]["template"]["spec"]
    args = pod["containers"][0]["args"]
    assert args[0] == "s3://model-bucket/llama/8b/"
    assert args[args.index("--load-format") + 1] == "runai_streamer"
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["AWS_REGION"] == "us-east-1"
    # Streamed weights are not cached on disk, and nothing is looked up on the hub.
    assert "HF_HOME" not in env
    assert env["HF_HUB_OFFLINE"] == "1"
    assert "cache" not in {v["name"] for v in pod["volumes"]}
    egress = _manifests(recording, "weights")["NetworkPolicy"]["spec"]["egress"]
    assert {
        "to": [{"ipBlock": {"cidr": "169.254.170.23/32"}}],
        "ports": [{"protocol": "TCP", "port": 80}],
    } in egress
    # HTTPS to S3's addresses only: the region's prefix list, which the cloud gives at deploy.
    assert {
        "to": [{"ipBlock": {"cidr": RESOLVED_AT_DEPLOY}}],
        "ports": [{"protocol": "TCP", "port": 443}],
    } in egress
    assert len(egress) == 3
    assert (
        "aws:eks/podIdentityAssociation:PodIdentityAssociation::dev-weights-weights-identity"
        in deployment.options["dependsOn"]
    )


def test_gcs_weights_use_workload_identity() -> None:
    config = platform_config("gcp-dev")
    config["models"] = {"weights": _streamed("gs://model-bucket/llama/")}
    recording = run_main(config, stack="gcp-dev")
    account = recording.one("gcp:serviceaccount/account:Account", "gcp-dev-weights-weights-account")
    assert account.inputs["accountId"] == "vllm-weights"
    read = recording.one("gcp:storage/bucketIAMMember:BucketIAMMember").inputs
    assert (read["bucket"], read["role"]) == ("model-bucket", "roles/storage.objectViewer")
    # Objects under the model's prefix only (and listing, which GCS checks on the bucket).
    assert read["condition"]["expression"] == (
        'resource.type == "storage.googleapis.com/Bucket" || '
        'resource.name.startsWith("projects/_/buckets/model-bucket/objects/llama/")'
    )
    impersonate = recording.one("gcp:serviceaccount/iAMMember:IAMMember").inputs
    assert (
        impersonate["member"] == "serviceAccount:my-gpu-project.svc.id.goog[inference/vllm-weights]"
    )
    assert impersonate["role"] == "roles/iam.workloadIdentityUser"
    sa = recording.one("kubernetes:core/v1:ServiceAccount", "gcp-dev-weights-sa").inputs
    assert sa["metadata"]["annotations"]["iam.gke.io/gcp-service-account"].startswith(
        "vllm-weights@"
    )
    policy = recording.one(NETWORK_POLICY, "gcp-dev-weights-netpol")
    egress = policy.inputs["spec"]["egress"]
    cidrs = {rule["to"][0]["ipBlock"]["cidr"] for rule in egress if "ipBlock" in rule["to"][0]}
    assert cidrs == {"169.254.169.254/32", "169.254.169.252/32", PRIVATE_GOOGLE_APIS}
    https = [rule["to"] for rule in egress if rule["ports"] == [{"protocol": "TCP", "port": 443}]]
    assert https == [[{"ipBlock": {"cidr": PRIVATE_GOOGLE_APIS}}]]


def test_hub_models_get_no_cloud_identity(dev: Recording) -> None:
    access = [r.name for r in dev.of_type("gpuplatform:serving:ModelWeightsAccess")]
    assert "dev-qwen-7b-weights" not in access  # served from the hub (mirror: false)
    egress = _manifests(dev)["NetworkPolicy"]["spec"]["egress"]
    # Link-local addresses (instance metadata, credential agents) appear only as exceptions.
    peers = [peer for rule in egress for peer in rule["to"]]
    assert all("169.254" not in peer["ipBlock"]["cidr"] for peer in peers if "ipBlock" in peer)
    assert egress == exposure.render_network_policy("m", "inference")["spec"]["egress"]
    env = {
        e["name"]
        for e in _manifests(dev)["StatefulSet"]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert "HF_HUB_OFFLINE" not in env


def test_embedding_models_run_vllms_pooling_runner(two_models: Recording) -> None:
    accepted, removed = vllm_flags()

    def args(model: str) -> list[str]:
        server = two_models.one(STATEFUL_SET, f"dev-{model}-server").inputs
        return server["spec"]["template"]["spec"]["containers"][0]["args"]

    embed, chat = args("weights"), args("qwen-7b")
    assert embed[embed.index("--runner") + 1] == "pooling"
    assert "--enable-prefix-caching" not in embed
    assert "--runner" not in chat and "--enable-prefix-caching" in chat
    flags = {a for a in embed + chat if a.startswith("--")}
    assert flags <= accepted and not flags & removed
    # Placed, exposed and autoscaled like any model.
    assert set(_manifests(two_models, "weights")) == set(_manifests(two_models, "qwen-7b")) - {
        "PodDisruptionBudget",  # one replica at most
        "PersistentVolumeClaim",  # streamed weights, no cache
        "InterceptorRoute",  # dev's qwen-7b scales to zero
    }


def test_a_task_vllm_is_not_asked_for_is_refused() -> None:
    config = platform_config("dev")
    config["models"]["qwen-7b"]["task"] = "classify"
    assert _problems(config)[0].startswith("models.qwen-7b.task:")


def test_an_embedding_model_states_its_context_length() -> None:
    """The default (8192) is longer than many embedding models take, and vLLM refuses to start
    with a longer one than the model has."""
    config = platform_config("dev")
    model = config["models"]["qwen-7b"]
    model["task"] = "embed"
    model["dimensions"] = 384
    del model["maxModelLen"]
    assert _problems(config) == [
        "models.qwen-7b.maxModelLen: set it for an embedding model: its context length (often "
        "512 or 8192, max_position_embeddings in its config.json); vLLM refuses to start with a "
        "longer one than the model has"
    ]
    model["maxModelLen"] = 512
    assert parse(config).models["qwen-7b"].max_model_len == 512
