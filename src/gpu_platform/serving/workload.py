"""The vLLM StatefulSet of one model (pure data): arguments, resources, probes, volumes, security.

A StatefulSet rather than a Deployment: on a pool in one zone each replica keeps its own
model-cache volume across restarts, rescheduling and scale-down, so weights are downloaded once
per replica (see `cache_mode`). Updates replace one replica at a time and need no spare GPU for
a surge pod; a model running one replica is down while it reloads.

Pods run as a non-root user (uid 10000: above the ranges images and node accounts
use, so it owns no file it should not) with every capability dropped, no privilege escalation,
a read-only root filesystem and the RuntimeDefault seccomp profile, which the `restricted` Pod
Security level of the inference namespace requires. The vllm/vllm-openai image defaults to
root but needs no root: HOME points at a writable emptyDir, the model cache at a volume owned
through fsGroup.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from gpu_platform import catalog, labels, versions
from gpu_platform.catalog import Cloud
from gpu_platform.labels import MigStrategy
from gpu_platform.pools import NodePoolSpec, resolved_machine_types
from gpu_platform.serving.coldstart import probe_seconds
from gpu_platform.serving.placement import (
    drain_seconds,
    pool_label,
    render_placement,
    render_spread,
)
from gpu_platform.serving.rules import memory_utilization
from gpu_platform.serving.spec import ModelSpec

PORT = 8000
CACHE_DIR = "/cache"
UID = 10000
# What `pulumi up` waits for. Pulumi's StatefulSet await wants every replica of the live object
# Ready, and KEDA may have asked for replicas no spot capacity can give: the deployment would
# fail after its timeout although the model serves. Wait for the first Ready replica instead
# (`readyReplicas` is absent while it is zero); production's disruption budget waits for the
# rest of minReplicas (exposure.render_pdb). A model that scales to zero has nothing to wait for.
WAIT_FOR = "pulumi.com/waitFor"
SKIP_AWAIT = "pulumi.com/skipAwait"


def await_annotations(model: ModelSpec) -> dict[str, str]:
    if model.scales_to_zero:
        return {SKIP_AWAIT: "true"}
    return {WAIT_FOR: "jsonpath={.status.readyReplicas}"}


def app_labels(model_name: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "vllm",
        "app.kubernetes.io/instance": model_name,
        labels.PART_OF_LABEL: "gpu-platform",
    }


def served_names(model_name: str, model: ModelSpec) -> list[str]:
    """Names clients may use in requests; metrics carry the first as `model_name`."""
    return [model_name, model.source] if model.from_hub else [model_name]


def render_args(
    model_name: str, model: ModelSpec, pool: NodePoolSpec, weights: str | None = None
) -> list[str]:
    """Arguments of `vllm serve`; every flag is one vLLM accepts. `weights`: where a mirrored
    model's weights are (the model keeps its hub name for clients)."""
    args = [weights or model.source, "--served-model-name", *served_names(model_name, model)]
    args += ["--host", "0.0.0.0", "--port", str(PORT)]
    if model.revision is not None and weights is None:
        args += ["--revision", model.revision]
    if weights is not None or not model.from_hub:
        args += ["--load-format", "runai_streamer"]  # streams safetensors from s3:// or gs://
    args += [
        "--tensor-parallel-size",
        str(model.gpus_per_replica),
        "--max-model-len",
        str(model.max_model_len),
        "--dtype",
        model.dtype,
        "--gpu-memory-utilization",
        str(memory_utilization(model, pool)),
    ]
    if model.task == "embed":
        # The pooling runner serves /v1/embeddings; nothing is generated, so there is no
        # prefix to reuse between requests.
        args += ["--runner", "pooling"]
    else:
        args += ["--enable-prefix-caching"]
    if model.quantization is not None:
        args += ["--quantization", model.quantization]
    if model.enforce_eager:
        args += ["--enforce-eager"]
    return args


