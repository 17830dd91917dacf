"""The cold-start estimate: each part from its stated rate, more bytes never starting faster,
the startup probe and Pulumi's awaits sized from it, and the plan warning about a model whose
cold start is over its budget, naming the biggest part."""

from __future__ import annotations

import math
from typing import Any

import pytest
from harness import planned, platform_config, recorded
from hypothesis import given
from hypothesis import strategies as st
from upstream_checks import vllm_flags

from gpu_platform.catalog import Cloud
from gpu_platform.pools import NodePoolSpec
from gpu_platform.serving import coldstart, vllm_service, workload
from gpu_platform.serving.spec import ModelSpec
from stacks.config import parse
from tools import findings

STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"


def _model(**settings: Any) -> ModelSpec:
    return ModelSpec.model_validate(
        {"source": "org/m", "nodePool": "p", "maxReplicas": 1, "parametersB": 8, **settings}
    )


def _pool(gpu: str, count: int, capacity: str) -> NodePoolSpec:
    extra = {"reservation": "cr-0123456789abcdef0"} if capacity == "reserved" else {}
    return NodePoolSpec.model_validate(
        {"gpu": gpu, "gpusPerNode": count, "maxNodes": 2, "capacity": capacity, **extra}
    )


# (model settings, pool, cloud, source, expected seconds per part: node, image, weights,
# warm-up). 8B bf16 = 16 GB: 160 s from the hub + 122.1 s read back at gp3's 125 MiB/s; 16 s
# streamed. 70B fp8 may come as a 16-bit checkpoint, 140 GB: 1400 s + 1068.1 s from the hub;
# 140 s streamed. The 10 GB image: 55.6 s pulled in parallel (EKS), a minute streamed (GKE).
TABLE = [
    ({}, _pool("l4", 1, "spot"), "aws", "hub", (360, 56, 283, 60)),
    (
        {"source": "s3://bucket/m/"},
        _pool("l4", 1, "on-demand"),
        "aws",
        "stream",
        (300, 56, 16, 60),
    ),
    (
        {"parametersB": 70, "quantization": "fp8", "gpusPerReplica": 4},
        _pool("h100", 8, "reserved"),
        "aws",
        "hub",
        (420, 56, 2469, 60),
    ),
    (
        {"parametersB": 70, "quantization": "fp8", "gpusPerReplica": 4, "source": "gs://bucket/m/"},
        _pool("a100-80gb", 8, "spot"),
        "gcp",
        "stream",
        (480, 60, 140, 60),
    ),
]


@pytest.mark.parametrize(("settings", "pool", "cloud", "source", "parts"), TABLE)
def test_each_part_follows_its_rate(
    settings: dict, pool: NodePoolSpec, cloud: Cloud, source: str, parts: tuple[int, ...]
) -> None:
    model = _model(**settings)
    assert coldstart.source_of(model) == source
    start = coldstart.cold_start(model, pool, cloud, node_running=False)
    assert dict(start.parts()) == dict(
        zip(("node", "image", "weights", "warm-up"), parts, strict=True)
    )
    assert start.total_seconds == sum(parts)
    # On a running node only the node's part goes; on a node that ran it, the image too.
    running = coldstart.cold_start(model, pool, cloud, node_running=True)
    assert running.total_seconds == sum(parts[1:])
    warm = coldstart.warm_start(model, cache_kept=False)
    assert (warm.node_seconds, warm.image_seconds, warm.weights_seconds) == (0, 0, parts[2])


@given(
    st.floats(min_value=0.01, max_value=1000),
    st.floats(min_value=0.01, max_value=1000),
    st.sampled_from([None, "fp8", "awq"]),
)
def test_more_bytes_never_start_faster(small: float, large: float, quantization: Any) -> None:
    small, large = sorted((small, large))
    for source in ("hub", "stream", "cache"):
        a = coldstart.weights_seconds(_model(parametersB=small, quantization=quantization), source)
        b = coldstart.weights_seconds(_model(parametersB=large, quantization=quantization), source)
        assert a <= b
    # The same bytes: streamed no slower than read from a cache, which beats the hub.
    model = _model(parametersB=large, quantization=quantization)
    stream, cache, hub = (coldstart.weights_seconds(model, s) for s in ("stream", "cache", "hub"))
    assert stream <= cache <= hub


def test_the_startup_probe_and_pulumis_awaits_follow_the_estimate() -> None:
    hub = _model(parametersB=72.7, gpusPerReplica=4)
    pool = _pool("h100", 8, "on-demand")

    def probe_budget(**weights: str) -> int:
        pod = workload.render_workload(
            name="vllm-m",
            namespace="inference",
            model_name="m",
            model=hub,
            pools={"p": pool},
            cloud="aws",
            strategy="none",
            hf_token_secret=None,
            **weights,
        )["spec"]["template"]["spec"]
        probe = pod["containers"][0]["startupProbe"]
        return probe["periodSeconds"] * probe["failureThreshold"]

    # 72.7B bf16 from the hub: 1454 s down and 1109.3 s read back (2564 s), 60 s warm-up; twice.
    assert coldstart.probe_seconds(hub) == 2 * (2564 + 60)
    assert probe_budget() == math.ceil(coldstart.probe_seconds(hub) / 10) * 10
    # Streamed from a mirror: 146 s, well inside the ten-minute floor.
    assert probe_budget(weights="s3://bucket/models/org/m/rev/") == 600
    # prod's 72B model streams from the stack's mirror, on a reserved pool whose nodes run: its
    # await is twice the image, the weights and the warm-up, under the 45-minute floor.
    config = parse(platform_config("prod"))
    start = coldstart.on_pool(
        config.models["qwen-72b"], config.node_pools["h100-reserved"], "aws", True
    )
    assert (start.node_seconds, start.weights_seconds) == (0, 146)
    server = recorded("prod").one(STATEFUL_SET, "prod-qwen-72b-server")
    assert server.options["customTimeouts"]["create"] == "45m"
    # A model downloading 145 GB from the hub waits longer than the floor.
    assert vllm_service.await_minutes(coldstart.on_pool(hub, pool, "aws")) == math.ceil(
        2 * (420 + 56 + 2564 + 60) / 60
    )


def test_the_plan_warns_about_a_cold_start_over_budget_and_names_the_biggest_part() -> None:
    warnings = [f for f in planned("prod").findings if f.rule == "cold-start"]
    messages = {f.message.split(":")[0]: f.message for f in warnings}
    # Mirrored and streamed, the 72B model's start is mostly its node booting.
    assert set(messages) == {"models.qwen-72b"}
    assert "most of it is the node: keep a node warm" in messages["models.qwen-72b"]
    # Served from the hub, the weights dominate.
    hub = coldstart.ModelStart(
        "m",
        coldstart.cold_start(
            _model(parametersB=70), _pool("h100", 8, "spot"), "aws", node_running=False
        ),
        coldstart.warm_start(_model(parametersB=70), cache_kept=False),
        600,
    )
    (finding,) = findings.slow_cold_starts([hub])
    assert "most of it is the weights: stream the weights from object storage" in finding.message
    # Within budget: no warning (bge-m3: under nine minutes on a new node).
    start = next(s for s in planned("prod").cold_starts if s.model == "bge-m3")
    assert start.cold.total_seconds <= start.budget_seconds
    relaxed = coldstart.ModelStart("m", start.cold, start.warm, start.cold.total_seconds - 1)
    assert [f.rule for f in findings.slow_cold_starts([relaxed])] == ["cold-start"]
    document = planned("prod").as_json()["coldStarts"]["qwen-72b"]
    assert document["coldNodeSeconds"] == sum(document["parts"].values())


def test_enforce_eager_skips_the_cuda_graph_capture() -> None:
    """`enforceEager` passes vLLM's own flag and takes graph capture out of the estimate."""
    accepted, _removed = vllm_flags()
    eager, graphs = _model(enforceEager=True), _model()
    pool = _pool("l4", 1, "on-demand")
    args = workload.render_args("m", eager, pool)
    assert "--enforce-eager" in args and "--enforce-eager" in accepted
    assert "--enforce-eager" not in workload.render_args("m", graphs, pool)
    assert coldstart.warmup_seconds(graphs) - coldstart.warmup_seconds(eager) == 30
    # From the hub (both over the ten-minute floor), the probe keeps its margin over the same
    # loading.
    assert coldstart.probe_seconds(graphs) - coldstart.probe_seconds(eager) == 2 * 30