def render_resources(
    cloud: Cloud,
    model: ModelSpec,
    pools: NodePoolSpec | Sequence[NodePoolSpec],
    strategy: MigStrategy,
) -> dict[str, dict[str, Any]]:
    """CPU and memory: the replica's share of the smallest node type of its pools, less a
    quarter for the kubelet and node agents; GPUs: the resource the pools' nodes advertise (the
    same on every tier of a model)."""
    tiers = [pools] if isinstance(pools, NodePoolSpec) else list(pools)
    resource = next(iter(labels.advertised_resources(cloud, tiers[0], strategy)))
    millicpu, memory = math.inf, math.inf
    for tier in tiers:
        machines = [catalog.machine_type(cloud, t) for t in resolved_machine_types(cloud, tier)]
        smallest = min(machines, key=lambda m: (m.vcpus, m.memory_gib))  # type: ignore[union-attr]
        per_node = sum(labels.advertised_resources(cloud, tier, strategy).values())
        share = model.gpus_per_replica / per_node
        # Floors small enough that every GPU slot of a node still gets a pod.
        millicpu = min(millicpu, max(250, math.floor(smallest.vcpus * 1000 * share * 0.75)))  # type: ignore[union-attr]
        memory = min(memory, max(2, math.floor(smallest.memory_gib * share * 0.75)))  # type: ignore[union-attr]
    gpus = str(model.gpus_per_replica)
    return {
        "requests": {"cpu": f"{millicpu}m", "memory": f"{memory}Gi", resource: gpus},
        # No CPU limit: throttling the tokenizer and scheduler threads only adds latency.
        "limits": {"memory": f"{memory}Gi", resource: gpus},
    }


def shm_size_gib(model: ModelSpec, memory_gib: int) -> int:
    """Shared memory for NCCL between tensor-parallel workers; counted against the memory limit."""
    return max(1, min(2 * model.gpus_per_replica, memory_gib // 4))


CacheMode = Literal["per-replica", "per-pod", "none"]


def cache_mode(model: ModelSpec, zones: tuple[str, ...], streamed: bool = False) -> CacheMode:
    """Where a replica keeps downloaded weights.

    - none: object-store weights are streamed into GPU memory, not cached on disk;
    - per-replica: a claim per replica that outlives pods and scale-down, for pools in one zone
      (the volume is zonal, and a replica must stay where its volume is);
    - per-pod: a claim that lives as long as the pod (kept across container restarts), for
      pools spanning zones, so a rescheduled replica can land in any zone with capacity.
    """
    if streamed or not model.from_hub:
        return "none"
    return "per-replica" if len(zones) == 1 else "per-pod"


def cache_size_gib(model: ModelSpec) -> int:
    """Room for two revisions of 16-bit weights (whatever the quantization, so the size, which
    cannot change in place, stays put), rounded up to 50 GiB; `cacheGiB` overrides it."""
    if model.cache_gib is not None:
        return model.cache_gib
    weights = model.parameters_b * 1e9 * 2 / 2**30
    return 50 * math.ceil((2 * weights + 10) / 50)


def render_cache_claim(name: str, model: ModelSpec) -> dict:
    """The claim template of a per-replica or per-pod cache volume."""
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": f"{cache_size_gib(model)}Gi"}},
    }
    return {"metadata": {"name": "cache", "labels": app_labels(name)}, "spec": spec}


def _probe(path: str, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


def render_workload(
    *,
    name: str,
    namespace: str,
    model_name: str,
    model: ModelSpec,
    pools: Mapping[str, NodePoolSpec],
    cloud: Cloud,
    strategy: MigStrategy,
    hf_token_secret: str | None,
    zones: tuple[str, ...] = (),
    region: str | None = None,
    production: bool = False,
    weights: str | None = None,
    image: str | None = None,
) -> dict:
    """The model's StatefulSet; `pools` are its tiers in order, `zones` the zones they span,
    `weights` the mirror a hub model streams from, `image` where the nodes pull the server's
    image (default: the model's image or the pinned vLLM image)."""
    streamed = weights is not None or not model.from_hub
    probe = probe_seconds(model, "stream" if streamed else None)
    pool = next(iter(pools.values()))
    resources = render_resources(cloud, model, list(pools.values()), strategy)
    memory_gib = int(resources["limits"]["memory"].removesuffix("Gi"))
    shm_gib = shm_size_gib(model, memory_gib)
    env = [
        {"name": "HOME", "value": "/tmp"},
        # The uid has no passwd entry in the image; getpass.getuser() (torch) reads these first.
        {"name": "USER", "value": "vllm"},
        {"name": "LOGNAME", "value": "vllm"},
        {"name": "VLLM_NO_USAGE_STATS", "value": "1"},
        {"name": "DO_NOT_TRACK", "value": "1"},
    ]
    mode = cache_mode(model, zones, streamed)
    if mode != "none":
        env.append({"name": "HF_HOME", "value": f"{CACHE_DIR}/huggingface"})
    if streamed:
        # Everything comes from object storage: no hub lookup (which the network policy would
        # block wherever the store's addresses are known) delays the start.
        env.append({"name": "HF_HUB_OFFLINE", "value": "1"})
    if cloud == "aws" and streamed and region is not None:
        env.append({"name": "AWS_REGION", "value": region})  # the S3 client's endpoint
    if hf_token_secret is not None and not streamed:
        env.append(
            {
                "name": "HF_TOKEN",
                "valueFrom": {"secretKeyRef": {"name": hf_token_secret, "key": "HF_TOKEN"}},
            }
        )
    selector = app_labels(name)
    # Zones apart only across the zones of the first tier: a reservation in one zone keeps the
    # baseline there rather than pushing a replica onto the next tier.
    spread = render_spread(
        selector, model, list(pools.values()), tuple(pool.zones or zones), production, cloud
    )
    prestop, grace = drain_seconds(cloud, list(pools.values()))
    container = {
        "name": "vllm",
        "image": image or model.image or versions.VLLM_IMAGE,
        "command": ["vllm", "serve"],
        "args": render_args(model_name, model, pool, weights),
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "env": env,
        "resources": resources,
        # Sized from the cold-start estimate (gpu_platform/serving/coldstart.py).
        "startupProbe": _probe("/health", 10, math.ceil(probe / 10)),
        "readinessProbe": _probe("/health", 10, 3),
        "livenessProbe": _probe("/health", 15, 6),
        "lifecycle": {"preStop": {"sleep": {"seconds": prestop}}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "shm", "mountPath": "/dev/shm"},
            {"name": "tmp", "mountPath": "/tmp"},
            *([{"name": "cache", "mountPath": CACHE_DIR}] if mode != "none" else []),
        ],
    }
    volumes: list[dict[str, Any]] = [
        {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{shm_gib}Gi"}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "10Gi"}},
    ]
    if mode == "per-pod":
        template = render_cache_claim(name, model)
        volumes.append(
            {"name": "cache", "ephemeral": {"volumeClaimTemplate": {"spec": template["spec"]}}}
        )
    spec: dict[str, Any] = {
        "serviceName": name,
        "replicas": model.min_replicas,
        "revisionHistoryLimit": 5,
        # Scale out several replicas at once; updates replace one replica at a time.
        "podManagementPolicy": "Parallel",
        "updateStrategy": {"type": "RollingUpdate"},
        "selector": {"matchLabels": selector},
    }
    if mode == "per-replica":
        spec["volumeClaimTemplates"] = [render_cache_claim(name, model)]
        # Keep a scaled-down replica's weights for the next scale-up; delete with the model.
        spec["persistentVolumeClaimRetentionPolicy"] = {
            "whenDeleted": "Delete",
            "whenScaled": "Retain",
        }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": app_labels(name),
            "annotations": await_annotations(model),
        },
        "spec": {
            **spec,
            "template": {
                "metadata": {
                    # The pool a replica runs in, where there is only one (a tiered model's
                    # GPU series still carry the pool, from the node).
                    "labels": {**selector, **pool_label(pools)},
                    # cluster-autoscaler never evicts a model server to pack nodes tighter: a
                    # move costs minutes of reloading. Replicas go away when KEDA scales in,
                    # and the emptied node is removed then; drains still honour the PDB.
                    "annotations": {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"},
                },
                "spec": {
                    "serviceAccountName": name,
                    "automountServiceAccountToken": False,
                    "priorityClassName": "inference",
                    **render_placement(cloud, pools),
                    "topologySpreadConstraints": spread,
                    "terminationGracePeriodSeconds": grace,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": UID,
                        "runAsGroup": UID,
                        "fsGroup": UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }
